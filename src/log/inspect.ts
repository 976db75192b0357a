/**
 * Read-only inspection of a log directory or of one segment file, for tools
 * like `samsa dump-log`. It never opens a Log, so it never recovers, truncates
 * or rebuilds anything: it works on a corrupt log, and on one a broker is
 * writing (it sees each file as it was when opened).
 *
 * A report lists `problems` (damage: a torn or corrupt batch, offsets going
 * backwards, an index entry naming the wrong batch, a checkpoint vouching for
 * data that is gone) apart from `notes` (facts worth knowing that are not
 * damage: a missing index, a leftover temporary file) and `offsetGaps`
 * (normal after compaction), and counts empty batches (the cleaner leaves
 * one at the end of each cleaned segment so its last offset survives) apart
 * from both. Every problem names its byte position or entry.
 */
import { closeSync, existsSync, fstatSync, openSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  CHECKPOINT_FILE,
  CLEANER_OFFSET,
  LOG_START_OFFSET,
  RECOVERY_POINT,
  TMP_SUFFIX,
  readCheckpoint,
} from './checkpoint.js';
import { type BatchReport, FileWindow, walkBatches } from './inspect-batches.js';
import {
  type IndexFileReport,
  type OffsetIndexEntryReport,
  type TimeIndexEntryReport,
  inspectOffsetIndex,
  inspectTimeIndex,
} from './inspect-index.js';
import { CLEANED_SUFFIX, DELETED_SUFFIX, SWAP_SUFFIX } from './log-loader.js';
import { INDEX_SUFFIX, LOG_SUFFIX, MAX_RELATIVE_OFFSET, TIME_INDEX_SUFFIX } from './segment.js';

export type { BatchReport } from './inspect-batches.js';
export type {
  IndexFileReport,
  OffsetIndexEntryReport,
  TimeIndexEntryReport,
} from './inspect-index.js';

export interface InspectOptions {
  /** Include each batch's decoded records in the report (default false). */
  records?: boolean;
}

/**
 * Offsets without a record between two records: what compaction (and a
 * segment lost from the middle) leaves, so information, not damage. A batch
 * whose records cannot be decoded counts as holding every offset it spans.
 */
export interface OffsetGap {
  /** Last offset before the gap that holds a record. */
  after: number;
  /** First offset after it that does. */
  next: number;
  missing: number;
  /** The `.log` file and byte position of the batch holding `next`. */
  path: string;
  position: number;
}

export interface SegmentReport {
  path: string;
  /** From the file name (or the first batch when the name is not a segment's). */
  baseOffset: number;
  size: number;
  /** Bytes of whole batches from the start; less than `size` when a batch is torn. */
  validBytes: number;
  batches: BatchReport[];
  /** Offsets of the first and last batch; undefined when there is none. */
  firstOffset: number | undefined;
  lastOffset: number | undefined;
  /** Offsets of the first and last record (an undecodable batch counts as all records). */
  firstRecordOffset: number | undefined;
  lastRecordOffset: number | undefined;
  records: number;
  tombstones: number;
  /** Batches holding no record (recordCount 0). */
  emptyBatches: number;
  offsetGaps: OffsetGap[];
  index: IndexFileReport<OffsetIndexEntryReport>;
  timeIndex: IndexFileReport<TimeIndexEntryReport>;
  problems: string[];
  notes: string[];
}

/** The checkpoint file's values, as written (absent ones undefined). */
export interface CheckpointReport {
  exists: boolean;
  recoveryPoint?: number;
  logStartOffset?: number;
  /** How far the cleaner has cleaned (`cleaner-offset`). */
  cleanerOffset?: number;
}

export interface LogReport {
  dir: string;
  checkpoint: CheckpointReport;
  /**
   * The first readable offset, as opening the log would compute it: the
   * checkpoint's log start offset, at least the first segment's base offset,
   * at most the log end offset.
   */
  logStartOffset: number;
  /**
   * Offsets below this have been cleaned at least once (or deleted), as
   * opening the log would compute it: the checkpoint's cleaner offset, at
   * least the log start offset.
   */
  cleanerCheckpoint: number;
  /** One past the last offset found, or the last segment's base offset when it is empty. */
  logEndOffset: number;
  segments: SegmentReport[];
  /** Every problem of every segment and of the log as a whole, each starting with its file. */
  problems: string[];
  notes: string[];
  tombstones: number;
  emptyBatches: number;
  offsetGaps: OffsetGap[];
  /** Names of half-finished deletes, compactions and checkpoint writes. */
  temporaryFiles: string[];
}

const SEGMENT_LOG_NAME = /^(\d{20})\.log$/;
const INDEX_NAME = /^(\d{20})\.(index|timeindex)$/;
const TEMPORARY_SUFFIXES = [DELETED_SUFFIX, CLEANED_SUFFIX, SWAP_SUFFIX, TMP_SUFFIX];
// The names the Log gives its checkpoint file and values.

// #region segment
/** Walks one `.log` file and checks the `.index` and `.timeindex` beside it. */
export function inspectSegment(logFilePath: string, options: InspectOptions = {}): SegmentReport {
  const problems: string[] = [];
  const notes: string[] = [];
  const fd = openSync(logFilePath, 'r');
  let walk;
  let size;
  try {
    size = fstatSync(fd).size;
    walk = walkBatches(new FileWindow(fd, size), options.records ?? false, problems, notes);
  } finally {
    closeSync(fd);
  }
  const { batches } = walk;
  const named = SEGMENT_LOG_NAME.exec(basename(logFilePath));
  const baseOffset = named ? Number(named[1]) : (batches[0]?.baseOffset ?? 0);
  if (!named)
    notes.push(
      `the file name is not <20-digit base offset>.log: base offset taken as ${baseOffset}`,
    );
  checkOffsets(baseOffset, batches, problems);
  const offsetGaps = walk.gaps.map((g) => gapOf(g.after, g.next, logFilePath, g.position));
  const stem = logFilePath.endsWith(LOG_SUFFIX)
    ? logFilePath.slice(0, -LOG_SUFFIX.length)
    : logFilePath;
  const index = inspectOffsetIndex(stem + INDEX_SUFFIX, baseOffset, batches, problems, notes);
  const timeIndex = inspectTimeIndex(
    stem + TIME_INDEX_SUFFIX,
    baseOffset,
    batches,
    problems,
    notes,
  );
  return {
    path: logFilePath,
    baseOffset,
    size,
    validBytes: walk.validBytes,
    batches,
    firstOffset: batches[0]?.baseOffset,
    lastOffset: batches[batches.length - 1]?.lastOffset,
    firstRecordOffset: walk.firstHeld,
    lastRecordOffset: walk.lastHeld,
    records: walk.records,
    tombstones: walk.tombstones,
    emptyBatches: walk.emptyBatches,
    offsetGaps,
    index,
    timeIndex,
    problems,
    notes,
  };
}

/** Offsets must stay inside the segment and increase (gaps are fine: see OffsetGap). */
function checkOffsets(
  baseOffset: number,
  batches: readonly BatchReport[],
  problems: string[],
): void {
  let prev: BatchReport | undefined;
  for (const batch of batches) {
    const at = `batch at byte ${batch.position}`;
    if (batch.baseOffset < baseOffset)
      problems.push(`${at} starts at offset ${batch.baseOffset}, below the base ${baseOffset}`);
    else if (batch.lastOffset - baseOffset > MAX_RELATIVE_OFFSET)
      problems.push(`${at} ends at offset ${batch.lastOffset}, too far from the base to index`);
    if (prev && batch.baseOffset <= prev.lastOffset) {
      problems.push(
        `offsets go backwards at byte ${batch.position}: the batch starts at offset ` +
          `${batch.baseOffset}, but the batch before ended at ${prev.lastOffset}`,
      );
    }
    prev = batch;
  }
}

function gapOf(after: number, next: number, path: string, position: number): OffsetGap {
  return { after, next, missing: next - after - 1, path, position };
}
// #endregion segment

// #region log
/** Inspects every segment of a log directory, in offset order, and the facts that span them. */
export function inspectLog(dir: string, options: InspectOptions = {}): LogReport {
  const names = readdirSync(dir).sort();
  const problems: string[] = [];
  const notes: string[] = [];
  const checkpoint = inspectCheckpoint(dir, notes);

  const temporaryFiles = names.filter((n) => TEMPORARY_SUFFIXES.some((s) => n.endsWith(s)));
  for (const name of temporaryFiles)
    notes.push(
      `${name} is left over from an unfinished step; the log finishes or undoes it on open`,
    );
  const bases = names
    .map((n) => SEGMENT_LOG_NAME.exec(n)?.[1])
    .filter((b): b is string => b !== undefined);
  for (const name of names) {
    const base = INDEX_NAME.exec(name)?.[1];
    if (base !== undefined && !bases.includes(base))
      notes.push(`${name} has no .log beside it; the log removes it on open`);
  }

  const segments = bases
    .sort((a, b) => Number(a) - Number(b))
    .map((base) => inspectSegment(join(dir, base + LOG_SUFFIX), options));
  const offsetGaps: OffsetGap[] = [];
  let previous: SegmentReport | undefined;
  let previousLast: number | undefined;
  let lastRecord: number | undefined; // the last offset holding a record in the segments so far
  let expectedBase: number | undefined; // where the segment before ends, empty or not
  for (const segment of segments) {
    const first = segment.batches[0];
    if (expectedBase !== undefined && segment.baseOffset > expectedBase)
      notes.push(
        `${basename(segment.path)} does not start where the segment before it ends (${expectedBase}); ` +
          'opening the log treats that hole as damage and drops this segment and every later one',
      );
    expectedBase = (segment.lastOffset ?? segment.baseOffset - 1) + 1;
    if (previous && previousLast !== undefined) {
      const start = first ? Math.min(segment.baseOffset, first.baseOffset) : segment.baseOffset;
      if (start <= previousLast) {
        problems.push(
          `${segment.path}: the segment starts at offset ${start}, but ` +
            `${basename(previous.path)} ends at offset ${previousLast}`,
        );
      }
    }
    const firstRecord = segment.firstRecordOffset;
    if (lastRecord !== undefined && firstRecord !== undefined && firstRecord > lastRecord + 1) {
      const holder = segment.batches.find((b) => b.lastOffset >= firstRecord) ?? first!;
      offsetGaps.push(gapOf(lastRecord, firstRecord, segment.path, holder.position));
    }
    if (segment.lastRecordOffset !== undefined)
      lastRecord = Math.max(lastRecord ?? -1, segment.lastRecordOffset);
    problems.push(...segment.problems.map((p) => `${segment.path}: ${p}`));
    notes.push(...segment.notes.map((n) => `${basename(segment.path)}: ${n}`));
    offsetGaps.push(...segment.offsetGaps);
    if (segment.lastOffset !== undefined) {
      previous = segment;
      previousLast = segment.lastOffset;
    }
  }

  // As the Log counts it: one past the active segment's last offset, or its base when empty.
  const active = segments[segments.length - 1];
  const logEndOffset = !active ? 0 : (active.lastOffset ?? active.baseOffset - 1) + 1;
  checkCheckpoint(join(dir, CHECKPOINT_FILE), checkpoint, logEndOffset, problems, notes);
  // As Log.open computes them.
  const logStartOffset = Math.min(
    Math.max(checkpoint.logStartOffset ?? 0, segments[0]?.baseOffset ?? 0),
    logEndOffset,
  );
  const cleanerCheckpoint = Math.max(checkpoint.cleanerOffset ?? 0, logStartOffset);
  noteDeletedPrefix(segments[0], logStartOffset, notes);
  return {
    dir,
    checkpoint,
    logStartOffset,
    cleanerCheckpoint,
    logEndOffset,
    segments,
    problems,
    notes,
    tombstones: segments.reduce((sum, s) => sum + s.tombstones, 0),
    emptyBatches: segments.reduce((sum, s) => sum + s.emptyBatches, 0),
    offsetGaps,
    temporaryFiles,
  };
}

/** Records below the log start offset are deleted, but stay on disk until their segment goes. */
function noteDeletedPrefix(
  first: SegmentReport | undefined,
  logStartOffset: number,
  notes: string[],
): void {
  const below = first?.batches.filter((b) => b.baseOffset < logStartOffset) ?? [];
  if (!first || below.length === 0) return;
  notes.push(
    `${basename(first.path)}: offsets ${below[0]!.baseOffset}..${logStartOffset - 1} lie below ` +
      `the log start offset ${logStartOffset}: deleted (unreadable), their bytes go with the segment`,
  );
}

function inspectCheckpoint(dir: string, notes: string[]): CheckpointReport {
  const path = join(dir, CHECKPOINT_FILE);
  if (!existsSync(path)) {
    notes.push(
      `no ${CHECKPOINT_FILE} file: the log was never flushed, so opening it checks it all`,
    );
    return { exists: false };
  }
  const values = readCheckpoint(path);
  if (values.size === 0)
    notes.push(`the ${CHECKPOINT_FILE} file is unreadable; the log ignores it`);
  return {
    exists: true,
    recoveryPoint: values.get(RECOVERY_POINT),
    logStartOffset: values.get(LOG_START_OFFSET),
    cleanerOffset: values.get(CLEANER_OFFSET),
  };
}

/** A checkpoint that vouches for offsets the log no longer holds means flushed data is gone. */
function checkCheckpoint(
  path: string,
  checkpoint: CheckpointReport,
  logEndOffset: number,
  problems: string[],
  notes: string[],
): void {
  const { recoveryPoint, logStartOffset } = checkpoint;
  if (recoveryPoint !== undefined && recoveryPoint > logEndOffset) {
    problems.push(
      `${path}: the recovery point ${recoveryPoint} is past the end of the log ` +
        `(${logEndOffset}): data that was flushed is missing`,
    );
  } else if (recoveryPoint !== undefined && recoveryPoint < logEndOffset) {
    notes.push(
      `offsets from ${recoveryPoint} on are not yet known to be flushed; opening the log checks them`,
    );
  }
  if (logStartOffset !== undefined && logStartOffset > logEndOffset)
    problems.push(
      `${path}: the log start offset ${logStartOffset} is past the end of the log (${logEndOffset})`,
    );
  const { cleanerOffset } = checkpoint;
  if (cleanerOffset !== undefined && cleanerOffset > logEndOffset)
    notes.push(
      `the cleaner offset ${cleanerOffset} is past the end of the log (${logEndOffset}): ` +
        'the log was truncated after it was cleaned',
    );
}
// #endregion log
