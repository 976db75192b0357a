/**
 * The `.index` file: a sparse map from offset to file position, one entry each
 * time at least `index.interval.bytes` of log were written since the last.
 *
 *   entry := relativeOffset u32 | position u32          (8 bytes)
 *
 * Offsets here are relative to the segment's base offset, and each entry names
 * the *last* offset of the batch that starts at `position` (as Kafka does).
 * A lookup gives the greatest entry ≤ the target; the segment scans forward
 * from there. Invariant: entries strictly increase in offset and position.
 */
import { SparseIndex } from './sparse-index.js';

// #region layout
export const OFFSET_WIDTH = 4;
export const POSITION_WIDTH = 4;
export const OFFSET_ENTRY_WIDTH = OFFSET_WIDTH + POSITION_WIDTH;
// #endregion layout

export interface OffsetPosition {
  offset: number;
  position: number;
}

export class OffsetIndex extends SparseIndex {
  constructor(
    path: string,
    readonly baseOffset: number,
    maxIndexBytes: number,
  ) {
    super(path, OFFSET_ENTRY_WIDTH, Math.floor(maxIndexBytes / OFFSET_ENTRY_WIDTH));
  }

  entry(slot: number): OffsetPosition {
    const at = slot * OFFSET_ENTRY_WIDTH;
    return {
      offset: this.baseOffset + this.mem.readUInt32BE(at),
      position: this.mem.readUInt32BE(at + OFFSET_WIDTH),
    };
  }

  get lastEntry(): OffsetPosition | undefined {
    return this.count > 0 ? this.entry(this.count - 1) : undefined;
  }

  append(offset: number, position: number): void {
    const at = this.reserve();
    this.mem.writeUInt32BE(offset - this.baseOffset, at);
    this.mem.writeUInt32BE(position, at + OFFSET_WIDTH);
  }

  /** The greatest entry whose offset ≤ target, or undefined when there is none. */
  lookup(target: number): OffsetPosition | undefined {
    const relative = target - this.baseOffset;
    if (relative < 0) return undefined;
    const slot = this.floorSlot(relative, (s) => this.mem.readUInt32BE(s * OFFSET_ENTRY_WIDTH));
    return slot < 0 ? undefined : this.entry(slot);
  }

  /** Strictly increasing entries, all inside a log of `logSize` bytes. */
  isSane(logSize: number): boolean {
    let prev: OffsetPosition | undefined;
    for (let slot = 0; slot < this.count; slot++) {
      const e = this.entry(slot);
      if (e.position >= logSize) return false;
      if (prev && (e.offset <= prev.offset || e.position <= prev.position)) return false;
      prev = e;
    }
    return true;
  }
}
