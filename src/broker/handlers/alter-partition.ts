/**
 * AlterPartition: a partition leader's proposed ISR. Only the broker acting
 * as the controller answers; any other answers NOT_CONTROLLER as a whole (the
 * leader's ControllerChannel then finds the controller). Each partition is
 * one controller event, refused with Kafka's error and the partition as it
 * stands, or applied and answered with the partition after the change, once
 * this broker (the controller) has applied the new image. A broker without
 * `--cluster` answers INVALID_REQUEST.
 */
import { clusterRuntime } from '../../cluster/runtime/index.js';
import { partitionOf } from '../../cluster/metadata-image.js';
import { ErrorCode, type ResponseBody } from '../../protocol/index.js';
import { type Handler, itemError } from './context.js';

type PartitionAnswer = ResponseBody<'AlterPartition'>['topics'][number]['partitions'][number];

export const alterPartition: Handler<'AlterPartition'> = async (broker, body) => {
  const runtime = clusterRuntime(broker);
  if (runtime === undefined) return { errorCode: ErrorCode.INVALID_REQUEST, topics: [] };
  if (!runtime.service.isActive()) return { errorCode: ErrorCode.NOT_CONTROLLER, topics: [] };
  const topics = [];
  for (const t of body.topics) {
    const partitions: PartitionAnswer[] = [];
    for (const p of t.partitions) {
      const { partitionIndex } = p;
      try {
        const after = await runtime.controllerOnly.alterPartition({
          brokerId: body.brokerId,
          topic: t.name,
          partition: partitionIndex,
          leaderEpoch: p.leaderEpoch,
          partitionEpoch: p.partitionEpoch,
          newIsr: p.newIsr,
        });
        partitions.push({
          partitionIndex,
          errorCode: ErrorCode.NONE,
          leaderId: after.leader,
          leaderEpoch: after.leaderEpoch,
          isr: [...after.isr],
          partitionEpoch: after.partitionEpoch,
        });
      } catch (err) {
        const e = itemError(broker, `AlterPartition of ${t.name}-${partitionIndex}`, err);
        const now = partitionOf(runtime.service.image() ?? runtime.image(), t.name, partitionIndex);
        partitions.push({
          partitionIndex,
          errorCode: e.code,
          leaderId: now?.leader ?? -1,
          leaderEpoch: now?.leaderEpoch ?? -1,
          isr: [...(now?.isr ?? [])],
          partitionEpoch: now?.partitionEpoch ?? -1,
        });
      }
    }
    topics.push({ name: t.name, partitions });
  }
  return { errorCode: ErrorCode.NONE, topics };
};
