/**
 * DeleteRecords: moves each partition's log start offset forward (-1: to the
 * high watermark); whole segments below it are deleted. An offset past the
 * high watermark (`Partition.highWatermark`, the one place it is defined) is
 * OFFSET_OUT_OF_RANGE. The deletion is done before the answer, so
 * `timeoutMs` (a wait for followers) never applies; the protocol range-checks
 * it (int32 ≥ 0).
 */
import { ProtocolError } from '../../protocol/index.js';
import { type Handler, itemError, requirePartition } from './context.js';

export const deleteRecords: Handler<'DeleteRecords'> = async (broker, body) => {
  const topics = [];
  for (const t of body.topics) {
    const partitions = [];
    for (const { partitionIndex, offset } of t.partitions) {
      try {
        const partition = requirePartition(broker, t.name, partitionIndex);
        const swapping = partition.ready();
        if (swapping !== undefined) await swapping;
        const highWatermark = partition.highWatermark;
        const target = offset === -1 ? highWatermark : offset;
        if (target > highWatermark)
          throw new ProtocolError(
            'OFFSET_OUT_OF_RANGE',
            `offset ${target} is past the high watermark ${highWatermark} of ${partition.name}`,
          );
        const lowWatermark = await partition.log.deleteRecordsBefore(target);
        partitions.push({ partitionIndex, lowWatermark, errorCode: 0 });
      } catch (err) {
        const e = itemError(broker, `deleting records of ${t.name}-${partitionIndex}`, err);
        partitions.push({ partitionIndex, lowWatermark: -1, errorCode: e.code });
      }
    }
    topics.push({ name: t.name, partitions });
  }
  return { topics };
};
