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
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  CHECKPOINT_FILE,
  LOG_START_OFFSET,
  RECOVERY_POINT,
  TMP_SUFFIX,
  readCheckpoint,
} from './checkpoint.js';
import { CorruptBatchError } from './errors.js';
import { FileRecords } from './file-records.js';
import type { Logger } from './logger.js';
import { loadSegment, recoverSegmentFrom } from './segment-recovery.js';
import {
  INDEX_SUFFIX,
  LOG_SUFFIX,
  Segment,
  type SegmentOptions,
  TIME_INDEX_SUFFIX,
  segmentFileName,
} from './segment.js';

/** Suffixes of files that are never live data: half-finished steps of a swap or a delete. */
export const DELETED_SUFFIX = '.deleted';
export const CLEANED_SUFFIX = '.cleaned';
export const SWAP_SUFFIX = '.swap';

const SEGMENT_FILE = /^(\d{20})\.(log|index|timeindex)$/;
const LOG_SWAP_FILE = /^(\d{20})\.log\.swap$/;

export interface LoadReport {
  segments: Segment[];
  /** Bytes cut from torn or corrupt batches. */
  truncatedBytes: number;
  /** Whole segments dropped because they came after the damage. */
  droppedSegments: number;
  /** Temporary files removed. */
  removedTemporaryFiles: string[];
}

export interface LoadedLog {
  segments: Segment[];
  checkpoint: Map<string, number>;
  truncatedBytes: number;
}

/** Creates the directory or loads what is in it; there is always at least one segment. */
export function loadLog(dir: string, options: SegmentOptions, logger: Logger): LoadedLog {
  mkdirSync(dir, { recursive: true });
  const checkpoint = readCheckpoint(join(dir, CHECKPOINT_FILE));
  const report = loadSegments(dir, options, checkpoint.get(RECOVERY_POINT) ?? 0, logger);
  const segments = report.segments;
  if (segments.length === 0) {
    segments.push(Segment.open(dir, checkpoint.get(LOG_START_OFFSET) ?? 0, options));
  }
  return { segments, checkpoint, truncatedBytes: report.truncatedBytes };
}

export function loadSegments(
  dir: string,
  options: SegmentOptions,
  recoveryPoint: number,
  logger: Logger,
): LoadReport {
  const removedTemporaryFiles = removeTemporaryFiles(dir, logger);
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

// #region swap-recovery
/**
 * Finishes or undoes what a crash interrupted (see cleaner/swap.ts for the
 * steps). A `.cleaned` file never reached the commit point: deleted, the old
 * segments stand. A `<base>.log.swap` passed it: the live segments whose base
 * offsets lie in its range [base, its last offset] are deleted and the swap
 * files take their live names (a missing index is rebuilt by the loader).
 * Index swaps without their log swap, `.deleted` and `.tmp` files are
 * leftovers of steps that had finished: deleted.
 */
function removeTemporaryFiles(dir: string, logger: Logger): string[] {
  const removed: string[] = [];
  const remove = (name: string) => {
    rmSync(join(dir, name), { force: true });
    removed.push(name);
  };
  for (const name of readdirSync(dir)) if (name.endsWith(CLEANED_SUFFIX)) remove(name);
  for (const name of readdirSync(dir).sort()) {
    const match = LOG_SWAP_FILE.exec(name);
    if (match) finishSwap(dir, Number(match[1]), logger, remove);
  }
  for (const name of readdirSync(dir)) {
    if ([SWAP_SUFFIX, DELETED_SUFFIX, TMP_SUFFIX].some((suffix) => name.endsWith(suffix)))
      remove(name);
  }
  if (removed.length > 0)
    logger.info(`removed ${removed.length} temporary file(s) from ${dir}: ${removed.join(', ')}`);
  return removed;
}

/** Completes the swap of `<base>.log.swap` for the live segments it replaces. */
function finishSwap(
  dir: string,
  base: number,
  logger: Logger,
  remove: (name: string) => void,
): void {
  const swapName = segmentFileName(base, LOG_SUFFIX) + SWAP_SUFFIX;
  const last = lastOffsetIn(join(dir, swapName));
  if (last === undefined) {
    logger.warn(`${swapName} holds no whole batch: dropped, the segments it would replace stay`);
    return remove(swapName);
  }
  const replaced: string[] = [];
  for (const name of readdirSync(dir)) {
    const match = SEGMENT_FILE.exec(name);
    const segmentBase = match ? Number(match[1]) : -1;
    if (segmentBase < base || segmentBase > last) continue;
    rmSync(join(dir, name), { force: true });
    if (match![2] === 'log') replaced.push(name);
  }
  for (const suffix of [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX]) {
    const live = join(dir, segmentFileName(base, suffix));
    if (existsSync(live + SWAP_SUFFIX)) renameSync(live + SWAP_SUFFIX, live);
  }
  const what =
    replaced.length > 0
      ? `replaces ${replaced.join(', ')}`
      : 'takes the place of segments already set aside as .deleted';
  logger.info(
    `finished an interrupted cleaner swap in ${dir}: the cleaned segment for offsets ` +
      `${base}..${last} ${what}`,
  );
}

/** The last offset of the last whole batch in the file, undefined when it has none. */
function lastOffsetIn(path: string): number | undefined {
  const file = FileRecords.open(path);
  let last: number | undefined;
  try {
    for (const batch of file.batches(0)) last = batch.lastOffset;
  } catch (err) {
    if (!(err instanceof CorruptBatchError)) throw err; // keep what was read before the damage
  } finally {
    file.close();
  }
  return last;
}
// #endregion swap-recovery

export { INDEX_SUFFIX, LOG_SUFFIX, TIME_INDEX_SUFFIX };
