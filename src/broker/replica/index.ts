/**
 * Replication in a broker of a cluster: the ReplicaManager (roles from the
 * controller's images, ISR changes), its follower fetchers, and acks=all.
 * See docs/replication.md.
 */
export {
  type LeadershipChange,
  ReplicaManager,
  type ReplicaManagerOptions,
} from './replica-manager.js';
export type { ReplicaClient } from './fetcher.js';
export { type AcksWait, acksMessage, acksOutcome, awaitAcks } from './delayed-acks.js';
export { notHere, servedPartition } from './serving.js';
