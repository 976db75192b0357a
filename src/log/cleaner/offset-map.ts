/**
 * The cleaner's offset map: for each key seen in the dirty part of the log,
 * the greatest offset holding it. Keys compare as bytes (a latin1 string
 * maps each byte to one character, so equal strings are equal bytes).
 * Records of control batches (transaction markers) and records without a
 * key are not entered: the cleaner never drops them by key.
 */
import type { Segment } from '../segment.js';
import { readBatchRecords } from './batch-filter.js';
import type { Slicer } from './slicer.js';

export class OffsetMap {
  private readonly latest = new Map<string, number>();

  /** Records that `key` (its bytes as latin1) is held at `offset`; offsets arrive in increasing order. */
  put(key: string, offset: number): void {
    this.latest.set(key, offset);
  }

  /** The greatest offset holding `key`, or -1 when the dirty part has none. */
  latestOffset(key: string): number {
    return this.latest.get(key) ?? -1;
  }

  get size(): number {
    return this.latest.size;
  }
}

/**
 * Reads every record with an offset in [from, to) of `segments` into a map,
 * in slices. Undefined when `stillHeld` says the log lost a segment meanwhile.
 */
export async function buildOffsetMap(
  segments: readonly Segment[],
  from: number,
  to: number,
  slicer: Slicer,
  stillHeld: () => boolean,
): Promise<OffsetMap | undefined> {
  const map = new OffsetMap();
  for (const segment of segments) {
    if (segment.nextOffset <= from) continue;
    const start = segment.translateOffset(from)?.position ?? 0;
    for (const scanned of segment.log.batches(start, { withBytes: true })) {
      if (scanned.lastOffset >= from && scanned.baseOffset < to) {
        const batch = readBatchRecords(scanned.bytes!, scanned.position);
        if (!batch.isControl) {
          for (const record of batch.records) {
            if (record.key !== null && record.offset >= from && record.offset < to)
              map.put(record.key, record.offset);
          }
        }
      }
      if (slicer.due()) {
        await slicer.pause();
        if (!stillHeld()) return undefined;
      }
    }
  }
  return map;
}
