/**
 * A partition: one Log, plus whoever waits for it to grow.
 *
 * Invariant (single broker, no replication yet): the high watermark is the
 * log end offset, so `logStartOffset ≤ highWatermark = logEndOffset`. With one
 * replica the in-sync set is just this broker, which is also why acks=-1
 * (all) completes as soon as acks=1 does.
 *
 * Waiters are callbacks (long-polling fetches): `append` calls them after the
 * bytes are in the log, so a fetch answers as soon as data arrives, with no
 * polling loop. Not shared across processes; every method runs to completion
 * on the event loop.
 */
import {
  type AppendResult,
  CorruptBatchError,
  InvalidRecordError,
  type Log,
  LogClosedError,
  validateBatch,
} from '../log/index.js';

// RecordBatch v2: an i64 base offset, then an i32 length of the bytes after it.
const BATCH_LENGTH_POS = 8;
const LOG_OVERHEAD = 12;

export class Partition {
  private waiters = new Set<() => void>();
  private swapping: Promise<void> | undefined;

  constructor(
    readonly topic: string,
    readonly index: number,
    private current: Log,
  ) {}

  get name(): string {
    return `${this.topic}-${this.index}`;
  }

  get log(): Log {
    return this.current;
  }

  get highWatermark(): number {
    return this.current.logEndOffset;
  }

  get logStartOffset(): number {
    return this.current.logStartOffset;
  }

  /** Resolves when the partition can be used: at once, unless its log is being reopened. */
  ready(): Promise<void> | undefined {
    return this.swapping;
  }

  // #region append
  /**
   * Appends the batches of a produce request as they are (the log patches
   * their base offsets). Several batches are all checked first, by the same
   * rules the log applies (size, magic, CRC, offsets, keys in a compacted
   * log), so a partition's batches are appended whole or not at all and the
   * error is the first refused batch's. One batch is checked by the log alone.
   */
  append(records: Buffer): AppendResult {
    const batches = splitBatches(records);
    if (batches.length > 1)
      for (const b of batches) validateBatch(b, this.current.config, { fromLeader: false });
    let first: AppendResult | undefined;
    let last: AppendResult | undefined;
    for (const batch of batches) {
      last = this.current.appendBatch(batch);
      first ??= last;
    }
    this.wake();
    return { baseOffset: first!.baseOffset, lastOffset: last!.lastOffset, size: records.length };
  }
  // #endregion append

  /** Calls `listener` after every append (and when the partition closes) until unsubscribed. */
  onChange(listener: () => void): () => void {
    this.waiters.add(listener);
    return () => this.waiters.delete(listener);
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  /** Swaps in a reopened log (a config change); users wait on `ready()` meanwhile. */
  async reopen(open: () => Promise<Log>): Promise<void> {
    const swap = (async () => {
      await this.current.close();
      this.current = await open();
    })();
    this.swapping = swap;
    try {
      await swap;
    } finally {
      this.swapping = undefined;
      this.wake();
    }
  }

  async close(): Promise<void> {
    await this.swapping;
    await this.current.close();
    this.wake(); // waiting fetches now read LOG_CLOSED: UNKNOWN_TOPIC_OR_PARTITION
  }

  get isClosed(): boolean {
    return this.current.isClosed && this.swapping === undefined;
  }

  /** Throws LOG_CLOSED when the partition has been closed (deleted, or the broker stops). */
  ensureOpen(): void {
    if (this.isClosed) throw new LogClosedError(this.current.dir);
  }
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
