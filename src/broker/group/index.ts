/**
 * The group coordinator (Kafka's classic consumer group protocol) and what
 * other parts of samsa use of it: the internal topic's name and rule, the
 * decoder of its records, the scheduler interface and its manual twin.
 * The design is written up in docs/groups.md.
 */
export { GroupCoordinator } from './coordinator.js';
export type { GroupCoordinatorOptions, GroupSnapshot } from './coordinator.js';
export type { GroupCluster } from './cluster.js';
export type { Caller } from './membership.js';
export {
  OFFSETS_TOPIC,
  isInternalTopic,
  javaStringHashCode,
  partitionForGroup,
} from './offsets-topic.js';
export { decodeOffsetsRecord } from './records.js';
export type { GroupMemberValue, GroupValue, OffsetValue, OffsetsRecord } from './records.js';
export { ManualScheduler, realScheduler } from './scheduler.js';
export type { Scheduler } from './scheduler.js';
export { GroupState, IllegalGroupTransitionError, VALID_PREVIOUS_STATES } from './state.js';
