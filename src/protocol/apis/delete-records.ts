/**
 * DeleteRecords: move partitions' log start offsets forward (the records
 * before go; whole segments below it are deleted).
 *
 * DeleteRecords Request (Version: 0) => topics timeoutMs
 *   topics => [name partitions]
 *     name => string
 *     partitions => [partitionIndex offset]
 *       partitionIndex => int32 ≥ 0
 *       offset => int64 ≥ -1        delete every record below this offset; -1: the high watermark
 *   timeoutMs => int32 ≥ 0
 *
 * DeleteRecords Response (Version: 0) => topics
 *   topics => [name partitions]
 *     name => string
 *     partitions => [partitionIndex lowWatermark errorCode]
 *       partitionIndex => int32 ≥ 0
 *       lowWatermark => int64       the new log start offset; -1 on error
 *       errorCode => int16
 */
import {
  array,
  int16,
  int64,
  integer,
  nonNegativeInt32,
  string,
  struct,
  type Infer,
} from '../check.js';
import { defineApi } from './api.js';

const request = struct({
  topics: array(
    struct({
      name: string,
      partitions: array(
        struct({
          partitionIndex: nonNegativeInt32,
          offset: integer('an int64 ≥ -1 (-1: the high watermark)', -1, Number.MAX_SAFE_INTEGER),
        }),
      ),
    }),
  ),
  timeoutMs: nonNegativeInt32,
});

const response = struct({
  topics: array(
    struct({
      name: string,
      partitions: array(
        struct({ partitionIndex: nonNegativeInt32, lowWatermark: int64, errorCode: int16 }),
      ),
    }),
  ),
});

export type DeleteRecordsRequest = Infer<typeof request>;
export type DeleteRecordsResponse = Infer<typeof response>;
export const deleteRecordsApi = defineApi({ minVersion: 0, maxVersion: 0, request, response });
