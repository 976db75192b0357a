/**
 * DeleteRecords: moves each partition's log start offset forward (-1: to the
 * high watermark); whole segments below it are deleted. An offset past the
 * high watermark (`Partition.highWatermark`, the one place it is defined) is
 * OFFSET_OUT_OF_RANGE. Only the leader answers (NOT_LEADER_OR_FOLLOWER
 * elsewhere). It deletes before the answer; followers move their log start
 * at their next fetch, which carries the leader's. Kafka waits for them up to
 * `timeoutMs`; samsa does not wait, so `timeoutMs` is only range-checked.
 */
import { ProtocolError } from '../../protocol/index.js';
import { servedPartition } from '../replica/serving.js';
import { type Handler, itemError } from './context.js';

export const deleteRecords: Handler<'DeleteRecords'> = async (broker, body) => {
  const topics = [];
  for (const t of body.topics) {
    const partitions = [];
    for (const { partitionIndex, offset } of t.partitions) {
      try {
        const partition = servedPartition(broker, t.name, partitionIndex);
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
