/**
 * OffsetsForLeaderEpoch: where a leader epoch ends in the partition leader's log.
 *
 * OffsetsForLeaderEpoch Request (Version: 0) => replicaId topics
 *   replicaId => optional int32        the follower's broker id; -1 a consumer, -2 (default) a debug tool
 *   topics => [name partitions]
 *     name => string
 *     partitions => [partitionIndex currentLeaderEpoch leaderEpoch]
 *       partitionIndex => int32 ≥ 0
 *       currentLeaderEpoch => optional int32  fences a stale caller; absent or -1: not checked
 *       leaderEpoch => int32               the epoch asked about: the caller's latest
 *
 * OffsetsForLeaderEpoch Response (Version: 0) => topics
 *   topics => [name partitions]
 *     name => string
 *     partitions => [errorCode partitionIndex leaderEpoch endOffset]
 *       errorCode => int16
 *       partitionIndex => int32 ≥ 0
 *       leaderEpoch => int32               the largest epoch ≤ the one asked about; -1 when none
 *       endOffset => int64                 where that epoch ends (exclusive); -1 when unknown
 *
 * The answer comes from the leader's epoch cache, as Kafka's: the latest
 * epoch ends at the log end offset; an older one where the next epoch after
 * the one asked about starts; an epoch older than every entry is answered
 * as asked, ending where the first entry starts. An epoch newer than the
 * latest, -1, or a log without epochs answers -1 and -1, with no error.
 */
import {
  array,
  int16,
  int32,
  int64,
  nonNegativeInt32,
  optional,
  string,
  struct,
  type Infer,
} from '../check.js';
import { defineApi } from './api.js';

const request = struct({
  replicaId: optional(int32),
  topics: array(
    struct({
      name: string,
      partitions: array(
        struct({
          partitionIndex: nonNegativeInt32,
          currentLeaderEpoch: optional(int32),
          leaderEpoch: int32,
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
          errorCode: int16,
          partitionIndex: nonNegativeInt32,
          leaderEpoch: int32,
          endOffset: int64,
        }),
      ),
    }),
  ),
});

export type OffsetsForLeaderEpochRequest = Infer<typeof request>;
export type OffsetsForLeaderEpochResponse = Infer<typeof response>;
export const offsetsForLeaderEpochApi = defineApi({
  minVersion: 0,
  maxVersion: 0,
  request,
  response,
});
