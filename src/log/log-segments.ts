/**
 * The ordered list of a log's segments (Kafka's LogSegments): find the one
 * holding an offset, roll a new active segment, and take whole segments off
 * either end or swap a run of them for a cleaned one. It moves files only
 * through Segment; the rules of when to do so are the Log's and the cleaner's.
 *
 * Invariant: base offsets strictly increase, each segment starts where the
 * one before it ends, and the last segment is the active one.
 */
import type { Logger } from './logger.js';
import { rmSync } from 'node:fs';
import { DELETED_SUFFIX } from './log-loader.js';
import type { RetentionReason } from './retention.js';
import { Segment, type SegmentInfo, type SegmentOptions } from './segment.js';

export interface DeletedSegments {
  deleted: (SegmentInfo & { reason: RetentionReason; segment: Segment })[];
  deletedBytes: number;
}

export class LogSegments {
  private list: Segment[];

  constructor(
    readonly dir: string,
    readonly options: SegmentOptions,
    segments: Segment[],
    private readonly logger: Logger,
  ) {
    if (segments.length === 0) throw new Error('a log has at least one segment');
    this.list = segments;
  }

  get all(): readonly Segment[] {
    return this.list;
  }

  get active(): Segment {
    return this.list[this.list.length - 1]!;
  }

  get first(): Segment {
    return this.list[0]!;
  }

  get size(): number {
    return this.list.reduce((sum, s) => sum + s.size, 0);
  }

  /** Index of the segment whose base offset is the greatest ≤ offset (0 when none is). */
  floorIndex(offset: number): number {
    let lo = 0;
    let hi = this.list.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.list[mid]!.baseOffset <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  // #region read
  /**
   * Whole batches from the one holding `offset`, as file bytes, none holding
   * `maxOffset` or beyond. After compaction an offset may fall in a gap at a
   * segment's end; the read then starts in the next segment.
   */
  read(offset: number, maxBytes: number, maxOffset: number): Buffer {
    for (let i = this.floorIndex(offset); i < this.list.length; i++) {
      const segment = this.list[i]!;
      if (segment.baseOffset >= maxOffset) break;
      const end =
        maxOffset > segment.lastOffset
          ? segment.size
          : segment.translateOffset(maxOffset)!.position;
      const bytes = segment.read(offset, maxBytes, end);
      if (bytes) return bytes;
    }
    return Buffer.alloc(0);
  }
  // #endregion read

  /** The first offset ≥ `startOffset` whose record timestamp is ≥ `timestamp`. */
  offsetForTimestamp(timestamp: number, startOffset: number): number | undefined {
    for (const segment of this.list) {
      if (segment.maxTimestamp < timestamp) continue;
      const found = segment.findOffsetByTimestamp(
        timestamp,
        Math.max(startOffset, segment.baseOffset),
      );
      if (found !== undefined) return found;
    }
    return undefined;
  }

  // #region roll
  /** Starts a new active segment at `baseOffset`, the log end offset. */
  roll(baseOffset: number): Segment {
    const previous = this.active;
    previous.onBecomeInactive();
    previous.offsetIndex.persist();
    previous.timeIndex.persist();
    const segment = Segment.open(this.dir, baseOffset, this.options);
    this.list.push(segment);
    this.logger.info(`rolled to a new segment ${segment.path} after ${previous.size} bytes`);
    return segment;
  }
  // #endregion roll

  /**
   * Deletes the `count` oldest segments (never the active one), renaming
   * their files `.deleted` first so that a crash finishes the job on open,
   * and says so in plain words.
   */
  deleteOldest(count: number, reasons: RetentionReason[]): DeletedSegments {
    const victims = this.list.splice(0, Math.min(count, this.list.length - 1));
    const deleted = victims.map((segment, i) => ({
      ...segment.info(),
      reason: reasons[i]!,
      segment,
    }));
    for (const segment of victims) {
      for (const path of segment.renameWithSuffix(DELETED_SUFFIX)) rmSync(path, { force: true });
    }
    const deletedBytes = deleted.reduce((sum, s) => sum + s.size, 0);
    if (victims.length > 0) {
      this.logger.info(
        `retention deleted ${victims.length} segment(s), ${deletedBytes} bytes, of ${this.dir} ` +
          `(${[...new Set(reasons)].join(', ')}); the oldest now starts at offset ${this.first.baseOffset}`,
      );
    }
    return { deleted, deletedBytes };
  }

  /** How many of the oldest segments hold only offsets below `offset` (never counting the active one). */
  countBelow(offset: number): number {
    let count = 0;
    while (count < this.list.length - 1 && this.list[count]!.nextOffset <= offset) count++;
    return count;
  }

  /** Takes off every segment, but the first, whose base offset is ≥ `offset`. */
  removeFrom(offset: number): Segment[] {
    const removed: Segment[] = [];
    while (this.list.length > 1 && this.active.baseOffset >= offset) removed.push(this.list.pop()!);
    return removed;
  }

  /** Deletes every segment and starts one new, empty segment at `offset`; returns the old ones. */
  resetTo(offset: number): Segment[] {
    const old = this.list;
    for (const segment of old) segment.delete(); // first: the new segment may reuse a name
    this.list = [Segment.open(this.dir, offset, this.options)];
    return old;
  }

  /** Whether `run` is, segment for segment, a contiguous run of this list. */
  holds(run: readonly Segment[]): boolean {
    const at = this.list.indexOf(run[0]!);
    return (
      at >= 0 && run.every((s, i) => this.list[at + i] === s) && at + run.length < this.list.length
    );
  }

  /** Swaps the run for its replacement when the list still holds it (never the active segment). */
  replace(run: readonly Segment[], replacement: Segment): boolean {
    if (run.length === 0 || !this.holds(run)) return false;
    this.list.splice(this.list.indexOf(run[0]!), run.length, replacement);
    return true;
  }
}
