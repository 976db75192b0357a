/**
 * A segment is one `.log` file plus its `.index` and `.timeindex`, named by
 * its base offset padded to 20 digits so `ls` sorts them.
 *
 * Invariants: every offset in a segment is ≥ its base offset and > every
 * offset before it; index entries strictly increase and are sparse (one per
 * `index.interval.bytes` of log); the indexes are derived data, rebuilt from
 * the log whenever they are in doubt (missing, short, not increasing, or
 * pointing at a batch that is not the one they name). How a segment is
 * checked when a log opens is in segment-recovery.ts.
 *
 * Not safe for concurrent use: the owning Log serialises every call.
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BatchHeader } from './batch-header.js';
import type { LogConfig } from './config.js';
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

export function segmentOptionsOf(config: LogConfig): SegmentOptions {
  return {
    indexIntervalBytes: config['index.interval.bytes'],
    maxIndexBytes: config['segment.index.bytes'],
  };
}

/** What a segment looks like from outside, for tools and reports. */
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

interface MaxTime {
  timestamp: number;
  /** Last offset of the first batch to reach `timestamp`. */
  offset: number;
}

export class Segment {
  readonly log: FileRecords;
  readonly offsetIndex: OffsetIndex;
  readonly timeIndex: TimeIndex;
  /** The last offset of the last batch, or baseOffset - 1 when the segment is empty. */
  lastOffset: number;
  /** First batch's max timestamp: what `segment.ms` measures the segment's age from. */
  firstBatchTimestamp = -1;
  /** Bytes of log written since the last offset index entry. */
  bytesSinceLastIndexEntry = 0;
  /**
   * Largest timestamp, undefined until known. A segment loaded without a scan
   * learns it from its batch headers on first use, never from its time index,
   * which a crash or a damaged disk may leave short.
   */
  private maxTime: MaxTime | undefined = { timestamp: -1, offset: -1 };

  private constructor(
    readonly dir: string,
    readonly baseOffset: number,
    readonly options: SegmentOptions,
  ) {
    const path = (suffix: string) => join(dir, segmentFileName(baseOffset, suffix));
    this.log = FileRecords.open(path(LOG_SUFFIX));
    this.offsetIndex = new OffsetIndex(path(INDEX_SUFFIX), baseOffset, options.maxIndexBytes);
    this.timeIndex = new TimeIndex(path(TIME_INDEX_SUFFIX), baseOffset, options.maxIndexBytes);
    this.lastOffset = baseOffset - 1;
  }

  /** Opens (or creates) the segment's files without checking them (see segment-recovery.ts). */
  static open(dir: string, baseOffset: number, options: SegmentOptions): Segment {
    return new Segment(dir, baseOffset, options);
  }

  get size(): number {
    return this.log.size;
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

  info(): SegmentInfo {
    return {
      baseOffset: this.baseOffset,
      lastOffset: this.lastOffset,
      size: this.size,
      path: this.path,
      maxTimestamp: this.maxTimestamp,
      indexEntries: this.offsetIndex.entries,
      timeIndexEntries: this.timeIndex.entries,
    };
  }

  /** Largest timestamp of any batch here, -1 when empty. */
  get maxTimestamp(): number {
    return this.knownMaxTime().timestamp;
  }

  get isMaxTimestampKnown(): boolean {
    return this.maxTime !== undefined;
  }

  /** After loading without a scan: the largest timestamp will be read from the headers when needed. */
  forgetMaxTimestamp(): void {
    this.maxTime = undefined;
  }

  private knownMaxTime(): MaxTime {
    if (this.maxTime) return this.maxTime;
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

  // #region append
  /** Appends one batch whose offsets are already assigned. The Log checks it fits. */
  append(batch: Buffer, header: Pick<BatchHeader, 'lastOffset' | 'maxTimestamp'>): void {
    const position = this.log.append(batch);
    this.track(header.lastOffset, header.maxTimestamp, position, batch.length);
  }

  /**
   * Updates the in-memory state and the sparse indexes for the batch at
   * `position`: on append, and when recovery rebuilds the indexes.
   */
  track(lastOffset: number, maxTimestamp: number, position: number, size: number): void {
    const maxTime = this.knownMaxTime();
    if (this.firstBatchTimestamp < 0 && position === 0) this.firstBatchTimestamp = maxTimestamp;
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
  // #endregion append

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
            `index entry for ${entry.offset} names another batch`,
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

  /** Reads whole batches from `first`: at least it, then as many as fit in `maxBytes`. */
  readFrom(first: { position: number; size: number }, maxBytes: number, end = this.size): Buffer {
    const limit = Math.min(Math.max(maxBytes, first.size), end - first.position);
    const bytes = this.log.read(first.position, limit);
    if (limit <= first.size) return bytes.subarray(0, first.size);
    let length = 0;
    const walk = { end: first.position + bytes.length, chunk: bytes };
    for (const batch of this.log.batches(first.position, walk)) {
      length = batch.position + batch.size - first.position;
    }
    return bytes.subarray(0, length);
  }

  // #region read
  /**
   * Whole batches from the one holding `offset`: at least that one, then as
   * many as fit in `maxBytes`, none past byte `end`. One read from the index
   * entry at or below the offset covers both the short scan to the batch and
   * the batches returned; the file bytes are returned as they are.
   */
  read(offset: number, maxBytes: number, end = this.size): Buffer | undefined {
    if (offset > this.lastOffset) return undefined;
    const entry = this.offsetIndex.lookup(offset);
    const from = entry?.position ?? 0;
    const window = this.log.read(from, Math.min(end - from, maxBytes + TRANSLATE_CHUNK));
    let start: ScannedBatch | undefined;
    let length = 0;
    for (const batch of this.log.batches(from, { chunk: window, end: from + window.length })) {
      if (entry && batch.position === from && batch.lastOffset !== entry.offset) break; // index in doubt
      if (!start) {
        if (batch.lastOffset < offset) continue;
        start = batch;
      } else if (batch.position + batch.size - start.position > maxBytes) {
        break;
      }
      length = batch.position + batch.size - start.position;
    }
    if (start) return window.subarray(start.position - from, start.position - from + length);
    const first = this.translateOffset(offset); // the window fell short, or the index needs a rebuild
    return first && this.readFrom(first, maxBytes, end);
  }
  // #endregion read

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

  /** Forgets all derived state, and the index entries unless told to keep them. */
  reset(options: { keepIndexes?: boolean } = {}): void {
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
   * Rebuilds both indexes from the batch headers, without CRC checks, and
   * returns where the last whole batch ends (the file size unless torn).
   */
  rebuildIndexes(): number {
    this.reset();
    let end = 0;
    for (const batch of this.log.batches(0)) {
      this.track(batch.lastOffset, batch.maxTimestamp, batch.position, batch.size);
      end = batch.position + batch.size;
    }
    return end;
  }

  /**
   * Removes every batch whose last offset is ≥ `offset` and returns the base
   * offset of the first batch removed (undefined when nothing was).
   */
  truncateTo(offset: number): number | undefined {
    const first = this.translateOffset(offset);
    if (!first) return undefined;
    this.log.truncateTo(first.position);
    this.rebuildIndexes();
    return first.baseOffset;
  }

  /** Called when the segment stops being active: record its final largest timestamp. */
  onBecomeInactive(): void {
    const maxTime = this.knownMaxTime();
    if (maxTime.timestamp >= 0) this.timeIndex.maybeAppend(maxTime.timestamp, maxTime.offset);
  }

  /**
   * fsyncs the log file. Index entries are written out but not fsynced: they
   * are derived, checked on open and on use, and rebuilt when in doubt.
   */
  async flush(): Promise<void> {
    this.offsetIndex.persist();
    this.timeIndex.persist();
    await this.log.flush();
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
    for (const path of this.files().filter((p) => existsSync(p))) {
      renameSync(path, path + suffix);
      renamed.push(path + suffix);
    }
    return renamed;
  }
}
