/**
 * The seams between a broker's parts in a cluster, so that each can be
 * built and tested alone:
 *
 * - the metadata sync (src/cluster/runtime/) receives the controller's
 *   images, persists them, and hands each accepted one to an
 *   `ImageListener` (the broker's ReplicaManager, src/broker/replica/);
 * - the ReplicaManager and the request handlers reach the controller
 *   through a `ControllerChannel`, which talks to the controller in
 *   process when this broker is the controller, or forwards to it over
 *   the wire (Kafka's KIP-590 forwarding) when it is not.
 *
 * A `ControllerChannel` call resolves only once this broker has applied an
 * image that holds the change (so a client that created a topic through any
 * broker can produce to it at once), and rejects with a ProtocolError named
 * as Kafka names it (NOT_CONTROLLER, FENCED_LEADER_EPOCH,
 * INVALID_UPDATE_VERSION, TOPIC_ALREADY_EXISTS, INVALID_REPLICATION_FACTOR,
 * UNKNOWN_TOPIC_OR_PARTITION, REQUEST_TIMED_OUT, ...).
 */
import type { AlterPartitionRequest } from '../alter-partition.js';
import type { MetadataImage, PartitionRegistration } from '../metadata-image.js';

export interface ImageListener {
  /**
   * Called once per accepted image, in order, never two at once; `before` is
   * the image applied last (the persisted one at start-up, or the empty
   * image). The image is persisted before this is called.
   */
  applyImage(before: MetadataImage, after: MetadataImage): Promise<void>;
}

export interface CreateTopicCall {
  readonly name: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly configs: Readonly<Record<string, string>>;
  readonly validateOnly?: boolean;
}

export interface ControllerChannel {
  /** The ISR change a leader proposes; resolves with the partition after the change. */
  alterPartition(request: AlterPartitionRequest): Promise<PartitionRegistration>;
  createTopic(request: CreateTopicCall): Promise<void>;
  deleteTopic(name: string): Promise<void>;
  /** A null value removes the key (back to the broker default). */
  alterTopicConfigs(
    name: string,
    configs: Readonly<Record<string, string | null>>,
    validateOnly?: boolean,
  ): Promise<void>;
}

/** What the broker's handlers may read of the cluster's metadata. */
export interface ClusterView {
  /** The image this broker applied last. */
  image(): MetadataImage;
  readonly channel: ControllerChannel;
}
