/**
 * The output of one cleaned group before it is swapped in:
 * `<base>.log.cleaned`, `<base>.index.cleaned` and `<base>.timeindex.cleaned`.
 * Batches are indexed exactly as Segment.track indexes the same batches
 * appended to a live segment (an offset index entry and a time index entry
 * each time `index.interval.bytes` of log were written since the last, and a
 * final time index entry as when a segment stops being active), so the
 * segment opens afterwards without a rebuild. Invariant: `finish` fsyncs the
 * log file before the swap may start; the indexes are derived and are not.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { FileRecords } from '../file-records.js';
import { OffsetIndex } from '../offset-index.js';
import {
  INDEX_SUFFIX,
  LOG_SUFFIX,
  type SegmentOptions,
  TIME_INDEX_SUFFIX,
  segmentFileName,
} from '../segment.js';
import { TimeIndex } from '../time-index.js';

/** Bytes of output gathered before one write. */
const WRITE_CHUNK = 64 * 1024;

/** The three files of a segment, log first, under a temporary suffix or none. */
export function segmentFiles(dir: string, baseOffset: number, suffix = ''): string[] {
  return [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX].map((s) =>
    join(dir, segmentFileName(baseOffset, s) + suffix),
  );
}

export class CleanedSegment {
  private readonly log: FileRecords;
  private readonly offsetIndex: OffsetIndex;
  private readonly timeIndex: TimeIndex;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private bytesSinceLastIndexEntry = 0;
  private maxTime = { timestamp: -1, offset: -1 };
  /** Bytes appended so far, pending ones included. */
  size = 0;
  lastOffset: number;

  private constructor(
    readonly dir: string,
    readonly baseOffset: number,
    readonly suffix: string,
    private readonly options: SegmentOptions,
  ) {
    const [log, index, timeIndex] = segmentFiles(dir, baseOffset, suffix);
    // Leftovers of an earlier pass that failed in this process: start afresh.
    for (const path of [log!, index!, timeIndex!]) rmSync(path, { force: true });
    this.log = FileRecords.open(log!);
    this.offsetIndex = new OffsetIndex(index!, baseOffset, options.maxIndexBytes);
    this.timeIndex = new TimeIndex(timeIndex!, baseOffset, options.maxIndexBytes);
    this.lastOffset = baseOffset - 1;
  }

  static create(
    dir: string,
    baseOffset: number,
    suffix: string,
    options: SegmentOptions,
  ): CleanedSegment {
    return new CleanedSegment(dir, baseOffset, suffix, options);
  }

  get files(): string[] {
    return segmentFiles(this.dir, this.baseOffset, this.suffix);
  }

  // #region append
  /** Appends one whole batch, indexing it as Segment.track would. */
  append(batch: Buffer, lastOffset: number, maxTimestamp: number): void {
    const position = this.size;
    if (maxTimestamp > this.maxTime.timestamp)
      this.maxTime = { timestamp: maxTimestamp, offset: lastOffset };
    if (this.bytesSinceLastIndexEntry >= this.options.indexIntervalBytes) {
      this.offsetIndex.append(lastOffset, position);
      this.timeIndex.maybeAppend(this.maxTime.timestamp, this.maxTime.offset);
      this.bytesSinceLastIndexEntry = 0;
    }
    this.bytesSinceLastIndexEntry += batch.length;
    this.lastOffset = lastOffset;
    this.size += batch.length;
    this.pending.push(batch);
    this.pendingBytes += batch.length;
    if (this.pendingBytes >= WRITE_CHUNK) this.drain();
  }
  // #endregion append

  private drain(): void {
    if (this.pendingBytes === 0) return;
    this.log.append(Buffer.concat(this.pending, this.pendingBytes));
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** Writes what is pending, the final time index entry and the indexes, fsyncs the log, closes. */
  async finish(): Promise<void> {
    this.drain();
    if (this.maxTime.timestamp >= 0)
      this.timeIndex.maybeAppend(this.maxTime.timestamp, this.maxTime.offset);
    this.offsetIndex.close();
    this.timeIndex.close();
    await this.log.flush();
    this.log.close();
  }

  /** Closes and deletes the files (a group given up before its commit point). */
  discard(): void {
    this.log.close();
    this.offsetIndex.close({ persist: false });
    this.timeIndex.close({ persist: false });
    for (const path of this.files) rmSync(path, { force: true });
  }
}
