/**
 * The batches of one request for one partition, as the partition appends
 * them: split out of the request's bytes, all checked first when there are
 * several (so they go in whole or not at all, and the error names the first
 * refused batch), then appended one by one. The leader's appends patch
 * offsets and stamp its epoch; a follower's keep the leader's.
 */
import {
  type AppendResult,
  CorruptBatchError,
  InvalidRecordError,
  type Log,
  validateBatch,
} from '../log/index.js';

// RecordBatch v2: an i64 base offset, then an i32 length of the bytes after it.
const BATCH_LENGTH_POS = 8;
const LOG_OVERHEAD = 12;

/** How the batches go in: as the leader (offsets assigned, epoch stamped) or as a follower. */
export type AppendAs = { leaderEpoch: number } | { follower: true };

/** Appends every batch of `records` to `log`, whole or not at all; the first and last offsets. */
export function appendBatches(log: Log, records: Buffer, as: AppendAs): AppendResult {
  const batches = splitBatches(records);
  const fromLeader = 'follower' in as;
  if (batches.length > 1) for (const b of batches) validateBatch(b, log.config, { fromLeader });
  const options = fromLeader ? { assignOffsets: false } : { leaderEpoch: as.leaderEpoch };
  let first: AppendResult | undefined;
  let last: AppendResult | undefined;
  for (const batch of batches) {
    last = log.appendBatch(batch, options);
    first ??= last;
  }
  return { baseOffset: first!.baseOffset, lastOffset: last!.lastOffset, size: records.length };
}

/** The batches in a produce request's `records`, as views; throws on a length that does not add up. */
export function splitBatches(records: Buffer): Buffer[] {
  if (records.length === 0)
    throw new InvalidRecordError('a produce request needs at least one batch');
  const batches: Buffer[] = [];
  for (let pos = 0; pos < records.length;) {
    if (records.length - pos < LOG_OVERHEAD)
      throw new CorruptBatchError(
        `${records.length - pos} bytes at ${pos} are too few for a batch`,
        pos,
      );
    const size = LOG_OVERHEAD + records.readInt32BE(pos + BATCH_LENGTH_POS);
    if (size <= LOG_OVERHEAD || pos + size > records.length)
      throw new CorruptBatchError(`the batch at byte ${pos} claims ${size} bytes`, pos);
    batches.push(records.subarray(pos, pos + size));
    pos += size;
  }
  return batches;
}
