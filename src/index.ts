/**
 * samsa: the package's main entry point. The log is also importable on its
 * own as 'samsa/log'; the broker and the client are exported from here.
 */
export * from './log/index.js';
export {
  Broker,
  BrokerServer,
  ManualScheduler,
  decodeOffsetsRecord,
  startBroker,
} from './broker/index.js';
export type {
  BrokerConfigInput,
  BrokerOptions,
  RunningBroker,
  Scheduler,
  StartBrokerOptions,
} from './broker/index.js';
export * from './client/index.js';
export { LocalCluster } from './cluster/local-cluster.js';
export type { LocalClusterOptions } from './cluster/local-cluster.js';
