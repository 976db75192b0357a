/**
 * What a handler sees of the broker, and the shape every handler has. A
 * handler is a function from a request body to a response body; it reports a
 * per-item failure as an `errorCode` in the body, and throws only when the
 * request as a whole fails (the broker then answers with an error response).
 */
import type { Clock, Logger } from '../../log/index.js';
import {
  type ApiName,
  ProtocolError,
  type RequestBody,
  type ResponseBody,
  toProtocolError,
} from '../../protocol/index.js';
import type { ClusterNode } from '../../cluster/runtime/index.js';
import type { ClusterView } from '../../cluster/runtime/channels.js';
import type { BrokerConfig } from '../config.js';
import type { BrokerMeta } from '../data-dir.js';
import type { GroupCoordinator } from '../group/index.js';
import type { Partition } from '../partition.js';
import type { ReplicaManager } from '../replica/index.js';
import type { TopicManager } from '../topics.js';

export interface BrokerContext {
  readonly meta: BrokerMeta;
  readonly config: BrokerConfig;
  readonly topics: TopicManager;
  /** The consumer group coordinator (src/broker/group/). */
  readonly groups: GroupCoordinator;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Where clients reach this broker, once a server listens; undefined in process only. */
  readonly listener: { host: string; port: number } | undefined;
  /** The cluster this broker belongs to (`--cluster`); undefined for a cluster of one. */
  readonly cluster: ClusterNode | undefined;
  /** In cluster mode, the applied metadata image and the way to the controller (channels.ts). */
  readonly clusterView?: ClusterView;
  /** In cluster mode, the replicas of this broker: roles, fetchers, ISR, acks=all (src/broker/replica/). */
  readonly replicas?: ReplicaManager;
  /** True once the broker has begun to stop: long polls answer at once. */
  readonly shuttingDown: boolean;
  /** Calls `fn` when the broker begins to stop; returns the unsubscribe. */
  onShutdown(fn: () => void): () => void;
}

/** What the transport tells a handler, and lets it tell back. */
export interface RequestContext {
  /**
   * Called by a handler that is about to wait (a long-polling fetch): the
   * connection may start the next request meanwhile. Requests on a
   * connection otherwise run one after another, in order.
   */
  parked?(): void;
  /** The request's `clientId` (the broker fills it in from the envelope). */
  clientId?: string;
  /** Where the request came from, as Kafka shows it (`/127.0.0.1`); absent in process. */
  clientHost?: string;
}

export type Handler<A extends ApiName> = (
  broker: BrokerContext,
  body: RequestBody<A>,
  ctx: RequestContext,
) => ResponseBody<A> | Promise<ResponseBody<A>>;

/** The error for one item of a response; an unexpected one is logged, since its message says little. */
export function itemError(broker: BrokerContext, what: string, error: unknown): ProtocolError {
  const e = toProtocolError(error);
  if (e.name === 'UNKNOWN_SERVER_ERROR') {
    const cause = e.cause instanceof Error ? (e.cause.stack ?? e.cause.message) : String(e.cause);
    broker.logger.error(`${what} failed unexpectedly: ${cause}`);
  }
  return e;
}

export const unknownPartition = (topic: string, index: number) =>
  new ProtocolError('UNKNOWN_TOPIC_OR_PARTITION', `no partition ${index} of topic '${topic}'`);

/**
 * The partition a request names, or UNKNOWN_TOPIC_OR_PARTITION; the
 * request's `currentLeaderEpoch`, when it gives one, checked against it.
 */
export function requirePartition(
  broker: BrokerContext,
  topic: string,
  index: number,
  currentLeaderEpoch?: number,
): Partition {
  const partition = broker.topics.partition(topic, index);
  if (partition === undefined) throw unknownPartition(topic, index);
  checkLeaderEpoch(currentLeaderEpoch, partition.leaderEpoch);
  return partition;
}

/**
 * Checks a request's leader epoch against the partition's (Kafka's
 * fencing): an older one is FENCED_LEADER_EPOCH (the client's metadata is
 * stale), a newer one UNKNOWN_LEADER_EPOCH (this broker's is); -1 or absent
 * skips the check.
 */
export function checkLeaderEpoch(epoch: number | undefined, current: number): void {
  if (epoch === undefined || epoch === -1 || epoch === current) return;
  if (epoch < current) throw new ProtocolError('FENCED_LEADER_EPOCH');
  throw new ProtocolError('UNKNOWN_LEADER_EPOCH');
}
