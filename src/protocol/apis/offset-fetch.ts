/**
 * OffsetFetch: a group's committed offsets. A partition with no commit
 * answers committedOffset -1 (and no error), so does an unknown group.
 *
 * OffsetFetch Request (Version: 0) => groupId topics
 *   groupId => string
 *   topics => nullable [name partitionIndexes]   nil: every partition the group has committed
 *     name => string
 *     partitionIndexes => [int32]
 *
 * OffsetFetch Response (Version: 0) => errorCode topics
 *   errorCode => int16                a group-level error (COORDINATOR_LOAD_IN_PROGRESS, ...)
 *   topics => [name partitions]
 *     name => string
 *     partitions => [partitionIndex committedOffset committedLeaderEpoch metadata errorCode]
 *       partitionIndex => int32 ≥ 0
 *       committedOffset => int64         -1: nothing committed
 *       committedLeaderEpoch => int32    -1 when unknown
 *       metadata => nullable string
 *       errorCode => int16
 */
import {
  array,
  int16,
  int32,
  int64,
  nonNegativeInt32,
  nullable,
  string,
  struct,
  type Infer,
} from '../check.js';
import { defineApi } from './api.js';

const request = struct({
  groupId: string,
  topics: nullable(array(struct({ name: string, partitionIndexes: array(nonNegativeInt32) }))),
});

const response = struct({
  errorCode: int16,
  topics: array(
    struct({
      name: string,
      partitions: array(
        struct({
          partitionIndex: nonNegativeInt32,
          committedOffset: int64,
          committedLeaderEpoch: int32,
          metadata: nullable(string),
          errorCode: int16,
        }),
      ),
    }),
  ),
});

export type OffsetFetchRequest = Infer<typeof request>;
export type OffsetFetchResponse = Infer<typeof response>;
export const offsetFetchApi = defineApi({ minVersion: 0, maxVersion: 0, request, response });
