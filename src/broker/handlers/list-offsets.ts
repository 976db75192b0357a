/**
 * ListOffsets: -2 the earliest offset (the log start offset), -1 the latest
 * (the high watermark), anything else the first offset whose record
 * timestamp is ≥ it (offset -1 when none is that recent). The found record's
 * own timestamp is read from its batch; that decodes one batch, which is
 * fine off the hot path.
 */
import { decodeBatches } from '../../log/index.js';
import { type ListOffsetsResponse, OffsetSpec } from '../../protocol/index.js';
import type { Partition } from '../partition.js';
import {
  type Handler,
  LEADER_EPOCH,
  checkLeaderEpoch,
  itemError,
  unknownPartition,
} from './context.js';

type PartitionResult = ListOffsetsResponse['topics'][number]['partitions'][number];

export const listOffsets: Handler<'ListOffsets'> = (broker, body) => ({
  topics: body.topics.map((t) => ({
    name: t.name,
    partitions: t.partitions.map((p): PartitionResult => {
      const { partitionIndex } = p;
      try {
        const partition = broker.topics.partition(t.name, partitionIndex);
        if (partition === undefined) throw unknownPartition(t.name, partitionIndex);
        checkLeaderEpoch(p.currentLeaderEpoch);
        partition.ensureOpen();
        const found = offsetFor(partition, p.timestamp);
        return { partitionIndex, errorCode: 0, ...found, leaderEpoch: LEADER_EPOCH };
      } catch (err) {
        const e = itemError(broker, `listing offsets of ${t.name}-${partitionIndex}`, err);
        return { partitionIndex, errorCode: e.code, timestamp: -1, offset: -1, leaderEpoch: -1 };
      }
    }),
  })),
});

function offsetFor(partition: Partition, timestamp: number): { timestamp: number; offset: number } {
  if (timestamp === OffsetSpec.EARLIEST) return { timestamp: -1, offset: partition.logStartOffset };
  if (timestamp === OffsetSpec.LATEST) return { timestamp: -1, offset: partition.highWatermark };
  const offset = partition.log.offsetForTimestamp(timestamp);
  if (offset === undefined || offset >= partition.highWatermark)
    return { timestamp: -1, offset: -1 };
  for (const batch of decodeBatches(partition.log.read(offset, { maxBytes: 1 }))) {
    const record = batch.records.find((r) => r.offset >= offset && r.timestamp >= timestamp);
    if (record !== undefined) return { timestamp: record.timestamp, offset: record.offset };
  }
  return { timestamp: -1, offset };
}
