/**
 * A partition: one Log, its leader epoch and high watermark, plus whoever
 * waits for it to grow.
 *
 * Invariants: `logStartOffset ≤ highWatermark ≤ logEndOffset`; as leader the
 * high watermark never moves back (Kafka's maybeIncrementLeaderHW over the
 * in-sync replicas, src/replication/high-watermark.ts). With one broker the
 * in-sync set is this broker alone, so the HW reaches the log end offset
 * after each append, before the append returns: acks=-1 (all) completes as
 * soon as acks=1 does. Only a follower's truncation lowers it.
 *
 * The leader epoch is stamped into every batch appended as leader; the log
 * keeps which epoch wrote from which offset (src/log/leader-epochs.ts).
 * The epoch is the controller's (recorded in topics.json by the
 * TopicManager; 0 until an election bumps it, as in Kafka), so a restart
 * keeps it.
 * The HW is checkpointed by the TopicManager (replication-offset-checkpoint)
 * and restored bounded by the log.
 *
 * As leader it answers where an epoch ends (OffsetsForLeaderEpoch), checks
 * a fetcher's last fetched epoch (KIP-595) and keeps each follower's fetch
 * state (`followers`), which nothing reads until followers exist.
 *
 * Waiters are callbacks (long-polling fetches): `append` calls them after the
 * bytes are in the log and the HW has moved, so a fetch answers as soon as
 * data is committed, with no polling loop. Not shared across processes;
 * every method runs to completion on the event loop.
 */
import {
  type AppendResult,
  CorruptBatchError,
  InvalidRecordError,
  type Log,
  LogClosedError,
  validateBatch,
} from '../log/index.js';
import { type FetchEpochCheck, checkLastFetchedEpoch } from '../replication/divergence.js';
import { followerHighWatermark, leaderHighWatermark } from '../replication/high-watermark.js';
import type { EpochEndOffset } from '../replication/leader-epoch-cache.js';
import {
  EMPTY_FOLLOWER_STATE,
  type FollowerState,
  updateFollowerFetchState,
} from '../replication/replica-state.js';

/** What a partition starts from: what the controller and the checkpoints say. */
export interface PartitionState {
  /** The leader epoch given by the controller (default 0); never below the log's latest epoch. */
  leaderEpoch?: number;
  /** From replication-offset-checkpoint; bounded by the log. Default the log start offset. */
  highWatermark?: number;
  /** This broker's id, the one in-sync replica. Default 0. */
  replicaId?: number;
}

const MAX_EPOCH = 2 ** 31 - 1;
const NO_FOLLOWERS = new Map<number, { logEndOffset: number }>();

// RecordBatch v2: an i64 base offset, then an i32 length of the bytes after it.
const BATCH_LENGTH_POS = 8;
const LOG_OVERHEAD = 12;

export class Partition {
  private waiters = new Set<() => void>();
  private swapping: Promise<void> | undefined;
  private _leaderEpoch: number;
  private _highWatermark: number;
  private readonly replicaId: number;
  private readonly isr: ReadonlySet<number>;
  private readonly followerStates = new Map<number, FollowerState>();

  constructor(
    readonly topic: string,
    readonly index: number,
    private current: Log,
    state: PartitionState = {},
  ) {
    this.replicaId = state.replicaId ?? 0;
    this.isr = new Set([this.replicaId]);
    // Never below an epoch the log has seen: a lower one would wipe its entries.
    this._leaderEpoch = Math.max(state.leaderEpoch ?? 0, current.epochs.latestEpoch ?? 0);
    this._highWatermark = this.bounded(state.highWatermark ?? current.logStartOffset);
    this.becomeLeader(this._leaderEpoch);
  }

  get name(): string {
    return `${this.topic}-${this.index}`;
  }

  get log(): Log {
    return this.current;
  }

  /** The offset below which every record is on every in-sync replica: what consumers may read. */
  get highWatermark(): number {
    return this._highWatermark;
  }

  get leaderEpoch(): number {
    return this._leaderEpoch;
  }

  get logStartOffset(): number {
    return this.current.logStartOffset;
  }

  get logEndOffset(): number {
    return this.current.logEndOffset;
  }

  // #region leader
  /**
   * Leads from `epoch` on (not below the current one): the epoch starts at
   * the log end offset before anything is written in it (KAFKA-7415), and
   * the HW moves as far as the in-sync replicas allow (Kafka's makeLeader).
   */
  becomeLeader(epoch: number): void {
    this.checkNewEpoch(epoch);
    this._leaderEpoch = epoch;
    this.current.epochs.assign(epoch, this.current.logEndOffset);
    this.maybeIncrementHighWatermark();
  }

  /** Throws TypeError unless `epoch` is an int32 not below the current epoch. */
  checkNewEpoch(epoch: number): void {
    if (!Number.isInteger(epoch) || epoch < this._leaderEpoch || epoch > MAX_EPOCH)
      throw new TypeError(`leader epoch must be an int32 ≥ ${this._leaderEpoch}, not ${epoch}`);
  }

  private maybeIncrementHighWatermark(): void {
    this._highWatermark = leaderHighWatermark({
      highWatermark: this._highWatermark,
      leaderId: this.replicaId,
      leaderLogEndOffset: this.current.logEndOffset,
      isr: this.isr,
      followers: NO_FOLLOWERS,
    });
  }

  /** `offset` within [logStartOffset, logEndOffset] (Kafka's updateHighWatermark). */
  private bounded(offset: number): number {
    return Math.max(this.current.logStartOffset, Math.min(offset, this.current.logEndOffset));
  }
  // #endregion leader

  /** Resolves when the partition can be used: at once, unless its log is being reopened. */
  ready(): Promise<void> | undefined {
    return this.swapping;
  }

  // #region append
  /**
   * Appends the batches of a produce request as leader: the log patches
   * their base offsets and stamps the leader epoch, and the HW moves.
   * Several batches are all checked first, by the same rules the log applies
   * (size, magic, CRC, offsets, keys in a compacted log), so a partition's
   * batches are appended whole or not at all and the error is the first
   * refused batch's. One batch is checked by the log alone.
   */
  append(records: Buffer): AppendResult {
    const batches = splitBatches(records);
    if (batches.length > 1)
      for (const b of batches) validateBatch(b, this.current.config, { fromLeader: false });
    let first: AppendResult | undefined;
    let last: AppendResult | undefined;
    const options = { leaderEpoch: this._leaderEpoch };
    for (const batch of batches) {
      last = this.current.appendBatch(batch, options);
      first ??= last;
    }
    this.maybeIncrementHighWatermark();
    this.wake();
    return { baseOffset: first!.baseOffset, lastOffset: last!.lastOffset, size: records.length };
  }
  // #endregion append

  // #region epochs
  /**
   * OffsetsForLeaderEpoch: the largest epoch ≤ `epoch` in this log and where
   * it ends (the log end offset for the latest); UNDEFINED (-1, -1) when it
   * cannot say (Kafka's UnifiedLog.endOffsetForEpoch).
   */
  endOffsetForEpoch(epoch: number): EpochEndOffset {
    this.ensureOpen();
    return this.current.epochs.endOffsetFor(epoch, this.current.logEndOffset);
  }

  /** A fetch's lastFetchedEpoch checked against this leader's log (KIP-595). */
  checkLastFetchedEpoch(fetchOffset: number, lastFetchedEpoch: number): FetchEpochCheck {
    this.ensureOpen();
    const { epochs: epochCache, logEndOffset, logStartOffset } = this.current;
    return checkLastFetchedEpoch(
      { epochCache, logEndOffset, logStartOffset },
      fetchOffset,
      lastFetchedEpoch,
    );
  }
  // #endregion epochs

  // #region follower-state
  /**
   * A follower fetched from `fetchOffset` (so its log ends there): Kafka's
   * updateFollowerFetchState, against this log's end offset as the fetch
   * found it. Remembered only: the ISR is this broker alone until followers
   * exist, so the high watermark does not read it yet.
   */
  followerFetched(
    replicaId: number,
    fetch: { fetchOffset: number; logStartOffset: number },
    nowMs: number,
  ): void {
    const state = this.followerStates.get(replicaId) ?? EMPTY_FOLLOWER_STATE;
    this.followerStates.set(
      replicaId,
      updateFollowerFetchState(state, {
        fetchOffset: fetch.fetchOffset,
        logStartOffset: fetch.logStartOffset,
        fetchTimeMs: nowMs,
        leaderLogEndOffset: this.current.logEndOffset,
      }),
    );
  }

  /** What this leader knows of each follower that has fetched, by replica id. */
  get followers(): ReadonlyMap<number, FollowerState> {
    return this.followerStates;
  }
  // #endregion follower-state

  // #region follower
  /**
   * Appends a leader's batches as they are: their offsets (at or past the
   * log end offset) and epochs stay, and the log's epochs follow them. With
   * `leaderHighWatermark` (from the fetch answer) the HW becomes Kafka's
   * follower HW, min(it, logEndOffset); a follower's HW is only a hint.
   */
  appendAsFollower(records: Buffer, leaderHighWatermark?: number): AppendResult {
    const batches = splitBatches(records);
    if (batches.length > 1)
      for (const b of batches) validateBatch(b, this.current.config, { fromLeader: true });
    let first: AppendResult | undefined;
    let last: AppendResult | undefined;
    for (const batch of batches) {
      last = this.current.appendBatch(batch, { assignOffsets: false });
      first ??= last;
    }
    if (leaderHighWatermark !== undefined)
      this._highWatermark = followerHighWatermark(
        leaderHighWatermark,
        this.current.logEndOffset,
        this.current.logStartOffset,
      );
    this.wake();
    return { baseOffset: first!.baseOffset, lastOffset: last!.lastOffset, size: records.length };
  }

  /**
   * A follower cuts its divergent tail (see src/replication/divergence.ts):
   * the log and its epochs are truncated, and the HW is capped at the new
   * log end offset (Kafka's UnifiedLog.truncateTo). A leader never truncates.
   */
  truncateTo(offset: number): void {
    this.current.truncateTo(offset);
    this._highWatermark = this.bounded(this._highWatermark);
  }
  // #endregion follower

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
      this._highWatermark = this.bounded(this._highWatermark);
      this.becomeLeader(this._leaderEpoch);
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
