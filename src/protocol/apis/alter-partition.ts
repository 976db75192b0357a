/**
 * AlterPartition: a partition leader asks the controller to change the
 * partition's ISR (shrink a follower that fell behind, expand one that
 * caught up). Only the controller answers; the change is real once the
 * controller has made it, and every broker learns it from the next image.
 *
 * AlterPartition Request (Version: 0) => brokerId topics
 *   brokerId => int32 ≥ 0             the leader sending it
 *   topics => [name partitions]
 *     name => string
 *     partitions => [partitionIndex leaderEpoch partitionEpoch newIsr]
 *       partitionIndex => int32 ≥ 0
 *       leaderEpoch => int32 ≥ 0      the leader epoch the sender leads in
 *       partitionEpoch => int32 ≥ 0   the partition epoch the sender knows
 *       newIsr => [int32 ≥ 0]         the ISR it proposes, the leader included
 *
 * AlterPartition Response (Version: 0) => errorCode topics
 *   errorCode => int16                NOT_CONTROLLER (41): ask the controller (the partitions are then empty)
 *   topics => [name partitions]
 *     name => string
 *     partitions => [partitionIndex errorCode leaderId leaderEpoch isr partitionEpoch]
 *       partitionIndex => int32 ≥ 0
 *       errorCode => int16            FENCED_LEADER_EPOCH, INVALID_UPDATE_VERSION, INELIGIBLE_REPLICA, ...
 *       leaderId => int32 ≥ -1        the partition after the request (refused: as it stands); -1: none or unknown
 *       leaderEpoch => int32 ≥ -1     -1: unknown partition
 *       isr => [int32 ≥ 0]
 *       partitionEpoch => int32 ≥ -1  -1: unknown partition
 *
 * The controller checks each partition in Kafka's order (docs/cluster.md,
 * *AlterPartition*). Kafka's AlterPartition (api key 56) also carries the
 * broker epoch, topic ids, the leader recovery state and, per new ISR
 * member, its broker epoch; samsa has no broker epochs or topic ids yet.
 */
import { array, int16, integer, nonNegativeInt32, string, struct, type Infer } from '../check.js';
import { defineApi } from './api.js';

const orNone = integer('an int32 ≥ -1', -1, 0x7fffffff);

const request = struct({
  brokerId: nonNegativeInt32,
  topics: array(
    struct({
      name: string,
      partitions: array(
        struct({
          partitionIndex: nonNegativeInt32,
          leaderEpoch: nonNegativeInt32,
          partitionEpoch: nonNegativeInt32,
          newIsr: array(nonNegativeInt32),
        }),
      ),
    }),
  ),
});

const response = struct({
  errorCode: int16,
  topics: array(
    struct({
      name: string,
      partitions: array(
        struct({
          partitionIndex: nonNegativeInt32,
          errorCode: int16,
          leaderId: orNone,
          leaderEpoch: orNone,
          isr: array(nonNegativeInt32),
          partitionEpoch: orNone,
        }),
      ),
    }),
  ),
});

export type AlterPartitionRequest = Infer<typeof request>;
export type AlterPartitionResponse = Infer<typeof response>;
export const alterPartitionApi = defineApi({ minVersion: 0, maxVersion: 0, request, response });
