/**
 * Cleaning one group of consecutive segments into one output segment, batch
 * by batch, in slices. This is where the cleaner's rule lives:
 *
 *   a record with key K at offset O is dropped iff the offset map holds K at
 *   an offset > O; a tombstone is also dropped once the delete horizon
 *   stamped on its batch has passed.
 *
 * It never touches control batches (transaction markers), records without a
 * key, or anything outside the group. A batch left empty vanishes, except the
 * group's last batch, which stays (recordCount 0, lastOffsetDelta kept) so
 * the output segment ends exactly where the next segment begins.
 */
import { CorruptBatchError } from '../errors.js';
import { CLEANED_SUFFIX } from '../log-loader.js';
import type { Segment, SegmentOptions } from '../segment.js';
import {
  type BatchRecords,
  type RawRecord,
  readBatchRecords,
  rebuildBatch,
} from './batch-filter.js';
import { CleanedSegment } from './cleaned-segment.js';
import { CLEANER_READ_CHUNK, type OffsetMap, crcCheckedByMap } from './offset-map.js';
import type { Slicer } from './slicer.js';

export interface GroupCleaning {
  map: OffsetMap;
  /** The offsets [from, to) the map was built over: their batches' CRCs were checked then. */
  mapFrom: number;
  mapTo: number;
  now: number;
  /** What a batch is stamped with when a pass first keeps a tombstone in it. */
  deleteHorizon: number;
  slicer: Slicer;
  /** False once the log no longer holds the group (retention, truncation, close). */
  stillHeld: () => boolean;
}

export interface GroupOutcome {
  cleaned: CleanedSegment;
  /** False when every batch came out byte for byte as it went in (the files are then gone). */
  changed: boolean;
  bytesRead: number;
  recordsRead: number;
  recordsKept: number;
  tombstonesRemoved: number;
}

// #region rule
/** Obsolete: a record of the same key sits at a later offset of the dirty part. */
function isObsolete(record: RawRecord, body: Buffer, map: OffsetMap): boolean {
  return (
    record.keyLength >= 0 &&
    map.latestOffset(body, record.keyStart, record.keyLength) > record.offset
  );
}
// #endregion rule

// #region tombstone
/** A tombstone goes once the horizon an earlier pass stamped on its batch is reached. */
function isExpiredTombstone(record: RawRecord, batch: BatchRecords, now: number): boolean {
  return record.isTombstone && batch.deleteHorizon !== undefined && batch.deleteHorizon <= now;
}

/** The first pass that keeps a tombstone stamps its batch: now + delete.retention.ms. */
function horizonToStamp(batch: BatchRecords, kept: readonly RawRecord[], horizon: number) {
  if (batch.deleteHorizon !== undefined || batch.isControl) return undefined;
  return kept.some((r) => r.isTombstone) ? horizon : undefined;
}
// #endregion tombstone

/**
 * Writes the cleaned group to `<base>.log.cleaned` and its indexes, fsynced
 * (swap step 1). Undefined, the files removed, when the log stopped holding
 * the group meanwhile.
 */
export async function cleanGroup(
  dir: string,
  options: SegmentOptions,
  group: readonly Segment[],
  ctx: GroupCleaning,
): Promise<GroupOutcome | undefined> {
  const first = group[0]!;
  const last = group[group.length - 1]!;
  if (!ctx.stillHeld()) return undefined; // the pass awaited since it last looked
  const cleaned = CleanedSegment.create(dir, first.baseOffset, CLEANED_SUFFIX, options);
  const outcome: GroupOutcome = {
    cleaned,
    changed: group.length > 1,
    bytesRead: 0,
    recordsRead: 0,
    recordsKept: 0,
    tombstonesRemoved: 0,
  };
  try {
    for (const segment of group) {
      let end = 0;
      const scan = { withBytes: true, chunkSize: CLEANER_READ_CHUNK };
      for (const scanned of segment.log.batches(0, scan)) {
        // Each batch's CRC is checked once a pass: here, or while the map was built.
        const checkCrc = !crcCheckedByMap(scanned, ctx.mapFrom, ctx.mapTo);
        const batch = readBatchRecords(scanned.bytes!, scanned.position, checkCrc);
        const isLast = segment === last && scanned.lastOffset === last.lastOffset;
        const out = filterBatch(batch, isLast, ctx, outcome);
        if (out !== batch.bytes) outcome.changed = true;
        if (out) cleaned.append(out, scanned.lastOffset, scanned.maxTimestamp);
        end = scanned.position + scanned.size;
        if (ctx.slicer.due()) {
          await ctx.slicer.pause();
          if (!ctx.stillHeld()) {
            cleaned.discard();
            return undefined;
          }
        }
      }
      if (end !== segment.size)
        throw new CorruptBatchError(`${segment.path} has a torn batch at byte ${end}`, end);
      outcome.bytesRead += segment.size;
    }
    if (cleaned.lastOffset !== last.lastOffset)
      throw new Error(
        `cleaned ${first.path}.. ends at ${cleaned.lastOffset}, not ${last.lastOffset}`,
      );
    if (outcome.changed) await cleaned.finish();
    else cleaned.discard(); // one segment that would come out byte for byte the same
    return outcome;
  } catch (err) {
    cleaned.discard();
    throw err;
  }
}

/** The batch to write for `batch`: itself, a rebuilt one, or undefined when it vanishes. */
function filterBatch(
  batch: BatchRecords,
  isLast: boolean,
  ctx: GroupCleaning,
  counts: GroupOutcome,
): Buffer | undefined {
  counts.recordsRead += batch.records.length;
  if (batch.isControl) {
    counts.recordsKept += batch.records.length;
    return batch.bytes; // transaction markers are the transactions' business
  }
  const kept: RawRecord[] = [];
  for (const record of batch.records) {
    if (isObsolete(record, batch.body, ctx.map) || isExpiredTombstone(record, batch, ctx.now)) {
      if (record.isTombstone) counts.tombstonesRemoved++;
    } else {
      kept.push(record);
    }
  }
  counts.recordsKept += kept.length;
  if (kept.length === 0 && !isLast) return undefined;
  return rebuildBatch(batch, kept, horizonToStamp(batch, kept, ctx.deleteHorizon));
}
