/**
 * DeleteRecords: moves each partition's log start offset forward (-1: to the
 * high watermark); whole segments below it are deleted. An offset past the
 * high watermark is OFFSET_OUT_OF_RANGE.
 */
import { ProtocolError } from '../../protocol/index.js';
import { type Handler, itemError, unknownPartition } from './context.js';

export const deleteRecords: Handler<'DeleteRecords'> = async (broker, body) => {
  const topics = [];
  for (const t of body.topics) {
    const partitions = [];
    for (const { partitionIndex, offset } of t.partitions) {
      try {
        const partition = broker.topics.partition(t.name, partitionIndex);
        if (partition === undefined) throw unknownPartition(t.name, partitionIndex);
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
