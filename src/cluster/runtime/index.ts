/**
 * The cluster, running inside a broker process: heartbeats over TCP,
 * liveness on a timer, the controller epoch on disk, the metadata image
 * pushed by the controller and persisted by every broker, and the way to the
 * controller. See docs/cluster.md.
 */
export {
  ClusterNode,
  type ClusterNodeHooks,
  type ClusterNodeOptions,
  type ClusterState,
  type ControllerEpochStore,
  memoryEpochStore,
} from './cluster-node.js';
export {
  type BrokerHeartbeatRequest,
  type BrokerHeartbeatResponse,
  type PeerChannel,
  type PeerTransport,
  connectionPeerChannel,
  connectionTransport,
  controllerChannelClientId,
  isForwarded,
} from './peer-transport.js';
export type { ClusterView, ControllerChannel, CreateTopicCall, ImageListener } from './channels.js';
export { clusterIdFor } from './cluster-id.js';
export {
  CLUSTER_METADATA_FILE,
  type MetadataStore,
  fileMetadataStore,
  memoryMetadataStore,
} from './metadata-store.js';
export { imageFromWire, imageToWire } from './image-wire.js';
export { ImageSync, type ImageSyncOptions, type PushAnswer } from './image-sync.js';
export {
  ControllerService,
  type ControllerServiceOptions,
  type Submitted,
} from './controller-service.js';
export { withConfiguredBrokers } from './take-over-image.js';
export { ClusterControllerChannel, type ChannelOptions } from './controller-channel.js';
export { ClusterRuntime, type ClusterRuntimeOptions, clusterRuntime } from './cluster-runtime.js';
