/**
 * OffsetCommit: store a group's committed offsets: the offset of the next
 * record each partition's consumer will read. A member commits with its
 * generation and member id (fenced if either is stale); a tool resetting an
 * empty group commits with generationId -1 and memberId "".
 *
 * OffsetCommit Request (Version: 0) => groupId generationId memberId topics
 *   groupId => string
 *   generationId => int32             -1: not a member (only while the group is empty)
 *   memberId => string                "": not a member
 *   topics => [name partitions]
 *     name => string
 *     partitions => [partitionIndex committedOffset committedLeaderEpoch committedMetadata]
 *       partitionIndex => int32 ≥ 0
 *       committedOffset => int64 ≥ 0
 *       committedLeaderEpoch => optional int32   -1 when unknown (the default)
 *       committedMetadata => nullable string
 *
 * OffsetCommit Response (Version: 0) => topics
 *   topics => [name partitions]
 *     name => string
 *     partitions => [partitionIndex errorCode]
 *       partitionIndex => int32 ≥ 0
 *       errorCode => int16
 */
import {
  array,
  int16,
  int32,
  nonNegativeInt32,
  nonNegativeInt64,
  nullable,
  optional,
  string,
  struct,
  type Infer,
} from '../check.js';
import { defineApi } from './api.js';

const request = struct({
  groupId: string,
  generationId: int32,
  memberId: string,
  topics: array(
    struct({
      name: string,
      partitions: array(
        struct({
          partitionIndex: nonNegativeInt32,
          committedOffset: nonNegativeInt64,
          committedLeaderEpoch: optional(int32),
          committedMetadata: nullable(string),
        }),
      ),
    }),
  ),
});

const response = struct({
  topics: array(
    struct({
      name: string,
      partitions: array(struct({ partitionIndex: nonNegativeInt32, errorCode: int16 })),
    }),
  ),
});

export type OffsetCommitRequest = Infer<typeof request>;
export type OffsetCommitResponse = Infer<typeof response>;
export const offsetCommitApi = defineApi({ minVersion: 0, maxVersion: 0, request, response });
