/**
 * What one cleaning pass may touch, decided before it reads a record:
 *
 * - the cleanable range runs from the first segment to the end of the last
 *   inactive segment whose every offset is below the upper bound (the high
 *   watermark), stopping before the first dirty segment holding a record
 *   newer than `min.compaction.lag.ms` (its largest timestamp > now - lag;
 *   as in Kafka, looked at only when the lag is set). The active segment is
 *   never in it.
 * - the dirty part is what lies at or after the cleaner checkpoint; a pass
 *   is worth it when dirty bytes / cleanable bytes reach
 *   `min.cleanable.dirty.ratio`.
 * - consecutive cleanable segments are merged into one output segment while
 *   their input sizes sum to at most `segment.bytes`, their offsets fit the
 *   indexes' u32 relative offsets, and their index entries fit an index.
 */
import { MAX_RELATIVE_OFFSET, type Segment } from '../segment.js';
import type { CleanableLog } from './cleanable-log.js';
import type { Slicer } from './slicer.js';

export interface CleaningPlan {
  /** The cleanable segments, oldest first. */
  segments: readonly Segment[];
  /** The cleanable range of offsets: [start, end). */
  start: number;
  end: number;
  /** Where the dirty part starts: the cleaner checkpoint, at least `start`. */
  dirtyStart: number;
  dirtyBytes: number;
  totalBytes: number;
}

// #region cleanable-range
/** The plan for a pass at `now`, or why there is nothing to clean. */
export async function planCleaning(
  log: CleanableLog,
  now: number,
  upperBound: number,
  slicer: Slicer,
): Promise<CleaningPlan | string> {
  const inactive = log.segments().slice(0, -1);
  const segments: Segment[] = [];
  for (const segment of inactive) {
    if (segment.nextOffset > upperBound) break;
    segments.push(segment);
  }
  if (segments.length === 0) return 'nothing to clean';
  if (!log.holdsSegments(segments)) return 'the log is closed';
  const checkpoint = log.cleanerCheckpoint;
  const lag = log.config['min.compaction.lag.ms'];
  // As Kafka: only with a lag, and only dirty segments (the clean ones were old enough when cleaned).
  const firstTooNew = lag <= 0 ? -1 : await firstNewerThan(segments, checkpoint, now - lag, slicer);
  if (firstTooNew >= 0) segments.length = firstTooNew;
  if (segments.length === 0) return 'nothing to clean (min.compaction.lag.ms)';
  if (!log.holdsSegments(segments))
    return 'the log changed during the pass (retention, truncation or close)';
  let dirtyBytes = 0;
  let totalBytes = 0;
  for (const segment of segments) {
    totalBytes += segment.size;
    if (segment.nextOffset > checkpoint) dirtyBytes += segment.size;
  }
  const start = segments[0]!.baseOffset;
  const end = segments[segments.length - 1]!.nextOffset;
  if (totalBytes === 0) return 'nothing to clean';
  return { segments, start, end, dirtyStart: Math.max(checkpoint, start), dirtyBytes, totalBytes };
}

/**
 * Index of the first segment at or after `checkpoint` holding a record newer
 * than `newest`, -1 when none does. A largest timestamp not known yet is read
 * from the batch headers here, in slices, not by Segment in one go.
 */
async function firstNewerThan(
  segments: readonly Segment[],
  checkpoint: number,
  newest: number,
  slicer: Slicer,
): Promise<number> {
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment.nextOffset <= checkpoint) continue;
    let maxTimestamp = -1;
    if (segment.isMaxTimestampKnown) {
      maxTimestamp = segment.maxTimestamp;
    } else {
      for (const batch of segment.log.batches(0)) {
        maxTimestamp = Math.max(maxTimestamp, batch.maxTimestamp);
        if (slicer.due()) await slicer.pause();
      }
    }
    if (maxTimestamp > newest) return i;
  }
  return -1;
}
// #endregion cleanable-range

// #region grouping
/** Splits the cleanable segments into runs that each become one output segment. */
export function groupSegments(segments: readonly Segment[], maxBytes: number): Segment[][] {
  const groups: Segment[][] = [];
  let i = 0;
  while (i < segments.length) {
    const first = segments[i]!;
    const group = [first];
    let bytes = first.size;
    // An output index may need one entry more per merged segment than its inputs had.
    let offsetEntries = first.offsetIndex.entries + 1;
    let timeEntries = first.timeIndex.entries + 1;
    for (let next = segments[i + 1]; next; next = segments[i + group.length]) {
      offsetEntries += next.offsetIndex.entries + 1;
      timeEntries += next.timeIndex.entries + 1;
      if (
        bytes + next.size > maxBytes ||
        next.lastOffset - first.baseOffset > MAX_RELATIVE_OFFSET ||
        offsetEntries > first.offsetIndex.maxEntries ||
        timeEntries > first.timeIndex.maxEntries
      ) {
        break;
      }
      bytes += next.size;
      group.push(next);
    }
    groups.push(group);
    i += group.length;
  }
  return groups;
}
// #endregion grouping
