/**
 * ListOffsets: -2 the earliest offset (the log start offset), -1 the latest,
 * anything else the first offset below the latest whose record timestamp is
 * ≥ it (offset -1 when none is that recent). The found record's own
 * timestamp is read from its batch; that decodes one batch, which is fine
 * off the hot path. The leader epoch answered is Kafka's: the epoch that
 * wrote the earliest offset, the latest epoch for -1, the found batch's
 * epoch for a timestamp; -1 when unknown.
 *
 * Who asks decides what "latest" means, as in Kafka (ListOffsetsRequest's
 * CONSUMER_REPLICA_ID -1 and DEBUGGING_REPLICA_ID -2):
 * - a consumer (replicaId -1 or absent) is answered by the leader only, and
 *   its latest is the high watermark: it never sees what is not committed.
 *   In cluster mode a broker the image does not name leader answers
 *   NOT_LEADER_OR_FOLLOWER; alone, this broker leads every partition.
 * - a replica or a tool (replicaId -2, or a broker id ≥ 0) may ask any
 *   replica, and its latest is that replica's log end offset (Kafka's
 *   isolation "none"); `samsa topics describe` shows every replica's this way.
 * In cluster mode a partition of a topic the image does not hold is
 * UNKNOWN_TOPIC_OR_PARTITION; one this broker has no log of (not a replica)
 * NOT_LEADER_OR_FOLLOWER.
 */
import { partitionOf } from '../../cluster/metadata-image.js';
import { decodeBatches } from '../../log/index.js';
import { type ListOffsetsResponse, OffsetSpec, ProtocolError } from '../../protocol/index.js';
import type { Partition } from '../partition.js';
import {
  type BrokerContext,
  type Handler,
  itemError,
  requirePartition,
  unknownPartition,
} from './context.js';

type PartitionResult = ListOffsetsResponse['topics'][number]['partitions'][number];

/** Kafka's ListOffsetsRequest.CONSUMER_REPLICA_ID and DEBUGGING_REPLICA_ID. */
export const CONSUMER_REPLICA_ID = -1;
export const DEBUGGING_REPLICA_ID = -2;

export const listOffsets: Handler<'ListOffsets'> = (broker, body) => {
  const consumer = (body.replicaId ?? CONSUMER_REPLICA_ID) === CONSUMER_REPLICA_ID;
  return {
    topics: body.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p): PartitionResult => {
        const { partitionIndex } = p;
        try {
          checkServes(broker, t.name, partitionIndex, consumer);
          const partition = requirePartition(broker, t.name, partitionIndex, p.currentLeaderEpoch);
          partition.ensureOpen();
          const upTo = consumer ? partition.highWatermark : partition.logEndOffset;
          return { partitionIndex, errorCode: 0, ...offsetFor(partition, p.timestamp, upTo) };
        } catch (err) {
          const e = itemError(broker, `listing offsets of ${t.name}-${partitionIndex}`, err);
          return { partitionIndex, errorCode: e.code, timestamp: -1, offset: -1, leaderEpoch: -1 };
        }
      }),
    })),
  };
};

/** In cluster mode: the partition is in the image, this broker holds a replica, and leads it for a consumer. */
function checkServes(broker: BrokerContext, topic: string, index: number, consumer: boolean): void {
  const view = broker.clusterView;
  if (view === undefined) return;
  const registration = partitionOf(view.image(), topic, index);
  if (registration === undefined) throw unknownPartition(topic, index);
  const self = broker.meta.brokerId;
  if (consumer ? registration.leader !== self : !registration.replicas.includes(self))
    throw new ProtocolError(
      'NOT_LEADER_OR_FOLLOWER',
      consumer
        ? `broker ${self} does not lead ${topic}-${index}`
        : `broker ${self} holds no replica of ${topic}-${index}`,
    );
  if (broker.topics.partition(topic, index) === undefined)
    throw new ProtocolError(
      'NOT_LEADER_OR_FOLLOWER',
      `broker ${self} has no log of ${topic}-${index} yet`,
    );
}

interface Found {
  timestamp: number;
  offset: number;
  leaderEpoch: number;
}

/** The offset for `timestamp`, looking only below `upTo` (the HW for a consumer, else the log end). */
function offsetFor(partition: Partition, timestamp: number, upTo: number): Found {
  const epochs = partition.log.epochs;
  if (timestamp === OffsetSpec.EARLIEST) {
    const offset = partition.logStartOffset;
    return { timestamp: -1, offset, leaderEpoch: epochs.epochForOffset(offset) ?? -1 };
  }
  if (timestamp === OffsetSpec.LATEST)
    return { timestamp: -1, offset: upTo, leaderEpoch: epochs.latestEpoch ?? -1 };
  const none = { timestamp: -1, offset: -1, leaderEpoch: -1 };
  const offset = partition.log.offsetForTimestamp(timestamp);
  if (offset === undefined || offset >= upTo) return none;
  for (const batch of decodeBatches(partition.log.read(offset, { maxBytes: 1 }))) {
    const record = batch.records.find((r) => r.offset >= offset && r.timestamp >= timestamp);
    const leaderEpoch = Math.max(batch.partitionLeaderEpoch, -1);
    if (record !== undefined && record.offset >= upTo) return none;
    if (record !== undefined)
      return { timestamp: record.timestamp, offset: record.offset, leaderEpoch };
  }
  return { ...none, offset };
}
