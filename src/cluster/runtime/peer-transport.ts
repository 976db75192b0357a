/**
 * How a broker reaches its peers. Two narrow interfaces, so that the node,
 * the controller service and the channel never see a socket and their tests
 * wire brokers to each other in memory:
 *
 * - `PeerTransport`: one BrokerHeartbeat to one broker (the ClusterNode);
 * - `PeerChannel`: any other request between brokers (the controller's
 *   pushes and snapshots, requests forwarded to the controller).
 *
 * Brokers use one pipelined client Connection per peer for each
 * (src/client/connection.ts), opened on first use and reopened after a
 * failure, not before its reconnect backoff. Two, not one, because a broker
 * answers the requests of one connection in order: a heartbeat must never
 * wait behind an UpdateMetadata whose image is being applied, or behind a
 * forwarded CreateTopics.
 */
import { Connection } from '../../client/connection.js';
import type { ApiName, RequestBody, ResponseBody } from '../../protocol/index.js';
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

export interface PeerChannel {
  /** One request to `peer`; rejects when it cannot be delivered or answered within `timeoutMs`. */
  request<A extends ApiName>(
    peer: BrokerEndpoint,
    api: A,
    body: RequestBody<A>,
    timeoutMs: number,
  ): Promise<ResponseBody<A>>;
  /** Closes every connection; requests in flight reject. */
  close(): Promise<void>;
}

/**
 * The clientId of the requests a broker sends its peers on the PeerChannel.
 * A broker that receives a CreateTopics, DeleteTopics or AlterConfigs under
 * it handles it as the controller or answers NOT_CONTROLLER, and never
 * forwards it again (what Kafka's EnvelopeRequest marks, KIP-590).
 */
export function controllerChannelClientId(brokerId: number): string {
  return `samsa-broker-${brokerId}-controller-channel`;
}

/** Whether a request came from another broker's controller channel (see above). */
export function isForwarded(clientId: string | undefined): boolean {
  return clientId !== undefined && /^samsa-broker-\d+-controller-channel$/.test(clientId);
}

/** Connections for the PeerChannel: retried from 50 ms, backing off to one heartbeat interval. */
export function connectionPeerChannel(config: ClusterConfig): PeerChannel {
  const connections = new Map<number, Connection>();
  const connectTimeoutMs = Math.max(1, Math.ceil(config.sessionTimeoutMs / 2));
  const connectionTo = (peer: BrokerEndpoint): Connection => {
    let connection = connections.get(peer.id);
    if (connection === undefined) {
      connection = new Connection(peer, {
        clientId: controllerChannelClientId(config.brokerId),
        connectTimeoutMs,
        reconnectBackoffMs: Math.min(50, config.heartbeatIntervalMs),
        reconnectBackoffMaxMs: config.heartbeatIntervalMs,
      });
      connections.set(peer.id, connection);
    }
    return connection;
  };
  return {
    request: (peer, api, body, timeoutMs) =>
      connectionTo(peer).request(api, body, { timeoutMs: Math.max(1, Math.ceil(timeoutMs)) }),
    close: async () => {
      const all = [...connections.values()];
      connections.clear();
      await Promise.all(all.map((c) => c.close()));
    },
  };
}
