/**
 * The rules of replication, Kafka's, as pure functions and one small file
 * format: no sockets, no broker. A broker Partition calls them; the tests and
 * the book drive them through a simulation (sim.ts). See docs/replication.md.
 */
export {
  type EpochEndOffset,
  type EpochEntry,
  LeaderEpochCache,
  UNDEFINED_EPOCH,
  UNDEFINED_EPOCH_END_OFFSET,
  UNDEFINED_EPOCH_OFFSET,
} from './leader-epoch-cache.js';
export {
  LEADER_EPOCH_CHECKPOINT_FILE,
  formatLeaderEpochCheckpoint,
  leaderEpochCheckpointPath,
  loadLeaderEpochCache,
  parseLeaderEpochCheckpoint,
  readLeaderEpochCheckpoint,
  writeLeaderEpochCheckpoint,
  writeLeaderEpochCheckpointSync,
} from './leader-epoch-checkpoint.js';
export {
  DEFAULT_REPLICA_LAG_TIME_MAX_MS,
  EMPTY_FOLLOWER_STATE,
  type FollowerFetch,
  type FollowerState,
  type ReplicaId,
  UNKNOWN_OFFSET,
  isCaughtUp,
  resetFollowerState,
  updateFollowerFetchState,
} from './replica-state.js';
export {
  type IsrView,
  isFollowerInSync,
  needsExpandIsr,
  outOfSyncReplicas,
  shrinkIsr,
} from './isr.js';
export {
  AcksAll,
  type LeaderHighWatermarkInput,
  acksAllStatus,
  followerHighWatermark,
  leaderHighWatermark,
} from './high-watermark.js';
export {
  type FetchEpochCheck,
  type FollowerLogView,
  type OffsetTruncationState,
  checkLastFetchedEpoch,
  epochToAsk,
  offsetTruncationState,
  reconcileWithLeader,
} from './divergence.js';
export {
  HIGH_WATERMARK_CHECKPOINT_FILE,
  type PartitionOffset,
  formatOffsetCheckpoint,
  parseOffsetCheckpoint,
  partitionKey,
  readOffsetCheckpoint,
  writeOffsetCheckpoint,
} from './high-watermark-checkpoint.js';
export {
  CorruptEpochCheckpointError,
  CorruptOffsetCheckpointError,
  ReplicationError,
  ReplicationErrorCode,
} from './errors.js';
export {
  SimCluster,
  type SimOptions,
  type SimRecord,
  SimReplica,
  type SimStats,
  commonPrefix,
} from './sim.js';
