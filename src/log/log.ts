/**
 * A Log is an ordered list of segments: appends go to the last (active) one,
 * reads find the segment by base offset and the batch by its sparse index.
 *
 * Invariants: logStartOffset ≤ recoveryPoint ≤ logEndOffset... (the recovery
 * point may trail: only a flush advances it); offsets are dense when written
 * and may have gaps after compaction; segment base offsets strictly increase.
 *
 * Not safe for concurrent writers across processes. Within one process every
 * method runs to completion on the event loop, so calls never interleave;
 * `flush` runs its fsyncs on the thread pool and many appends share one
 * fsync (group commit).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { patchBaseOffset, patchLeaderEpoch, readBatchHeader } from './batch-header.js';
import { CHECKPOINT_FILE, LOG_START_OFFSET, RECOVERY_POINT, readCheckpoint } from './checkpoint.js';
import { type LogConfig, resolveLogConfig } from './config.js';
import {
  InvalidRecordError,
  LogClosedError,
  OffsetOutOfRangeError,
  RecordTooLargeError,
} from './errors.js';
import { LogFlusher } from './log-flusher.js';
import { loadSegments } from './log-loader.js';
import { validateBatch } from './append-validation.js';
import { type Clock, type Logger, silentLogger, systemClock } from './logger.js';
import { type AppendRecord, type EncodeOptions, encodeBatch } from './record-batch.js';
import { LogSegments } from './log-segments.js';
import { Segment, type SegmentOptions } from './segment.js';

export interface LogOptions {
  clock?: Clock;
  logger?: Logger;
  /** How often a flush also rewrites the recovery-point checkpoint. Default 60 s (Kafka's). */
  checkpointIntervalMs?: number;
}

export interface AppendResult {
  baseOffset: number;
  lastOffset: number;
  /** Bytes appended. */
  size: number;
}

export interface AppendBatchOptions {
  /** false for a follower copying a leader's batch: keep its offsets (must be ≥ logEndOffset). */
  assignOffsets?: boolean;
  /** Stamp this leader epoch into the batch header. */
  leaderEpoch?: number;
}

export interface ReadOptions {
  /** Upper bound on bytes returned; at least one whole batch is always returned. Default 1 MiB. */
  maxBytes?: number;
  /** Return no batch holding an offset ≥ this (e.g. the high watermark). */
  maxOffset?: number;
}

export interface SegmentInfo {
  baseOffset: number;
  /** Last offset held, or baseOffset - 1 when empty. */
  lastOffset: number;
  size: number;
  path: string;
  maxTimestamp: number;
  indexEntries: number;
  timeIndexEntries: number;
}

export class Log {
  private readonly logSegments: LogSegments;
  private _logStartOffset: number;
  private _logEndOffset: number;
  private closed = false;
  private readonly flusher: LogFlusher;

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
    this._logEndOffset = this.active.nextOffset;
    const logStartOffset = checkpoint.get(LOG_START_OFFSET) ?? 0;
    this._logStartOffset = Math.min(
      Math.max(logStartOffset, segments[0]!.baseOffset),
      this._logEndOffset,
    );
    this.flusher = new LogFlusher(
      this,
      Math.min(checkpoint.get(RECOVERY_POINT) ?? 0, this._logEndOffset),
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
    mkdirSync(dir, { recursive: true });
    const checkpoint = readCheckpoint(join(dir, CHECKPOINT_FILE));
    const logStartOffset = checkpoint.get(LOG_START_OFFSET) ?? 0;
    const report = loadSegments(
      dir,
      segmentOptionsOf(resolved),
      checkpoint.get(RECOVERY_POINT) ?? 0,
      logger,
    );
    const segments = report.segments;
    if (segments.length === 0)
      segments.push(Segment.open(dir, logStartOffset, segmentOptionsOf(resolved)));
    const log = new Log(dir, resolved, options, segments, checkpoint);
    if (log.recoveryPoint < log._logEndOffset || report.truncatedBytes > 0) {
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
    return this._logStartOffset;
  }

  /** The offset the next appended record will get. */
  get logEndOffset(): number {
    return this._logEndOffset;
  }

  /** Every offset below this is known to be on disk. */
  get recoveryPoint(): number {
    return this.flusher.recoveryPoint;
  }

  get segments(): SegmentInfo[] {
    return this.logSegments.all.map((s) => ({
      baseOffset: s.baseOffset,
      lastOffset: s.lastOffset,
      size: s.size,
      path: s.path,
      maxTimestamp: s.maxTimestamp,
      indexEntries: s.offsetIndex.entries,
      timeIndexEntries: s.timeIndex.entries,
    }));
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
    if (
      batch.length > this.config['segment.bytes'] &&
      batch.length > this.config['max.message.bytes']
    ) {
      throw new RecordTooLargeError(batch.length, this.config['max.message.bytes']);
    }
    if (options.assignOffsets !== false) patchBaseOffset(batch, this._logEndOffset);
    if (options.leaderEpoch !== undefined) patchLeaderEpoch(batch, options.leaderEpoch);
    const header = readBatchHeader(batch);
    if (header.baseOffset < this._logEndOffset) {
      throw new InvalidRecordError(
        `offset ${header.baseOffset} is below the log end offset ${this._logEndOffset}`,
      );
    }
    if (this.shouldRoll(batch.length, header.lastOffset, header.maxTimestamp))
      this.logSegments.roll(this._logEndOffset); // at the end, not the batch: segments stay contiguous
    const segment = this.active;
    segment.append(batch, header);
    this._logEndOffset = header.lastOffset + 1;
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
    if (!this.active.isEmpty) this.logSegments.roll(this._logEndOffset);
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
    if (offset < this._logStartOffset || offset > this._logEndOffset) {
      throw new OffsetOutOfRangeError(offset, this._logStartOffset, this._logEndOffset);
    }
    const maxOffset = Math.min(options.maxOffset ?? this._logEndOffset, this._logEndOffset);
    if (offset >= maxOffset) return Buffer.alloc(0);
    const all = this.logSegments.all;
    for (let i = this.logSegments.floorIndex(offset); i < all.length; i++) {
      const segment = all[i]!;
      if (segment.baseOffset >= maxOffset) break;
      const end =
        maxOffset > segment.lastOffset
          ? segment.size
          : segment.translateOffset(maxOffset)!.position;
      const bytes = segment.read(offset, maxBytes, end);
      if (bytes) return bytes; // undefined: offset is in a gap at this segment's end
    }
    return Buffer.alloc(0);
  }
  // #endregion read

  /** The first offset whose record timestamp is ≥ `timestamp`, or undefined when there is none. */
  offsetForTimestamp(timestamp: number): number | undefined {
    this.ensureOpen();
    if (!Number.isSafeInteger(timestamp)) throw new TypeError('timestamp must be an integer');
    for (const segment of this.logSegments.all) {
      if (segment.maxTimestamp < timestamp) continue;
      const found = segment.findOffsetByTimestamp(
        timestamp,
        Math.max(this._logStartOffset, segment.baseOffset),
      );
      if (found !== undefined) return found;
    }
    return undefined;
  }

  // #region truncate
  /**
   * Drops every batch holding an offset ≥ `offset` (replication uses this to
   * cut a divergent tail). A batch straddling `offset` goes whole, so the new
   * log end offset is min(offset, that batch's base offset).
   */
  truncateTo(offset: number): void {
    this.ensureOpen();
    if (!Number.isSafeInteger(offset) || offset < 0)
      throw new TypeError('offset must be a non-negative integer');
    if (offset >= this._logEndOffset) return;
    if (offset <= this._logStartOffset) return this.truncateFullyAndStartAt(offset);
    let newEnd = offset;
    for (const removed of this.logSegments.removeFrom(offset)) {
      this.flusher.forget(removed);
      removed.delete();
    }
    const cutAt = this.active.truncateTo(offset);
    if (cutAt !== undefined) newEnd = Math.min(newEnd, cutAt);
    this.flusher.markDirty(this.active);
    this._logEndOffset = Math.max(newEnd, this.active.nextOffset);
    this.flusher.lowerRecoveryPoint(this._logEndOffset);
    this.logger.info(`truncated log ${this.dir} to offset ${this._logEndOffset}`);
  }

  private truncateFullyAndStartAt(offset: number): void {
    for (const segment of this.logSegments.resetTo(offset)) this.flusher.forget(segment);
    this._logStartOffset = offset;
    this._logEndOffset = offset;
    this.flusher.lowerRecoveryPoint(offset);
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

function segmentOptionsOf(config: LogConfig): SegmentOptions {
  return {
    indexIntervalBytes: config['index.interval.bytes'],
    maxIndexBytes: config['segment.index.bytes'],
  };
}
