/**
 * The cluster, running inside a broker process: heartbeats over TCP,
 * liveness on a timer, the controller epoch on disk. See docs/cluster.md.
 */
export {
  ClusterNode,
  type ClusterNodeOptions,
  type ClusterState,
  type ControllerEpochStore,
  memoryEpochStore,
} from './cluster-node.js';
export {
  type BrokerHeartbeatRequest,
  type BrokerHeartbeatResponse,
  type PeerTransport,
  connectionTransport,
} from './peer-transport.js';
