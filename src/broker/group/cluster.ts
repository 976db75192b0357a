/**
 * The group coordinator in a cluster: what it reads of the cluster
 * (`GroupCluster`), and FindCoordinator's rule. The coordinator of a group
 * is the leader of its `__consumer_offsets` partition in the metadata image
 * (Kafka's rule), so any broker can answer from the image it applied. While
 * the topic does not exist, or the partition has no live leader, the answer
 * is COORDINATOR_NOT_AVAILABLE and the client asks again; a missing topic is
 * asked of the controller meanwhile (`offsetsTopicCreation`), as Kafka's
 * FindCoordinator auto-creates internal topics.
 *
 * Pure functions of the image and the settings: no state, no I/O.
 */
import { type MetadataImage, NO_LEADER, partitionOf } from '../../cluster/metadata-image.js';
import type { CreateTopicCall } from '../../cluster/runtime/channels.js';
import { ErrorCode } from '../../protocol/index.js';
import type { BrokerSettings } from '../config.js';
import { OFFSETS_TOPIC, partitionForGroup } from './offsets-topic.js';

/** What a coordinator in a cluster is given (GroupCoordinatorOptions.cluster). */
export interface GroupCluster {
  /** The metadata image this broker applied last (ClusterView.image). */
  image(): MetadataImage;
}

/** Whether the image has the partition (a commit for another is UNKNOWN_TOPIC_OR_PARTITION). */
export function imageHasPartition(image: MetadataImage, topic: string, partition: number): boolean {
  return partitionOf(image, topic, partition) !== undefined;
}

/** Kafka's `offsets.topic.replication.factor` default. */
export const DEFAULT_OFFSETS_TOPIC_REPLICATION_FACTOR = 3;

export type CoordinatorLookup =
  | {
      readonly found: true;
      readonly nodeId: number;
      readonly host: string;
      readonly port: number;
      readonly partition: number;
    }
  | {
      readonly found: false;
      /** COORDINATOR_NOT_AVAILABLE. */
      readonly errorCode: number;
      readonly message: string;
      /** True when the topic is not in the image: ask the controller to create it. */
      readonly createTopic: boolean;
    };

/** The broker coordinating `groupId` in `image`, or why there is none now. */
export function lookUpCoordinator(image: MetadataImage, groupId: string): CoordinatorLookup {
  const topic = Object.hasOwn(image.topics, OFFSETS_TOPIC)
    ? image.topics[OFFSETS_TOPIC]
    : undefined;
  if (topic === undefined || topic.partitions.length === 0)
    return {
      found: false,
      errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE,
      message: `${OFFSETS_TOPIC} does not exist yet; it is being created`,
      createTopic: true,
    };
  const partition = partitionForGroup(groupId, topic.partitions.length);
  const leader = topic.partitions[partition]!.leader;
  const broker = image.brokers.find((b) => b.id === leader);
  if (leader === NO_LEADER || broker === undefined || !broker.live)
    return {
      found: false,
      errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE,
      message: `${OFFSETS_TOPIC}-${partition} has no live leader`,
      createTopic: false,
    };
  return { found: true, nodeId: broker.id, host: broker.host, port: broker.port, partition };
}

/**
 * The CreateTopics call for `__consumer_offsets`: `offsets.topic.num.partitions`
 * partitions, `offsets.topic.replication.factor` replicas capped at the
 * brokers of the cluster (a cluster of two gets two), compacted.
 */
export function offsetsTopicCreation(
  settings: BrokerSettings,
  image: MetadataImage,
  configs: Readonly<Record<string, string>>,
): CreateTopicCall {
  const wanted = offsetsTopicReplicationFactor(settings);
  return {
    name: OFFSETS_TOPIC,
    partitions: settings['offsets.topic.num.partitions'],
    replicationFactor: Math.max(1, Math.min(wanted, image.brokers.length)),
    configs,
  };
}

/** `offsets.topic.replication.factor` when the broker has the setting, else Kafka's default. */
export function offsetsTopicReplicationFactor(settings: BrokerSettings): number {
  const v = (settings as unknown as Record<string, unknown>)['offsets.topic.replication.factor'];
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 1
    ? v
    : DEFAULT_OFFSETS_TOPIC_REPLICATION_FACTOR;
}
