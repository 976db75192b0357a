/**
 * What the two indexes of a segment share: fixed-width entries appended to a
 * file, mirrored in memory for lookups. Entries are written to the file
 * lazily (at flush, roll and close); the index is derived data, so a crash
 * that loses its tail only means recovery rebuilds it from the log. Nothing
 * is pre-allocated, so a crash never leaves a run of zero entries behind.
 *
 * Invariant (checked by `isSane`): entries strictly increase, key and value.
 */
import { closeSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { fsyncFd } from './file-records.js';

export abstract class SparseIndex {
  protected mem: Buffer;
  protected count = 0;
  private persisted = 0;
  private fd: number;

  protected constructor(
    readonly path: string,
    readonly entrySize: number,
    readonly maxEntries: number,
  ) {
    this.fd = openSync(path, 'a+');
    const bytes = fstatSync(this.fd).size;
    this.count = Math.floor(bytes / entrySize);
    this.mem = Buffer.alloc(Math.max(entrySize * 64, this.count * entrySize));
    if (this.count > 0) readSync(this.fd, this.mem, 0, this.count * entrySize, 0);
    this.persisted = this.count;
    if (bytes % entrySize !== 0) ftruncateSync(this.fd, this.count * entrySize);
  }

  get entries(): number {
    return this.count;
  }

  get isFull(): boolean {
    return this.count >= this.maxEntries;
  }

  get sizeInBytes(): number {
    return this.count * this.entrySize;
  }

  protected reserve(): number {
    const pos = this.count * this.entrySize;
    if (pos + this.entrySize > this.mem.length) {
      const bigger = Buffer.alloc(this.mem.length * 2);
      this.mem.copy(bigger, 0, 0, pos);
      this.mem = bigger;
    }
    this.count++;
    return pos;
  }

  /** Binary search: index of the greatest entry whose key ≤ target, or -1. */
  protected floorSlot(target: number, keyAt: (slot: number) => number): number {
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (keyAt(mid) <= target) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /** Drops every entry, in memory and in the file (the index is about to be rebuilt). */
  reset(): void {
    this.count = 0;
    if (this.persisted > 0) {
      ftruncateSync(this.fd, 0);
      this.persisted = 0;
    }
  }

  /** Writes entries added since the last persist to the file. */
  persist(): void {
    if (this.fd < 0 || this.persisted === this.count) return;
    const from = this.persisted * this.entrySize;
    const to = this.count * this.entrySize;
    let done = 0;
    while (done < to - from)
      done += writeSync(this.fd, this.mem, from + done, to - from - done, from + done);
    this.persisted = this.count;
  }

  async flush(): Promise<void> {
    if (this.fd < 0) return;
    this.persist();
    await fsyncFd(this.fd);
  }

  /** Persists what is pending and closes; `persist: false` leaves the file as a crash would. */
  close(options: { persist?: boolean } = {}): void {
    if (this.fd < 0) return;
    if (options.persist !== false) this.persist();
    closeSync(this.fd);
    this.fd = -1;
  }
}
