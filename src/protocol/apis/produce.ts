/**
 * Produce: append record batches to partitions.
 *
 * Produce Request (Version: 0) => acks timeoutMs topics
 *   acks => int16                 -1: all in-sync replicas, 0: none, 1: the leader
 *   timeoutMs => int32 ≥ 0        how long acks=-1 may wait for the in-sync replicas
 *   topics => [name partitions]
 *     name => string
 *     partitions => [partitionIndex records]
 *       partitionIndex => int32 ≥ 0
 *       records => bytes          one or more RecordBatch v2 (magic 2), untouched
 *
 * Produce Response (Version: 0) => topics
 *   topics => [name partitions]
 *     name => string
 *     partitions => [partitionIndex errorCode errorMessage baseOffset logAppendTimeMs logStartOffset]
 *       partitionIndex => int32 ≥ 0
 *       errorCode => int16
 *       errorMessage => nullable string
 *       baseOffset => int64       the offset given to the first record; -1 on error
 *       logAppendTimeMs => int64  the broker's time if the topic uses LogAppendTime, else -1
 *       logStartOffset => int64   -1 on error
 *
 * Kafka names the lists topicData/partitionData (request) and
 * responses/partitionResponses (response), and the partition `index`.
 * acks outside {-1, 0, 1} is refused with INVALID_REQUIRED_ACKS (21).
 * Unlike Kafka, acks=0 is still answered (see docs/protocol.md).
 */
import {
  array,
  bytes,
  int16,
  int64,
  nonNegativeInt32,
  nullable,
  oneOf,
  string,
  struct,
  type Infer,
} from '../check.js';
import { defineApi } from './api.js';

const request = struct({
  acks: oneOf([-1, 0, 1], 'INVALID_REQUIRED_ACKS'),
  timeoutMs: nonNegativeInt32,
  topics: array(
    struct({
      name: string,
      partitions: array(struct({ partitionIndex: nonNegativeInt32, records: bytes })),
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
          errorMessage: nullable(string),
          baseOffset: int64,
          logAppendTimeMs: int64,
          logStartOffset: int64,
        }),
      ),
    }),
  ),
});

export type ProduceRequest = Infer<typeof request>;
export type ProduceResponse = Infer<typeof response>;
export const produceApi = defineApi({ minVersion: 0, maxVersion: 0, request, response });
