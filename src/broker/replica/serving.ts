/**
 * Which error a request for a partition this broker does not serve gets, as
 * Kafka's ReplicaManager.getPartitionOrError answers: a partition the
 * cluster has (in the image) but this broker does not hold, or holds
 * without leading, is NOT_LEADER_OR_FOLLOWER (retriable: the client
 * refreshes its metadata and goes to the leader); one the cluster does not
 * have is UNKNOWN_TOPIC_OR_PARTITION. With one broker, the second only.
 */
import { partitionOf } from '../../cluster/metadata-image.js';
import { ProtocolError } from '../../protocol/index.js';
import { type BrokerContext, requirePartition, unknownPartition } from '../handlers/context.js';
import type { Partition } from '../partition.js';

/** The error for a partition this broker does not hold. */
export function notHere(broker: BrokerContext, topic: string, index: number): ProtocolError {
  const image = broker.clusterView?.image();
  if (image !== undefined && partitionOf(image, topic, index) !== undefined)
    return new ProtocolError(
      'NOT_LEADER_OR_FOLLOWER',
      `broker ${broker.meta.brokerId} holds no replica of ${topic}-${index}`,
    );
  return unknownPartition(topic, index);
}

/**
 * The partition a request names, its `currentLeaderEpoch` checked (FENCED_ or
 * UNKNOWN_LEADER_EPOCH), then that this broker leads it (NOT_LEADER_OR_FOLLOWER).
 */
export function servedPartition(
  broker: BrokerContext,
  topic: string,
  index: number,
  currentLeaderEpoch?: number,
): Partition {
  if (broker.topics.partition(topic, index) === undefined) throw notHere(broker, topic, index);
  const partition = requirePartition(broker, topic, index, currentLeaderEpoch);
  partition.ensureLeader();
  return partition;
}
