/**
 * ListOffsets: the offset for a time, or a partition's earliest or latest offset.
 *
 * ListOffsets Request (Version: 0) => replicaId isolationLevel topics
 *   replicaId => optional int32        absent or -1 for a consumer
 *   isolationLevel => optional int8    0: read uncommitted (default), 1: read committed
 *   topics => [name partitions]
 *     name => string
 *     partitions => [partitionIndex currentLeaderEpoch timestamp]
 *       partitionIndex => int32 ≥ 0
 *       currentLeaderEpoch => optional int32
 *       timestamp => int64 ≥ -2     -1: the latest offset (the high watermark),
 *                                   -2: the earliest (the log start offset),
 *                                   else ms: the first offset whose timestamp is ≥ it
 *
 * ListOffsets Response (Version: 0) => topics
 *   topics => [name partitions]
 *     name => string
 *     partitions => [partitionIndex errorCode timestamp offset leaderEpoch]
 *       partitionIndex => int32 ≥ 0
 *       errorCode => int16
 *       timestamp => int64          the found record's timestamp; -1 for -1/-2 or none
 *       offset => int64             -1 when no record is that recent
 *       leaderEpoch => int32        -1 when unknown
 */
import {
  array,
  int16,
  int32,
  int64,
  integer,
  nonNegativeInt32,
  oneOf,
  optional,
  string,
  struct,
  type Infer,
} from '../check.js';
import { defineApi } from './api.js';

/** The special timestamps of a ListOffsets request (Kafka's values). */
export const OffsetSpec = { LATEST: -1, EARLIEST: -2 } as const;

const request = struct({
  replicaId: optional(int32),
  isolationLevel: optional(oneOf([0, 1])),
  topics: array(
    struct({
      name: string,
      partitions: array(
        struct({
          partitionIndex: nonNegativeInt32,
          currentLeaderEpoch: optional(int32),
          timestamp: integer('an int64 ≥ -2 (-1 latest, -2 earliest)', -2, Number.MAX_SAFE_INTEGER),
        }),
      ),
    }),
  ),
});

const response = struct({
  topics: array(
    struct({
      name: string,
      partitions: array(
        struct({
          partitionIndex: nonNegativeInt32,
          errorCode: int16,
          timestamp: int64,
          offset: int64,
          leaderEpoch: int32,
        }),
      ),
    }),
  ),
});

export type ListOffsetsRequest = Infer<typeof request>;
export type ListOffsetsResponse = Infer<typeof response>;
export const listOffsetsApi = defineApi({ minVersion: 0, maxVersion: 0, request, response });
