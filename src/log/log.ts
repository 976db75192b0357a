/**
 * A Log is an ordered list of segments: appends go to the last (active) one,
 * reads find the segment by base offset and the batch by its sparse index.
 *
 * Invariants: logStartOffset ≤ logEndOffset and recoveryPoint ≤ logEndOffset
 * (only a flush advances the recovery point; a truncation lowers it); offsets
 * are dense when written and may have gaps after compaction; each segment
 * starts where the one before it ends.
 *
 * Not safe for concurrent writers across processes. Within one process every
 * method runs to completion on the event loop, so calls never interleave;
 * `flush` runs its fsyncs on the thread pool and many appends share one
 * fsync (group commit).
 */
import { patchBaseOffset, patchLeaderEpoch, readBatchHeader } from './batch-header.js';
import { RECOVERY_POINT } from './checkpoint.js';
import { type LogConfig, isCompacted, resolveLogConfig } from './config.js';
import {
  InvalidRecordError,
  LogClosedError,
  OffsetOutOfRangeError,
  RecordTooLargeError,
} from './errors.js';
import { LeaderEpochs } from './leader-epochs.js';
import { LogFlusher } from './log-flusher.js';
import { validateBatch } from './append-validation.js';
import { type Clock, type Logger, silentLogger, systemClock } from './logger.js';
import { type AppendRecord, type EncodeOptions, encodeBatch } from './record-batch.js';
import type { CleanableLog, CleanerStats, CompactOptions } from './cleaner/cleanable-log.js';
import { runCleaner } from './cleaner/cleaner.js';
import { cleanableView } from './log-cleanable.js';
import { LogOffsets } from './log-offsets.js';
import { loadLog } from './log-loader.js';
import type {
  AppendBatchOptions,
  AppendResult,
  LogOptions,
  ReadOptions,
  RetentionResult,
} from './log-types.js';
import { LogSegments } from './log-segments.js';
import { type RetentionReason, planRetention } from './retention.js';
import { type Segment, type SegmentInfo, segmentOptionsOf } from './segment.js';

export class Log {
  private readonly logSegments: LogSegments;
  /** The log start and end offsets and the cleaner checkpoint (log-offsets.ts). */
  private readonly offsets: LogOffsets;
  private closed = false;
  private readonly flusher: LogFlusher;
  /** Which leader epoch wrote from which offset (leader-epochs.ts), kept in step with the log. */
  readonly epochs: LeaderEpochs;

  private readonly clock: Clock;
  private readonly logger: Logger;

  private constructor(
    readonly dir: string,
    readonly config: LogConfig,
    options: LogOptions,
    segments: Segment[],
    checkpoint: ReadonlyMap<string, number>,
  ) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.logSegments = new LogSegments(dir, segmentOptionsOf(config), segments, this.logger);
    this.offsets = LogOffsets.onOpen(this.active.nextOffset, segments[0]!.baseOffset, checkpoint);
    this.epochs = LeaderEpochs.load(dir, segments, this, this.logger);
    this.flusher = new LogFlusher(
      this,
      Math.min(checkpoint.get(RECOVERY_POINT) ?? 0, this.logEndOffset),
      this.clock,
      this.logger,
      options.checkpointIntervalMs ?? 60_000,
    );
  }

  // #region open
  /** Creates the log directory, or reopens it and recovers whatever a crash left. */
  static async open(
    dir: string,
    config: Partial<LogConfig> = {},
    options: LogOptions = {},
  ): Promise<Log> {
    if (typeof dir !== 'string' || dir === '')
      throw new TypeError('dir must be a non-empty string');
    const resolved = resolveLogConfig(config);
    const logger = options.logger ?? silentLogger;
    const { segments, checkpoint, truncatedBytes } = loadLog(
      dir,
      segmentOptionsOf(resolved),
      logger,
    );
    const log = new Log(dir, resolved, options, segments, checkpoint);
    if (log.recoveryPoint < log.logEndOffset || truncatedBytes > 0) {
      // What recovery checked is made durable before it is trusted next time.
      for (const segment of segments) log.flusher.markDirty(segment);
      await log.flusher.flush({ checkpoint: true });
    }
    logger.info(
      `opened log ${dir}: ${segments.length} segment(s), offsets [${log.logStartOffset}, ${log.logEndOffset})`,
    );
    return log;
  }
  // #endregion open

  get logStartOffset(): number {
    return this.offsets.logStartOffset;
  }

  /** The offset the next appended record will get. */
  get logEndOffset(): number {
    return this.offsets.logEndOffset;
  }

  /** Every offset below this is known to be on disk. */
  get recoveryPoint(): number {
    return this.flusher.recoveryPoint;
  }

  get segments(): SegmentInfo[] {
    return this.logSegments.all.map((s) => s.info());
  }

  /** Total bytes of all segments. */
  get size(): number {
    return this.logSegments.size;
  }

  private get active(): Segment {
    return this.logSegments.active;
  }

  // #region append
  /** Encodes `records` as one batch and appends it. */
  append(records: readonly AppendRecord[], options: EncodeOptions = {}): AppendResult {
    this.ensureOpen();
    const batch = encodeBatch(records, {
      ...options,
      timestamp: options.timestamp ?? this.clock(),
    });
    if (batch.length > this.config['max.message.bytes']) {
      throw new RecordTooLargeError(batch.length, this.config['max.message.bytes']);
    }
    if (isCompacted(this.config) && records.some((r) => r.key === null || r.key === undefined)) {
      throw new InvalidRecordError('a compacted log refuses records without a key');
    }
    return this.appendValidated(batch, { leaderEpoch: options.partitionLeaderEpoch });
  }

  /**
   * Appends one already-encoded batch. The log checks its size, magic and CRC,
   * then assigns its offsets by patching the header: the records themselves
   * are neither decoded nor re-encoded.
   */
  appendBatch(bytes: Buffer, options: AppendBatchOptions = {}): AppendResult {
    this.ensureOpen();
    validateBatch(bytes, this.config, { fromLeader: options.assignOffsets === false });
    return this.appendValidated(bytes, options);
  }

  private appendValidated(batch: Buffer, options: AppendBatchOptions): AppendResult {
    if (options.assignOffsets !== false) patchBaseOffset(batch, this.logEndOffset);
    if (options.leaderEpoch !== undefined) patchLeaderEpoch(batch, options.leaderEpoch);
    const header = readBatchHeader(batch);
    if (header.baseOffset < this.logEndOffset) {
      throw new InvalidRecordError(
        `offset ${header.baseOffset} is below the log end offset ${this.logEndOffset}`,
      );
    }
    this.epochs.onAppend(header.partitionLeaderEpoch, header.baseOffset); // before the bytes
    if (this.shouldRoll(batch.length, header.lastOffset, header.maxTimestamp))
      this.logSegments.roll(this.logEndOffset); // at the end, not the batch: segments stay contiguous
    const segment = this.active;
    segment.append(batch, header);
    this.offsets.appendedTo(header.lastOffset + 1);
    this.flusher.markDirty(segment);
    this.flusher.afterAppend(header.recordCount);
    return { baseOffset: header.baseOffset, lastOffset: header.lastOffset, size: batch.length };
  }
  // #endregion append

  // #region roll
  private shouldRoll(size: number, lastOffset: number, maxTimestamp: number): boolean {
    const segment = this.active;
    if (segment.isFullFor(size, lastOffset, this.config['segment.bytes'])) return true;
    if (segment.isEmpty) return false;
    return maxTimestamp - segment.firstBatchTimestamp >= this.config['segment.ms'];
  }

  /** Starts a new active segment at the log end offset (no-op when the active one is empty). */
  roll(): void {
    this.ensureOpen();
    if (!this.active.isEmpty) this.logSegments.roll(this.logEndOffset);
  }

  // #endregion roll

  // #region read
  /**
   * Whole batches starting with the one that holds `offset`: at least one,
   * then as many as fit in `maxBytes`. Empty at the log end offset. After
   * compaction an offset may fall in a gap; the read starts at the next batch.
   */
  read(offset: number, options: ReadOptions = {}): Buffer {
    this.ensureOpen();
    if (!Number.isSafeInteger(offset))
      throw new TypeError(`offset must be an integer, got ${offset}`);
    const maxBytes = options.maxBytes ?? 1024 * 1024;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0)
      throw new TypeError('maxBytes must be a non-negative integer');
    if (offset < this.logStartOffset || offset > this.logEndOffset) {
      throw new OffsetOutOfRangeError(offset, this.logStartOffset, this.logEndOffset);
    }
    const maxOffset = Math.min(options.maxOffset ?? this.logEndOffset, this.logEndOffset);
    if (offset >= maxOffset) return Buffer.alloc(0);
    return this.logSegments.read(offset, maxBytes, maxOffset);
  }
  // #endregion read

  /** The first offset whose record timestamp is ≥ `timestamp`, or undefined when there is none. */
  offsetForTimestamp(timestamp: number): number | undefined {
    this.ensureOpen();
    if (!Number.isSafeInteger(timestamp)) throw new TypeError('timestamp must be an integer');
    return this.logSegments.offsetForTimestamp(timestamp, this.logStartOffset);
  }

  /** Offsets below this have been cleaned at least once (Kafka's cleaner checkpoint). */
  get cleanerCheckpoint(): number {
    return this.offsets.cleanerCheckpoint;
  }

  // #region compact
  /** One cleaning pass (see cleaner/): keeps the latest record of each key at its offset. */
  compact(options: CompactOptions = {}): Promise<CleanerStats> {
    this.ensureOpen();
    return runCleaner(this.cleanable(), options);
  }

  /** The narrow view of this log that the cleaner works through (log-cleanable.ts). */
  private cleanable(): CleanableLog {
    return cleanableView(this, {
      segments: this.logSegments,
      flusher: this.flusher,
      logger: this.logger,
      clock: this.clock,
      raiseCleanerCheckpoint: (offset) => this.offsets.raiseCleanerCheckpoint(offset),
    });
  }
  // #endregion compact

  // #region retention
  /**
   * Deletes the old segments that retention allows now (see retention.ts)
   * and moves the log start offset past them. Nothing holding an offset at
   * or above `upperBound` (the high watermark; default the log end) goes.
   */
  async enforceRetention(
    options: { now?: number; upperBound?: number } = {},
  ): Promise<RetentionResult> {
    this.ensureOpen();
    const plan = planRetention({
      segments: this.logSegments.all,
      config: this.config,
      now: options.now ?? this.clock(),
      logStartOffset: this.logStartOffset,
      upperBound: Math.min(options.upperBound ?? this.logEndOffset, this.logEndOffset),
    });
    return this.deleteOldestSegments(plan.count, plan.reasons);
  }

  /**
   * Kafka's DeleteRecords: moves the log start offset to `offset` (reads below
   * it fail from now on, also after a restart) and deletes the segments that
   * lie wholly below it. Returns the new log start offset.
   */
  async deleteRecordsBefore(offset: number): Promise<number> {
    this.ensureOpen();
    if (!Number.isSafeInteger(offset)) throw new TypeError('offset must be an integer');
    if (offset < 0 || offset > this.logEndOffset) {
      throw new OffsetOutOfRangeError(offset, this.logStartOffset, this.logEndOffset);
    }
    if (offset <= this.logStartOffset) return this.logStartOffset;
    this.advanceLogStartOffset(offset);
    this.logger.info(`log ${this.dir} now starts at offset ${offset} (records before it deleted)`);
    await this.flusher.writeCheckpoint();
    const count = this.logSegments.countBelow(offset);
    await this.deleteOldestSegments(count, new Array(count).fill('log-start-offset'));
    return this.logStartOffset;
  }

  private async deleteOldestSegments(
    count: number,
    reasons: RetentionReason[],
  ): Promise<RetentionResult> {
    const { deleted, deletedBytes } = this.logSegments.deleteOldest(count, reasons);
    for (const info of deleted) this.flusher.forget(info.segment);
    if (deleted.length > 0) {
      this.advanceLogStartOffset(this.logSegments.first.baseOffset);
      await this.flusher.writeCheckpoint();
    }
    const list = deleted.map(({ segment: _, ...info }) => info);
    return { deleted: list, deletedBytes, logStartOffset: this.logStartOffset };
  }

  private advanceLogStartOffset(offset: number): void {
    this.offsets.advanceStart(offset);
    this.epochs.truncateFromStart(this.logStartOffset);
  }
  // #endregion retention

  // #region truncate
  /**
   * Drops every batch holding an offset ≥ `offset` (replication uses this to
   * cut a divergent tail). A batch straddling `offset` goes whole. The new log
   * end offset is where the kept data ends: min(offset, that batch's base
   * offset), or less when `offset` falls in a gap between batches (a
   * follower's copy of a compacted log), so the next segment still starts
   * where this one ends.
   */
  truncateTo(offset: number): void {
    this.ensureOpen();
    if (!Number.isSafeInteger(offset) || offset < 0)
      throw new TypeError('offset must be a non-negative integer');
    // The epochs are cut even when the log is not: an epoch that led without writing goes.
    if (offset >= this.logEndOffset) return this.epochs.truncateFromEnd(this.logEndOffset);
    if (offset <= this.logStartOffset) return this.truncateFullyAndStartAt(offset);
    for (const removed of this.logSegments.removeFrom(offset)) {
      this.flusher.forget(removed);
      removed.delete();
    }
    this.active.truncateTo(offset);
    this.flusher.markDirty(this.active);
    // Offsets appended again from here on are new: neither flushed nor cleaned.
    this.offsets.truncatedTo(this.active.nextOffset);
    this.flusher.lowerRecoveryPoint(this.logEndOffset);
    this.epochs.truncateFromEnd(this.logEndOffset);
    this.logger.info(`truncated log ${this.dir} to offset ${this.logEndOffset}`);
  }

  private truncateFullyAndStartAt(offset: number): void {
    for (const segment of this.logSegments.resetTo(offset)) this.flusher.forget(segment);
    this.offsets.resetTo(offset);
    this.flusher.lowerRecoveryPoint(offset);
    this.epochs.clear();
    this.logger.info(`emptied log ${this.dir}; it starts again at offset ${offset}`);
  }
  // #endregion truncate

  /**
   * Resolves once everything appended before the call is on disk (group
   * commit: see log-flusher.ts). Advances the recovery point.
   */
  flush(): Promise<void> {
    return this.flusher.flush();
  }

  /** Flushes, records the recovery point, and closes every file. Later calls throw LOG_CLOSED. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.active.onBecomeInactive();
    await this.flusher.flush({ checkpoint: true });
    this.closed = true;
    for (const segment of this.logSegments.all) segment.close();
  }

  /**
   * Closes the file handles without flushing, checkpointing or writing index
   * tails: the files stay exactly as a process killed now would leave them
   * (Kafka's closeHandlers). For crash tests and walkthroughs.
   */
  abandon(): void {
    if (this.closed) return;
    this.closed = true;
    this.flusher.stopTimer();
    for (const segment of this.logSegments.all) segment.close({ persist: false });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private ensureOpen(): void {
    if (this.closed) throw new LogClosedError(this.dir);
  }
}
