/**
 * Checking a segment when its log opens. Two depths:
 *
 * - `recoverSegment`: every batch is checked in full — length, magic, CRC,
 *   offsets increasing and inside the segment — the indexes are rebuilt, and
 *   the file is cut at the first bad byte. For segments that may hold data
 *   written after the last flush (a crash can tear anything there).
 * - `loadSegment`: for segments whose data was all flushed. CRCs are not
 *   read; the indexes are checked (sane, not short, naming the right batches)
 *   and rebuilt from the headers when in doubt; the batch headers after the
 *   last index entry must end exactly at the end of the file, or the segment
 *   is recovered in full after all.
 *
 * Invariant: a log is valid up to its first bad batch, never around it.
 */
import { verifyBatch } from './batch-header.js';
import { CorruptBatchError } from './errors.js';
import { MAX_RELATIVE_OFFSET, type Segment } from './segment.js';

export interface RecoveryResult {
  validBytes: number;
  truncatedBytes: number;
  /** Why recovery stopped early, when it did. */
  reason?: string;
}

// #region recover
/** Checks every batch and cuts the file at the first bad one. `previousLastOffset`: the segment before's. */
export function recoverSegment(segment: Segment, previousLastOffset: number): RecoveryResult {
  segment.reset();
  let validBytes = 0;
  let reason: string | undefined;
  let last = Math.max(previousLastOffset, segment.baseOffset - 1);
  try {
    for (const batch of segment.log.batches(0, { withBytes: true })) {
      verifyBatch(batch.bytes!, 0, batch.size, batch.position);
      if (batch.baseOffset <= last) {
        throw new CorruptBatchError(
          `offset ${batch.baseOffset} does not follow ${last}`,
          batch.position,
        );
      }
      if (batch.lastOffset - segment.baseOffset > MAX_RELATIVE_OFFSET) {
        throw new CorruptBatchError(
          `offset ${batch.lastOffset} is too far from the base`,
          batch.position,
        );
      }
      segment.track(batch.lastOffset, batch.maxTimestamp, batch.position, batch.size);
      last = batch.lastOffset;
      validBytes = batch.position + batch.size;
    }
  } catch (err) {
    if (!(err instanceof CorruptBatchError)) throw err;
    reason = err.message;
  }
  const truncatedBytes = segment.size - validBytes;
  if (truncatedBytes > 0) segment.log.truncateTo(validBytes);
  if (truncatedBytes > 0) reason ??= `a torn batch at byte ${validBytes}`;
  return reason === undefined
    ? { validBytes, truncatedBytes }
    : { validBytes, truncatedBytes, reason };
}
// #endregion recover

/**
 * For a segment that may hold data past the recovery point: if all of it was
 * flushed (a clean shutdown) loading is enough; otherwise it is recovered in
 * full, as Kafka does.
 */
export function recoverSegmentFrom(
  segment: Segment,
  recoveryPoint: number,
  previousLastOffset: number,
): RecoveryResult | undefined {
  if (recoveryPoint > segment.baseOffset) {
    const fallback = loadSegment(segment, previousLastOffset);
    if (fallback || segment.nextOffset <= recoveryPoint) return fallback;
  }
  return recoverSegment(segment, previousLastOffset);
}

/** Loads a flushed segment without reading CRCs; see the file comment. */
export function loadSegment(
  segment: Segment,
  previousLastOffset: number,
): RecoveryResult | undefined {
  const tail = indexesAgree(segment) ? walkTail(segment) : 'index';
  if (tail === 'index') {
    if (!rebuildIndexes(segment)) return recoverSegment(segment, previousLastOffset);
  } else if (tail === 'log') {
    return recoverSegment(segment, previousLastOffset);
  }
  if (!segment.isEmpty && segment.lastOffset <= previousLastOffset) {
    return recoverSegment(segment, previousLastOffset);
  }
  return undefined;
}

/** Rebuilds the indexes from the headers; false when the headers themselves are damaged. */
function rebuildIndexes(segment: Segment): boolean {
  try {
    return segment.rebuildIndexes() === segment.size;
  } catch (err) {
    if (err instanceof CorruptBatchError) return false;
    throw err;
  }
}

function indexesAgree(segment: Segment): boolean {
  const { offsetIndex, timeIndex } = segment;
  if (!offsetIndex.isSane(segment.size)) return false;
  // Every offset index entry comes with a time index entry or follows one.
  if (offsetIndex.entries > 0 && timeIndex.entries === 0) return false;
  return true;
}

/**
 * Walks the batch headers after the last offset index entry, as the append
 * path would have indexed them: 'index' when an entry is missing or wrong,
 * 'log' when the batches do not end exactly at the end of the file.
 */
function walkTail(segment: Segment): 'ok' | 'index' | 'log' {
  const lastEntry = segment.offsetIndex.lastEntry;
  const interval = segment.options.indexIntervalBytes;
  segment.reset({ keepIndexes: true });
  segment.forgetMaxTimestamp();
  let end = lastEntry?.position ?? 0;
  let pending = lastEntry ? -1 : 0;
  // The time index got an entry with the largest timestamp so far whenever the offset index got one.
  let timeIndexMustReach = -1;
  try {
    for (const batch of segment.log.batches(end)) {
      if (pending < 0) {
        if (batch.lastOffset !== lastEntry!.offset) return 'index';
        timeIndexMustReach = batch.maxTimestamp;
        pending = 0;
      } else if (pending >= interval) {
        return 'index'; // the append path would have indexed this batch: the index is short
      }
      if (batch.position === 0) segment.firstBatchTimestamp = batch.maxTimestamp;
      pending += batch.size;
      segment.lastOffset = batch.lastOffset;
      end = batch.position + batch.size;
    }
  } catch (err) {
    if (err instanceof CorruptBatchError) return 'log';
    throw err;
  }
  if (end !== segment.size) return 'log';
  if (lastEntry && segment.firstBatchTimestamp < 0) {
    for (const batch of segment.log.batches(0)) {
      segment.firstBatchTimestamp = batch.maxTimestamp;
      break;
    }
  }
  segment.bytesSinceLastIndexEntry = pending;
  const lastTime = segment.timeIndex.lastEntry;
  if (!segment.timeIndex.isSane(segment.lastOffset)) return 'index';
  if ((lastTime?.timestamp ?? -1) < timeIndexMustReach) return 'index'; // cut short
  if (lastTime && segment.translateOffset(lastTime.offset)?.maxTimestamp !== lastTime.timestamp) {
    return 'index';
  }
  return 'ok';
}
