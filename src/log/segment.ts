/**
 * A segment is one `.log` file plus its `.index` and `.timeindex`, named by
 * its base offset padded to 20 digits so `ls` sorts them.
 *
 * Invariants: every offset in a segment is ≥ its base offset and > every
 * offset before it; index entries strictly increase and are sparse (one per
 * `index.interval.bytes` of log); the indexes are derived data, rebuilt from
 * the log whenever they are in doubt (missing, short, not increasing, or
 * pointing at a batch that is not the one they name).
 *
 * Not safe for concurrent use: the owning Log serialises every call.
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type BatchHeader, verifyBatch } from './batch-header.js';
import { CorruptBatchError } from './errors.js';
import { FileRecords, type ScannedBatch } from './file-records.js';
import { OffsetIndex } from './offset-index.js';
import { decodeBatches } from './record-batch.js';
import { TimeIndex } from './time-index.js';

export const LOG_SUFFIX = '.log';
export const INDEX_SUFFIX = '.index';
export const TIME_INDEX_SUFFIX = '.timeindex';
/** Relative offsets are stored as u32 in the indexes: a segment spans at most this many offsets. */
export const MAX_RELATIVE_OFFSET = 0xffffffff;
/** Bytes read at a time when scanning forward from an index entry. */
const TRANSLATE_CHUNK = 16 * 1024;

export function segmentFileName(baseOffset: number, suffix: string): string {
  return String(baseOffset).padStart(20, '0') + suffix;
}

export interface SegmentOptions {
  indexIntervalBytes: number;
  maxIndexBytes: number;
}

export interface RecoveryResult {
  validBytes: number;
  truncatedBytes: number;
  /** Why recovery stopped early, when it did. */
  reason?: string;
}

export class Segment {
  readonly log: FileRecords;
  readonly offsetIndex: OffsetIndex;
  readonly timeIndex: TimeIndex;
  /** The last offset of the last batch, or baseOffset - 1 when the segment is empty. */
  lastOffset: number;
  /** Largest timestamp of any batch, -1 when empty. */
  /**
   * Largest timestamp and the last offset of the first batch to reach it;
   * undefined until known. A segment loaded without a scan learns them from
   * its batch headers on first use, never from its time index, which a crash
   * or a damaged disk may leave short.
   */
  private maxTime: { timestamp: number; offset: number } | undefined = {
    timestamp: -1,
    offset: -1,
  };
  /** First batch's max timestamp: what `segment.ms` measures the segment's age from. */
  firstBatchTimestamp = -1;
  private bytesSinceLastIndexEntry = 0;

  private constructor(
    readonly dir: string,
    readonly baseOffset: number,
    private readonly options: SegmentOptions,
  ) {
    this.log = FileRecords.open(join(dir, segmentFileName(baseOffset, LOG_SUFFIX)));
    this.offsetIndex = new OffsetIndex(
      join(dir, segmentFileName(baseOffset, INDEX_SUFFIX)),
      baseOffset,
      options.maxIndexBytes,
    );
    this.timeIndex = new TimeIndex(
      join(dir, segmentFileName(baseOffset, TIME_INDEX_SUFFIX)),
      baseOffset,
      options.maxIndexBytes,
    );
    this.lastOffset = baseOffset - 1;
  }

  /** Opens (or creates) the segment's files without checking them; call load or recover next. */
  static open(dir: string, baseOffset: number, options: SegmentOptions): Segment {
    return new Segment(dir, baseOffset, options);
  }

  get size(): number {
    return this.log.size;
  }

  /** Largest timestamp of any batch here, -1 when empty. */
  get maxTimestamp(): number {
    return (this.maxTime ?? this.scanMaxTimestamp()).timestamp;
  }

  private scanMaxTimestamp(): { timestamp: number; offset: number } {
    const maxTime = { timestamp: -1, offset: -1 };
    for (const batch of this.log.batches(0)) {
      if (batch.maxTimestamp > maxTime.timestamp) {
        maxTime.timestamp = batch.maxTimestamp;
        maxTime.offset = batch.lastOffset;
      }
    }
    this.maxTime = maxTime;
    return maxTime;
  }

  get isEmpty(): boolean {
    return this.log.size === 0;
  }

  get nextOffset(): number {
    return this.lastOffset + 1;
  }

  get path(): string {
    return this.log.path;
  }

  // #region append
  /** Appends one batch whose offsets are already assigned. The Log checks it fits. */
  append(
    batch: Buffer,
    header: Pick<BatchHeader, 'baseOffset' | 'lastOffset' | 'maxTimestamp'>,
  ): void {
    const position = this.log.append(batch);
    if (this.firstBatchTimestamp < 0) this.firstBatchTimestamp = header.maxTimestamp;
    this.observe(header.lastOffset, header.maxTimestamp, position, batch.length);
  }
  // #endregion append

  /** Updates the in-memory state and the sparse indexes for a batch at `position`. */
  private observe(lastOffset: number, maxTimestamp: number, position: number, size: number): void {
    const maxTime = this.maxTime ?? this.scanMaxTimestamp();
    if (maxTimestamp > maxTime.timestamp) {
      maxTime.timestamp = maxTimestamp;
      maxTime.offset = lastOffset;
    }
    if (this.bytesSinceLastIndexEntry >= this.options.indexIntervalBytes) {
      this.offsetIndex.append(lastOffset, position);
      this.timeIndex.maybeAppend(maxTime.timestamp, maxTime.offset);
      this.bytesSinceLastIndexEntry = 0;
    }
    this.bytesSinceLastIndexEntry += size;
    this.lastOffset = lastOffset;
  }

  /** Whether appending `size` more bytes would need a new segment. */
  isFullFor(size: number, lastOffset: number, segmentBytes: number): boolean {
    if (this.isEmpty) return false;
    return (
      this.size + size > segmentBytes ||
      this.offsetIndex.isFull ||
      this.timeIndex.isFull ||
      lastOffset - this.baseOffset > MAX_RELATIVE_OFFSET
    );
  }

  // #region translate
  /**
   * The first batch whose last offset is ≥ `offset`, or undefined when every
   * batch here ends before it. Starts from the index entry at or below the
   * offset; an entry that does not name the batch it points at means the
   * index is wrong, so it is rebuilt and the lookup tried again.
   */
  translateOffset(offset: number, retried = false): ScannedBatch | undefined {
    if (offset > this.lastOffset) return undefined;
    const entry = this.offsetIndex.lookup(offset);
    const position = entry?.position ?? 0;
    try {
      let first = true;
      for (const batch of this.log.batches(position, { chunkSize: TRANSLATE_CHUNK })) {
        if (first && entry && batch.lastOffset !== entry.offset) {
          throw new CorruptBatchError(
            `index entry for offset ${entry.offset} points at another batch`,
            position,
          );
        }
        first = false;
        if (batch.lastOffset >= offset) return batch;
      }
      return undefined;
    } catch (err) {
      // Derived data in doubt: rebuild it from the log once; a second failure is the log's own.
      if (retried || !(err instanceof CorruptBatchError) || !entry) throw err;
      this.rebuildIndexes();
      return this.translateOffset(offset, true);
    }
  }
  // #endregion translate

  /** Reads whole batches from `position`: at least one, then as many as fit in `maxBytes`. */
  readFrom(position: number, maxBytes: number, endPosition = this.size): Buffer {
    const firstSize = this.log.batchSizeAt(position);
    const limit = Math.min(Math.max(maxBytes, firstSize), endPosition - position);
    const bytes = this.log.read(position, limit);
    if (limit <= firstSize) return bytes.subarray(0, firstSize);
    let end = 0;
    for (const batch of this.log.batches(position, {
      end: position + bytes.length,
      chunk: bytes,
    })) {
      end = batch.position + batch.size - position;
    }
    return bytes.subarray(0, end);
  }

  // #region timestamp
  /** The first offset ≥ `startingOffset` whose record timestamp is ≥ `timestamp`. */
  findOffsetByTimestamp(
    timestamp: number,
    startingOffset = this.baseOffset,
    retried = false,
  ): number | undefined {
    if (this.maxTimestamp < timestamp) return undefined;
    const entry = this.timeIndex.lookup(timestamp);
    const from = this.translateOffset(Math.max(entry?.offset ?? this.baseOffset, startingOffset));
    if (!from) return undefined;
    // An entry (T, O) must name a batch ending at O whose largest timestamp is T; else rebuild.
    const named = entry && entry.offset >= startingOffset;
    if (
      named &&
      !retried &&
      (from.lastOffset !== entry.offset || from.maxTimestamp !== entry.timestamp)
    ) {
      this.rebuildIndexes();
      return this.findOffsetByTimestamp(timestamp, startingOffset, true);
    }
    for (const batch of this.log.batches(from.position)) {
      if (batch.maxTimestamp < timestamp) continue;
      const bytes = this.log.read(batch.position, batch.size);
      for (const decoded of decodeBatches(bytes, { verifyCrc: false })) {
        for (const record of decoded.records) {
          if (record.timestamp >= timestamp && record.offset >= startingOffset)
            return record.offset;
        }
      }
    }
    return undefined;
  }
  // #endregion timestamp

  // #region recover
  /**
   * Checks every batch (length, magic, CRC, offsets increasing and inside this
   * segment), rebuilds both indexes, and cuts the file at the first bad byte.
   * `previousLastOffset` is the last offset of the segment before this one.
   */
  recover(previousLastOffset: number): RecoveryResult {
    this.resetState();
    let validBytes = 0;
    let reason: string | undefined;
    let last = Math.max(previousLastOffset, this.baseOffset - 1);
    try {
      for (const batch of this.log.batches(0, { withBytes: true })) {
        verifyBatch(batch.bytes!, 0, batch.size);
        if (batch.baseOffset <= last) {
          throw new CorruptBatchError(
            `offset ${batch.baseOffset} does not follow ${last}`,
            batch.position,
          );
        }
        if (batch.lastOffset - this.baseOffset > MAX_RELATIVE_OFFSET) {
          throw new CorruptBatchError(
            `offset ${batch.lastOffset} is too far from the segment base`,
            batch.position,
          );
        }
        if (validBytes === 0) this.firstBatchTimestamp = batch.maxTimestamp;
        this.observe(batch.lastOffset, batch.maxTimestamp, batch.position, batch.size);
        last = batch.lastOffset;
        validBytes = batch.position + batch.size;
      }
    } catch (err) {
      if (!(err instanceof CorruptBatchError)) throw err;
      reason = err.message;
    }
    const truncatedBytes = this.log.size - validBytes;
    if (truncatedBytes > 0) {
      reason ??= `a torn batch at byte ${validBytes}`;
      this.log.truncateTo(validBytes);
    }
    return reason === undefined
      ? { validBytes, truncatedBytes }
      : { validBytes, truncatedBytes, reason };
  }
  // #endregion recover

  /**
   * Recovery for a segment that may hold data past the recovery point. If
   * everything in it was flushed (a clean shutdown), loading it is enough;
   * otherwise it is recovered in full, as Kafka does: its indexes may be short
   * after a crash, so nothing derived from them is trusted.
   */
  recoverFrom(recoveryPoint: number, previousLastOffset: number): RecoveryResult | undefined {
    if (recoveryPoint > this.baseOffset) {
      const fallback = this.load(previousLastOffset);
      if (fallback) return fallback;
      if (this.nextOffset <= recoveryPoint) return undefined;
    }
    return this.recover(previousLastOffset);
  }

  /**
   * Loads a segment below the recovery point without checking CRCs: trusts
   * the indexes if they are sane, walks the batch headers after the last
   * index entry, and falls back to a full recover() when anything disagrees.
   */
  load(previousLastOffset: number): RecoveryResult | undefined {
    const sane = this.offsetIndex.isSane(this.log.size);
    const lastEntry = sane ? this.offsetIndex.lastEntry : undefined;
    try {
      if (!sane) throw new CorruptBatchError('index is not sane');
      this.resetState({ keepIndexes: true });
      this.maxTime = undefined;
      const tail = this.log.batches(lastEntry?.position ?? 0);
      let end = lastEntry?.position ?? 0;
      let first = true;
      for (const batch of tail) {
        if (first && lastEntry && batch.lastOffset !== lastEntry.offset)
          throw new CorruptBatchError('index disagrees');
        if (first && !lastEntry) this.firstBatchTimestamp = batch.maxTimestamp;
        first = false;
        this.lastOffset = batch.lastOffset;
        end = batch.position + batch.size;
      }
      if (end !== this.log.size) throw new CorruptBatchError('the last batch is cut short');
      if (this.lastOffset <= previousLastOffset && !this.isEmpty)
        throw new CorruptBatchError('offsets go back');
      const lastTime = this.timeIndex.lastEntry;
      if (!this.timeIndex.isSane(this.lastOffset))
        throw new CorruptBatchError('time index is not sane');
      if (lastTime && this.translateOffset(lastTime.offset)?.maxTimestamp !== lastTime.timestamp) {
        throw new CorruptBatchError('the last time index entry does not match its batch');
      }
      if (lastEntry && this.firstBatchTimestamp < 0)
        this.firstBatchTimestamp = this.firstBatchTimestampFromLog();
      this.bytesSinceLastIndexEntry = this.log.size - (lastEntry?.position ?? 0);
      return undefined;
    } catch (err) {
      if (!(err instanceof CorruptBatchError)) throw err;
      return this.recover(previousLastOffset);
    }
  }

  private firstBatchTimestampFromLog(): number {
    for (const batch of this.log.batches(0)) return batch.maxTimestamp;
    return -1;
  }

  /** Rebuilds both indexes from the batch headers, without CRC checks. */
  rebuildIndexes(): void {
    this.resetState();
    for (const batch of this.log.batches(0)) {
      if (this.firstBatchTimestamp < 0) this.firstBatchTimestamp = batch.maxTimestamp;
      this.observe(batch.lastOffset, batch.maxTimestamp, batch.position, batch.size);
    }
  }

  private resetState(options: { keepIndexes?: boolean } = {}): void {
    if (!options.keepIndexes) {
      this.offsetIndex.reset();
      this.timeIndex.reset();
    }
    this.lastOffset = this.baseOffset - 1;
    this.maxTime = { timestamp: -1, offset: -1 };
    this.firstBatchTimestamp = -1;
    this.bytesSinceLastIndexEntry = 0;
  }

  /**
   * Removes every batch whose last offset is ≥ `offset` and returns the base
   * offset of the first batch removed (undefined when nothing was).
   */
  truncateTo(offset: number): number | undefined {
    const first = this.translateOffset(offset);
    if (!first) return undefined;
    this.log.truncateTo(first.position);
    this.offsetIndex.truncateFrom(offset, first.position);
    this.timeIndex.truncateFrom(first.baseOffset);
    this.load(this.baseOffset - 1);
    return first.baseOffset;
  }

  /** Called when the segment stops being active: record its final largest timestamp. */
  onBecomeInactive(): void {
    const maxTime = this.maxTime ?? this.scanMaxTimestamp();
    if (maxTime.timestamp >= 0) this.timeIndex.maybeAppend(maxTime.timestamp, maxTime.offset);
  }

  async flush(): Promise<void> {
    await Promise.all([this.log.flush(), this.offsetIndex.flush(), this.timeIndex.flush()]);
  }

  close(options: { persist?: boolean } = {}): void {
    this.log.close();
    this.offsetIndex.close(options);
    this.timeIndex.close(options);
  }

  /** Closes and removes the segment's three files. */
  delete(): void {
    this.close();
    for (const path of this.files()) rmSync(path, { force: true });
  }

  files(): string[] {
    return [this.log.path, this.offsetIndex.path, this.timeIndex.path];
  }

  /** Renames the three files by adding `suffix` (".deleted", ".cleaned", ...). Closes first. */
  renameWithSuffix(suffix: string): string[] {
    this.close();
    const renamed: string[] = [];
    for (const path of this.files()) {
      if (existsSync(path)) {
        renameSync(path, path + suffix);
        renamed.push(path + suffix);
      }
    }
    return renamed;
  }
}
