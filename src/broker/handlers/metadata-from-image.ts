/**
 * Metadata in cluster mode, from the metadata image this broker applied
 * last: a pure mapping, so that what clients are told is exactly what the
 * controller decided (Kafka's KRaft brokers answer from their MetadataImage
 * the same way).
 *
 * - brokers: the image's live brokers (Kafka: the unfenced ones), at the
 *   address the image gives them, by id; controllerId: the image's.
 * - per partition: the image's leader, leaderEpoch, replicas and ISR, and
 *   as offlineReplicas the replicas not live in the image. A partition
 *   without a leader answers LEADER_NOT_AVAILABLE (5) with leader -1, as
 *   Kafka does; its replicas and ISR are still listed.
 * - a topic not in the image answers UNKNOWN_TOPIC_OR_PARTITION.
 */
import {
  type MetadataImage,
  NO_LEADER,
  type PartitionRegistration,
  type TopicImage,
} from '../../cluster/metadata-image.js';
import { ErrorCode, type MetadataResponse } from '../../protocol/index.js';
import { isInternalTopic } from '../group/index.js';

type TopicMetadata = MetadataResponse['topics'][number];
type PartitionMetadata = TopicMetadata['partitions'][number];

/** The live brokers of the image, by id, and its controller (-1 before the first one). */
export function brokersFromImage(image: MetadataImage): {
  brokers: MetadataResponse['brokers'];
  controllerId: number;
} {
  const brokers = image.brokers
    .filter((b) => b.live)
    .map((b) => ({ nodeId: b.id, host: b.host, port: b.port, rack: null }));
  return { brokers, controllerId: image.controllerId };
}

/** Every topic of the image, by name. */
export function allTopicsFromImage(image: MetadataImage): TopicMetadata[] {
  return Object.keys(image.topics)
    .sort()
    .map((name) => topicMetadataOf(image, image.topics[name]!));
}

/** One topic as the image has it; UNKNOWN_TOPIC_OR_PARTITION (no partitions) when it has none by that name. */
export function topicFromImage(image: MetadataImage, name: string): TopicMetadata {
  if (!Object.hasOwn(image.topics, name))
    return {
      errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      name,
      isInternal: isInternalTopic(name),
      partitions: [],
    };
  return topicMetadataOf(image, image.topics[name]!);
}

function topicMetadataOf(image: MetadataImage, topic: TopicImage): TopicMetadata {
  const live = new Set(image.brokers.filter((b) => b.live).map((b) => b.id));
  return {
    errorCode: ErrorCode.NONE,
    name: topic.name,
    isInternal: isInternalTopic(topic.name),
    partitions: topic.partitions.map((p, index) => partitionMetadataOf(p, index, live)),
  };
}

function partitionMetadataOf(
  p: PartitionRegistration,
  partitionIndex: number,
  live: ReadonlySet<number>,
): PartitionMetadata {
  return {
    errorCode: p.leader === NO_LEADER ? ErrorCode.LEADER_NOT_AVAILABLE : ErrorCode.NONE,
    partitionIndex,
    leaderId: p.leader,
    leaderEpoch: p.leaderEpoch,
    replicaNodes: [...p.replicas],
    isrNodes: [...p.isr],
    offlineReplicas: p.replicas.filter((r) => !live.has(r)),
  };
}
