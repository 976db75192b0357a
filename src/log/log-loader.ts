/**
 * Opening a log directory: finish or undo half-done file operations, then load
 * the segments in offset order. Segments wholly below the recovery point were
 * flushed, so they are only sanity-checked (indexes, and the batch headers
 * after the last index entry); every batch from the recovery point on is
 * checked in full (length, magic, CRC, offsets increasing), and each segment
 * must start at the offset where the one before it ends. At the first bad
 * byte the log is cut, and every later segment is deleted: a log is valid up
 * to its first bad batch, never around it.
 *
 * Damage to flushed data (a disk that flips a bit in an old segment) is not
 * a crash and is not looked for here: `samsa dump-log` finds it, and readers
 * see it as a CRC failure (LOG_CORRUPT_BATCH), as with Kafka.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { TMP_SUFFIX } from './checkpoint.js';
import type { Logger } from './logger.js';
import { loadSegment, recoverSegmentFrom } from './segment-recovery.js';
import {
  INDEX_SUFFIX,
  LOG_SUFFIX,
  Segment,
  type SegmentOptions,
  TIME_INDEX_SUFFIX,
} from './segment.js';

/** Suffixes of files that are never live data: half-finished steps of a swap or a delete. */
export const DELETED_SUFFIX = '.deleted';
export const CLEANED_SUFFIX = '.cleaned';
export const SWAP_SUFFIX = '.swap';

const SEGMENT_FILE = /^(\d{20})\.(log|index|timeindex)$/;

export interface LoadReport {
  segments: Segment[];
  /** Bytes cut from torn or corrupt batches. */
  truncatedBytes: number;
  /** Whole segments dropped because they came after the damage. */
  droppedSegments: number;
  /** Temporary files removed. */
  removedTemporaryFiles: string[];
}

export function loadSegments(
  dir: string,
  options: SegmentOptions,
  recoveryPoint: number,
  logger: Logger,
): LoadReport {
  const removedTemporaryFiles = removeTemporaryFiles(dir);
  const bases = new Set<number>();
  const orphans: string[] = [];
  for (const name of readdirSync(dir)) {
    const match = SEGMENT_FILE.exec(name);
    if (!match) continue;
    if (match[2] === 'log') bases.add(Number(match[1]));
    else orphans.push(name);
  }
  // An index without its log is derived from nothing: remove it.
  for (const name of orphans) {
    const base = Number(name.slice(0, 20));
    if (!bases.has(base)) rmSync(join(dir, name), { force: true });
  }

  const sorted = [...bases].sort((a, b) => a - b);
  const segments: Segment[] = [];
  let truncatedBytes = 0;
  let droppedSegments = 0;
  let previous: Segment | undefined;
  for (let i = 0; i < sorted.length; i++) {
    const baseOffset = sorted[i]!;
    // Segments are rolled at the log end offset, so each starts where the one
    // before ended; anything else means the one before lost its tail.
    if (previous && baseOffset !== previous.nextOffset) {
      logger.warn(
        `segment ${baseOffset} does not start where ${previous.path} ends (${previous.nextOffset})`,
      );
      droppedSegments += dropFrom(sorted, i, dir, options);
      break;
    }
    const segment = Segment.open(dir, baseOffset, options);
    const nextBase = sorted[i + 1];
    const flushed = nextBase !== undefined && nextBase <= recoveryPoint;
    const previousLastOffset = previous ? previous.lastOffset : -1;
    const result = flushed
      ? loadSegment(segment, previousLastOffset)
      : recoverSegmentFrom(segment, recoveryPoint, previousLastOffset);
    segments.push(segment);
    if (result && result.truncatedBytes > 0) {
      truncatedBytes += result.truncatedBytes;
      logger.warn(
        `recovery cut ${result.truncatedBytes} bytes from ${segment.path}: ${result.reason}`,
      );
      droppedSegments += dropFrom(sorted, i + 1, dir, options);
      break;
    }
    // A rebuilt time index gets back the final entry that roll and close add.
    if (nextBase !== undefined && segment.isMaxTimestampKnown) segment.onBecomeInactive();
    previous = segment;
  }
  if (droppedSegments > 0)
    logger.warn(`recovery dropped ${droppedSegments} segment(s) after the damage`);
  return { segments, truncatedBytes, droppedSegments, removedTemporaryFiles };
}

function dropFrom(
  sorted: number[],
  from: number,
  dir: string,
  options: SegmentOptions,
  opened?: Segment,
): number {
  let dropped = 0;
  for (let j = from; j < sorted.length; j++) {
    const segment = j === from && opened ? opened : Segment.open(dir, sorted[j]!, options);
    segment.delete();
    dropped++;
  }
  return dropped;
}

function removeTemporaryFiles(dir: string): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    if (
      name.endsWith(DELETED_SUFFIX) ||
      name.endsWith(CLEANED_SUFFIX) ||
      name.endsWith(TMP_SUFFIX)
    ) {
      rmSync(join(dir, name), { force: true });
      removed.push(name);
    } else if (name.endsWith(SWAP_SUFFIX)) {
      // A swap is only started once its new files are complete; the cleaner
      // (issue: compaction) finishes it. Until then a stray swap file is undone.
      rmSync(join(dir, name), { force: true });
      removed.push(name);
    }
  }
  return removed;
}

export { INDEX_SUFFIX, LOG_SUFFIX, TIME_INDEX_SUFFIX };
