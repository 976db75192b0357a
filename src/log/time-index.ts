/**
 * The `.timeindex` file: a sparse map from timestamp to offset.
 *
 *   entry := timestamp i64 | relativeOffset u32          (12 bytes)
 *
 * An entry (T, O) says: T is the largest timestamp of the segment up to the
 * batch whose last offset is O, and that batch is the first to reach T. So
 * every batch before O's has timestamps < T, and a search for the first
 * offset with timestamp ≥ target may start at the greatest entry with T ≤ target.
 * Entries are appended only when T grows: both columns strictly increase.
 */
import { SparseIndex } from './sparse-index.js';

// #region layout
export const TIMESTAMP_WIDTH = 8;
export const TIME_OFFSET_WIDTH = 4;
export const TIME_ENTRY_WIDTH = TIMESTAMP_WIDTH + TIME_OFFSET_WIDTH;
// #endregion layout

export interface TimestampOffset {
  timestamp: number;
  offset: number;
}

export class TimeIndex extends SparseIndex {
  constructor(
    path: string,
    readonly baseOffset: number,
    maxIndexBytes: number,
  ) {
    super(path, TIME_ENTRY_WIDTH, Math.floor(maxIndexBytes / TIME_ENTRY_WIDTH));
  }

  entry(slot: number): TimestampOffset {
    const at = slot * TIME_ENTRY_WIDTH;
    return {
      timestamp: Number(this.mem.readBigInt64BE(at)),
      offset: this.baseOffset + this.mem.readUInt32BE(at + TIMESTAMP_WIDTH),
    };
  }

  get lastEntry(): TimestampOffset | undefined {
    return this.count > 0 ? this.entry(this.count - 1) : undefined;
  }

  /** Appends (timestamp, offset) when the timestamp is larger than the last entry's. */
  maybeAppend(timestamp: number, offset: number): void {
    const last = this.lastEntry;
    if (last && (timestamp <= last.timestamp || offset <= last.offset)) return;
    const at = this.reserve();
    this.mem.writeBigInt64BE(BigInt(timestamp), at);
    this.mem.writeUInt32BE(offset - this.baseOffset, at + TIMESTAMP_WIDTH);
  }

  /** The greatest entry whose timestamp ≤ target, or undefined. */
  lookup(target: number): TimestampOffset | undefined {
    const slot = this.floorSlot(target, (s) =>
      Number(this.mem.readBigInt64BE(s * TIME_ENTRY_WIDTH)),
    );
    return slot < 0 ? undefined : this.entry(slot);
  }

  /** Strictly increasing entries with offsets in [baseOffset, lastOffset]. */
  isSane(lastOffset: number): boolean {
    let prev: TimestampOffset | undefined;
    for (let slot = 0; slot < this.count; slot++) {
      const e = this.entry(slot);
      if (e.offset > lastOffset || !Number.isSafeInteger(e.timestamp)) return false;
      if (prev && (e.timestamp <= prev.timestamp || e.offset <= prev.offset)) return false;
      prev = e;
    }
    return true;
  }
}
