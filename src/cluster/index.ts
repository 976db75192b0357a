/**
 * The cluster's control plane, as pure functions: the static cluster
 * config, who is alive, the metadata image, replica placement, leader
 * elections, AlterPartition, and the controller step that ties them
 * together. No sockets, no files: a broker process runs them. See
 * docs/cluster.md.
 */
export {
  type BrokerEndpoint,
  type ClusterConfig,
  type ClusterConfigInput,
  DEFAULT_BROKER_HEARTBEAT_INTERVAL_MS,
  DEFAULT_BROKER_SESSION_TIMEOUT_MS,
  clusterConfig,
  formatClusterBrokers,
  parseClusterBrokers,
  peerIds,
} from './cluster-config.js';
export { Liveness, controllerAmong } from './liveness.js';
export {
  type BrokerRegistration,
  IMAGE_FORMAT_VERSION,
  type ImageVersion,
  type MetadataImage,
  NO_CONTROLLER,
  NO_LEADER,
  type PartitionRegistration,
  type TopicImage,
  acceptsPush,
  allPartitions,
  compareImageVersions,
  emptyImage,
  hasPreferredLeader,
  imageFromJson,
  imageToJson,
  isLiveBroker,
  liveBrokerIds,
  partitionOf,
  validateImage,
} from './metadata-image.js';
export {
  CONTROLLER_TOPIC_KEYS,
  DEFAULT_MIN_INSYNC_REPLICAS,
  DEFAULT_UNCLEAN_LEADER_ELECTION_ENABLE,
  MIN_INSYNC_REPLICAS,
  UNCLEAN_LEADER_ELECTION_ENABLE,
  checkTopicConfigs,
  logTopicConfigs,
  minInsyncReplicas,
  uncleanLeaderElectionEnabled,
} from './topic-configs.js';
export {
  type Placement,
  type PlacementOptions,
  placeReplicas,
  placementOptionsFor,
} from './placement.js';
export {
  Election,
  type PartitionChangeSpec,
  type PreferredElectionOutcome,
  changePartition,
  electLeader,
  electLeaderless,
  electPreferredLeader,
  fenceBroker,
  fenceBrokers,
  unfenceBroker,
  unfenceBrokers,
} from './elections.js';
export {
  type AlterPartitionRequest,
  alterPartition,
  validateAlterPartition,
} from './alter-partition.js';
export {
  type LeaderAndIsr,
  type LocalReplicaChanges,
  type PartitionChange,
  diffImages,
  localChanges,
} from './changes.js';
export {
  type ControllerEvent,
  type ControllerResult,
  applyEvent,
  committedMetadataOffset,
  newerImage,
  nextControllerEpoch,
} from './controller.js';
export {
  ClusterError,
  ClusterErrorCode,
  type ControllerError,
  ControllerErrorName,
} from './errors.js';
export {
  ClusterNode,
  type ClusterNodeHooks,
  type ClusterNodeOptions,
  type ClusterState,
  type ClusterView,
  type ControllerChannel,
  type ControllerEpochStore,
  type CreateTopicCall,
  type ImageListener,
  type PeerChannel,
  type PeerTransport,
  ClusterRuntime,
  clusterIdFor,
  connectionTransport,
  fileMetadataStore,
  memoryEpochStore,
  memoryMetadataStore,
} from './runtime/index.js';
