/**
 * Fetch: read record batches from partitions (consumers and followers).
 *
 * Fetch Request (Version: 0) => replicaId maxWaitMs minBytes maxBytes isolationLevel topics
 *   replicaId => optional int32        the follower's broker id; absent or -1 for a consumer
 *   maxWaitMs => int32 ≥ 0             wait at most this long for minBytes to accumulate
 *   minBytes => int32 ≥ 0              answer as soon as this many bytes are ready
 *   maxBytes => int32 ≥ 0              a soft cap on the whole response (see below)
 *   isolationLevel => optional int8    0: read uncommitted (default), 1: read committed
 *   topics => [name partitions]
 *     name => string
 *     partitions => [partitionIndex currentLeaderEpoch fetchOffset lastFetchedEpoch logStartOffset partitionMaxBytes]
 *       partitionIndex => int32 ≥ 0
 *       currentLeaderEpoch => optional int32  fences a stale leader; absent or -1: not checked
 *       fetchOffset => int64               the first offset wanted
 *       lastFetchedEpoch => optional int32  the epoch of the fetcher's last record; absent or -1: not checked
 *       logStartOffset => optional int64   a follower's log start offset
 *       partitionMaxBytes => int32 ≥ 0     a soft cap for this partition
 *
 * Fetch Response (Version: 0) => topics
 *   topics => [name partitions]
 *     name => string
 *     partitions => [partitionIndex errorCode highWatermark lastStableOffset logStartOffset divergingEpoch records]
 *       partitionIndex => int32 ≥ 0
 *       errorCode => int16
 *       highWatermark => int64             -1 on error
 *       lastStableOffset => int64          -1 when unknown
 *       logStartOffset => int64            -1 on error
 *       divergingEpoch => epoch endOffset  optional: absent unless the fetcher's log diverges
 *         epoch => int32                   the largest epoch ≤ lastFetchedEpoch in the leader's log
 *         endOffset => int64               where it ends there: truncate to at most this
 *       records => bytes                   whole batches as stored; empty when none (or diverging)
 *
 * The caps are soft, as in Kafka: the first batch of the first non-empty
 * partition is returned even if it is larger, so a consumer always progresses.
 * The first batch may start before fetchOffset (a batch is never split):
 * clients skip the records below it. Kafka may cut the last batch short;
 * samsa sends whole batches, but a client should still ignore an incomplete
 * batch at the end. Negative sizes give INVALID_FETCH_SIZE (4).
 *
 * A follower (replicaId ≥ 0) reads up to the log end offset, a consumer up
 * to the high watermark. With lastFetchedEpoch the leader checks that the
 * fetcher's log agrees with its own (KIP-595): if that epoch ends earlier
 * in the leader's log, or the leader never had it, the answer carries
 * divergingEpoch and no records, and the fetcher truncates before it
 * fetches again; an epoch the leader cannot place is OFFSET_OUT_OF_RANGE (1).
 */
import {
  array,
  bytes,
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

const fetchSize = integer('an int32 ≥ 0', 0, 0x7fffffff, 'INVALID_FETCH_SIZE');

const request = struct({
  replicaId: optional(int32),
  maxWaitMs: nonNegativeInt32,
  minBytes: nonNegativeInt32,
  maxBytes: fetchSize,
  isolationLevel: optional(oneOf([0, 1])),
  topics: array(
    struct({
      name: string,
      partitions: array(
        struct({
          partitionIndex: nonNegativeInt32,
          currentLeaderEpoch: optional(int32),
          fetchOffset: int64,
          lastFetchedEpoch: optional(int32),
          logStartOffset: optional(int64),
          partitionMaxBytes: fetchSize,
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
          highWatermark: int64,
          lastStableOffset: int64,
          logStartOffset: int64,
          divergingEpoch: optional(struct({ epoch: int32, endOffset: int64 })),
          records: bytes,
        }),
      ),
    }),
  ),
});

export type FetchRequest = Infer<typeof request>;
export type FetchResponse = Infer<typeof response>;
export const fetchApi = defineApi({ minVersion: 0, maxVersion: 0, request, response });
