/**
 * How a ClusterNode reaches its peers: one BrokerHeartbeat to one broker,
 * its answer or a rejection. The node never sees a socket, so its tests
 * wire nodes to each other in memory; brokers use `connectionTransport`,
 * one pipelined client Connection per peer (src/client/connection.ts),
 * opened on the first heartbeat and reopened after a failure, not before
 * its reconnect backoff.
 */
import { Connection } from '../../client/connection.js';
import type { RequestBody, ResponseBody } from '../../protocol/index.js';
import type { BrokerEndpoint, ClusterConfig } from '../cluster-config.js';

export type BrokerHeartbeatRequest = RequestBody<'BrokerHeartbeat'>;
export type BrokerHeartbeatResponse = ResponseBody<'BrokerHeartbeat'>;

export interface PeerTransport {
  /** Sends one heartbeat to `peer`; rejects when it cannot be delivered or answered in time. */
  heartbeat(
    peer: BrokerEndpoint,
    request: BrokerHeartbeatRequest,
  ): Promise<BrokerHeartbeatResponse>;
  /** Closes every connection; heartbeats in flight reject. */
  close(): Promise<void>;
}

/**
 * Connections tuned for heartbeats: an answer later than half a session is
 * of no use (the peer would be counted dead meanwhile), so that is the
 * request timeout; a dead peer is retried from 50 ms, backing off to one
 * heartbeat interval.
 */
export function connectionTransport(config: ClusterConfig): PeerTransport {
  const connections = new Map<number, Connection>();
  const timeoutMs = Math.max(1, Math.ceil(config.sessionTimeoutMs / 2));
  const connectionTo = (peer: BrokerEndpoint): Connection => {
    let connection = connections.get(peer.id);
    if (connection === undefined) {
      connection = new Connection(peer, {
        clientId: `samsa-broker-${config.brokerId}`,
        requestTimeoutMs: timeoutMs,
        connectTimeoutMs: timeoutMs,
        reconnectBackoffMs: Math.min(50, config.heartbeatIntervalMs),
        reconnectBackoffMaxMs: config.heartbeatIntervalMs,
      });
      connections.set(peer.id, connection);
    }
    return connection;
  };
  return {
    heartbeat: (peer, request) => connectionTo(peer).request('BrokerHeartbeat', request),
    close: async () => {
      const all = [...connections.values()];
      connections.clear();
      await Promise.all(all.map((c) => c.close()));
    },
  };
}
