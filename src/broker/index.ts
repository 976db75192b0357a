/**
 * samsa's broker: topics and partitions over the log, the handlers of the
 * native protocol, a TCP server over them, and the embedded broker.
 *
 *   import { startBroker } from 'samsa';
 *   const broker = await startBroker({ port: 0 });   // a fresh temp data dir
 *   // ... connect to broker.host:broker.port ...
 *   await broker.close();                             // and it is gone
 */
export { Broker } from './broker.js';
export type { BrokerOptions } from './broker.js';
export { DEFAULT_BROKER_SETTINGS, TOPIC_DEFAULT_NAMES, resolveBrokerConfig } from './config.js';
export type { BrokerConfig, BrokerConfigInput, BrokerSettings } from './config.js';
export type { Timers, PassSummary, CleanerSummary } from './background.js';
export { InconsistentBrokerIdError, InconsistentClusterIdError } from './data-dir.js';
export { Partition } from './partition.js';
export type { Topic } from './topics.js';
export { MAX_TOPIC_NAME_LENGTH, topicNameProblem } from './topic-name.js';
export { HANDLERS } from './handlers/index.js';
export type { BrokerContext, Handler, RequestContext } from './handlers/index.js';
export { BrokerServer } from './server.js';
export type { ListenOptions } from './server.js';
export {
  GroupCoordinator,
  GroupState,
  ManualScheduler,
  OFFSETS_TOPIC,
  decodeOffsetsRecord,
  isInternalTopic,
  partitionForGroup,
  realScheduler,
} from './group/index.js';
export type { GroupValue, OffsetValue, OffsetsRecord, Scheduler } from './group/index.js';
export { EMBEDDED_GROUP_DEFAULTS, startBroker } from './embedded.js';
export type { RunningBroker, StartBrokerOptions } from './embedded.js';
