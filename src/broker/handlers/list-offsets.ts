/**
 * ListOffsets: -2 the earliest offset (the log start offset), -1 the latest
 * (the high watermark), anything else the first offset below the high
 * watermark whose record timestamp is ≥ it (offset -1 when none is that
 * recent). The found record's own timestamp is read from its batch; that
 * decodes one batch, which is fine off the hot path. The leader epoch
 * answered is Kafka's: the epoch that wrote the earliest offset, the latest
 * epoch for -1, the found batch's epoch for a timestamp; -1 when unknown.
 */
import { decodeBatches } from '../../log/index.js';
import { type ListOffsetsResponse, OffsetSpec } from '../../protocol/index.js';
import type { Partition } from '../partition.js';
import { type Handler, itemError, requirePartition } from './context.js';

type PartitionResult = ListOffsetsResponse['topics'][number]['partitions'][number];

export const listOffsets: Handler<'ListOffsets'> = (broker, body) => ({
  topics: body.topics.map((t) => ({
    name: t.name,
    partitions: t.partitions.map((p): PartitionResult => {
      const { partitionIndex } = p;
      try {
        const partition = requirePartition(broker, t.name, partitionIndex, p.currentLeaderEpoch);
        partition.ensureOpen();
        return { partitionIndex, errorCode: 0, ...offsetFor(partition, p.timestamp) };
      } catch (err) {
        const e = itemError(broker, `listing offsets of ${t.name}-${partitionIndex}`, err);
        return { partitionIndex, errorCode: e.code, timestamp: -1, offset: -1, leaderEpoch: -1 };
      }
    }),
  })),
});

interface Found {
  timestamp: number;
  offset: number;
  leaderEpoch: number;
}

function offsetFor(partition: Partition, timestamp: number): Found {
  const epochs = partition.log.epochs;
  if (timestamp === OffsetSpec.EARLIEST) {
    const offset = partition.logStartOffset;
    return { timestamp: -1, offset, leaderEpoch: epochs.epochForOffset(offset) ?? -1 };
  }
  if (timestamp === OffsetSpec.LATEST)
    return {
      timestamp: -1,
      offset: partition.highWatermark,
      leaderEpoch: epochs.latestEpoch ?? -1,
    };
  const none = { timestamp: -1, offset: -1, leaderEpoch: -1 };
  const offset = partition.log.offsetForTimestamp(timestamp);
  if (offset === undefined || offset >= partition.highWatermark) return none;
  for (const batch of decodeBatches(partition.log.read(offset, { maxBytes: 1 }))) {
    const record = batch.records.find((r) => r.offset >= offset && r.timestamp >= timestamp);
    const leaderEpoch = Math.max(batch.partitionLeaderEpoch, -1);
    if (record !== undefined)
      return { timestamp: record.timestamp, offset: record.offset, leaderEpoch };
  }
  return { ...none, offset };
}
