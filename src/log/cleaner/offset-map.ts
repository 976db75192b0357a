/**
 * The cleaner's offset map: for each key seen in the dirty part of the log,
 * the greatest offset holding it. Records of control batches (transaction
 * markers) and records without a key are not entered: the cleaner never
 * drops them by key.
 *
 * It is exact, and allocates nothing per record: a wrong match would drop a
 * live record, so a key is found only when its bytes equal a stored key's,
 * byte for byte. Layout (all typed arrays, nothing for the GC to trace):
 *
 * - an arena of 1 MiB chunks holding each distinct key's bytes, copied once;
 * - entries, one per distinct key, in insertion order: where its bytes are
 *   (chunk, position, length) and its offset (a float64: offsets are int64);
 * - an open-addressing index (linear probing, power-of-two size, load ≤ 1/2)
 *   of slots [32-bit hash of the key bytes, entry + 1], 0 when empty.
 *
 * The hash (murmur3, 32 bits) is computed over the caller's Buffer range, no
 * string made. The index is sized up front from an upper bound on the keys
 * (the dirty part's offset count, capped); when more keys come it doubles
 * without a stall: the new index takes new keys at once and the old one's
 * slots move over a few at a time, on each put, while lookups try both.
 */
import type { Segment } from '../segment.js';
import { type RawRecord, openBatch, walkRecords } from './batch-filter.js';
import type { Slicer } from './slicer.js';

/** A 32-bit hash of buf[start, start + length). */
export type KeyHash = (buf: Uint8Array, start: number, length: number) => number;

export interface OffsetMapOptions {
  /** Upper bound on the distinct keys expected; the index is sized for it (up to a cap). */
  expectedKeys?: number;
  /** For tests: a (bad) hash to force collisions. */
  hash?: KeyHash;
}

/** Keys the index is sized for up front at most (2^21 slots of 8 bytes = 16 MiB); beyond, it grows. */
const MAX_PRESIZED_KEYS = 1 << 20;
const MIN_CAPACITY = 16;
const CHUNK_BYTES = 1 << 20;
/** Old slots moved to the new index per put while growing: > 2 finishes before the new one fills. */
const MIGRATE_PER_PUT = 8;
/** Keys up to this many bytes are compared in a loop; longer ones with Buffer#compare. */
const SHORT_KEY = 32;

export class OffsetMap {
  private readonly hash: KeyHash;
  /** [hash, entry + 1] per slot. */
  private index: Int32Array;
  private mask: number;
  /** The index being emptied into `index` while growing, else undefined. */
  private old: Int32Array | undefined;
  private oldMask = 0;
  /** Next slot of `old` to move. */
  private migrated = 0;

  /** [chunk, position, length] per entry. */
  private keyRefs: Int32Array;
  private offsets: Float64Array;
  private count = 0;

  private readonly chunks: Buffer[] = [];
  private chunk: Buffer = Buffer.alloc(0);
  private chunkUsed = 0;

  constructor(options: OffsetMapOptions = {}) {
    this.hash = options.hash ?? murmur3;
    const expected = Math.min(Math.max(options.expectedKeys ?? 0, 0), MAX_PRESIZED_KEYS);
    const capacity = Math.max(MIN_CAPACITY, nextPowerOfTwo(expected * 2));
    this.index = new Int32Array(capacity * 2);
    this.mask = capacity - 1;
    const entries = Math.max(8, expected);
    this.keyRefs = new Int32Array(entries * 3);
    this.offsets = new Float64Array(entries);
  }

  /** Records that key buf[start, start + length) is held at `offset`; offsets arrive in increasing order. */
  put(buf: Uint8Array, start: number, length: number, offset: number): void {
    const h = this.hash(buf, start, length) | 0;
    let entry = this.find(this.index, this.mask, h, buf, start, length);
    if (entry < 0 && this.old) entry = this.find(this.old, this.oldMask, h, buf, start, length);
    if (entry >= 0) {
      this.offsets[entry] = offset;
    } else {
      entry = this.addEntry(buf, start, length, offset);
      if (this.count * 2 > this.mask + 1) this.grow();
      insert(this.index, this.mask, h, entry);
    }
    if (this.old) this.migrate();
  }

  /** The greatest offset holding key buf[start, start + length), or -1 when the dirty part has none. */
  latestOffset(buf: Uint8Array, start: number, length: number): number {
    const h = this.hash(buf, start, length) | 0;
    let entry = this.find(this.index, this.mask, h, buf, start, length);
    if (entry < 0 && this.old) entry = this.find(this.old, this.oldMask, h, buf, start, length);
    return entry < 0 ? -1 : this.offsets[entry]!;
  }

  /** Distinct keys held. */
  get size(): number {
    return this.count;
  }

  /** Slots in the index (for tests). */
  get capacity(): number {
    return this.mask + 1;
  }

  /** The entry holding the key, or -1. */
  private find(
    index: Int32Array,
    mask: number,
    h: number,
    buf: Uint8Array,
    start: number,
    length: number,
  ): number {
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const ref = index[slot * 2 + 1]!;
      if (ref === 0) return -1;
      if (index[slot * 2] === h && this.keyEquals(ref - 1, buf, start, length)) return ref - 1;
    }
  }

  private keyEquals(entry: number, buf: Uint8Array, start: number, length: number): boolean {
    const refs = this.keyRefs;
    if (refs[entry * 3 + 2] !== length) return false;
    const chunk = this.chunks[refs[entry * 3]!]!;
    const pos = refs[entry * 3 + 1]!;
    if (length > SHORT_KEY)
      return chunk.compare(buf, start, start + length, pos, pos + length) === 0;
    for (let i = 0; i < length; i++) if (chunk[pos + i] !== buf[start + i]) return false;
    return true;
  }

  /** Copies the key into the arena and appends an entry for it. */
  private addEntry(buf: Uint8Array, start: number, length: number, offset: number): number {
    if (this.chunkUsed + length > this.chunk.length) {
      this.chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, length));
      this.chunks.push(this.chunk);
      this.chunkUsed = 0;
    }
    const pos = this.chunkUsed;
    if (length > SHORT_KEY) this.chunk.set(buf.subarray(start, start + length), pos);
    else for (let i = 0; i < length; i++) this.chunk[pos + i] = buf[start + i]!;
    this.chunkUsed += length;

    const entry = this.count++;
    if (entry === this.offsets.length) {
      const refs = new Int32Array(this.keyRefs.length * 2);
      refs.set(this.keyRefs);
      this.keyRefs = refs;
      const offsets = new Float64Array(this.offsets.length * 2);
      offsets.set(this.offsets);
      this.offsets = offsets;
    }
    this.keyRefs[entry * 3] = this.chunks.length - 1;
    this.keyRefs[entry * 3 + 1] = pos;
    this.keyRefs[entry * 3 + 2] = length;
    this.offsets[entry] = offset;
    return entry;
  }

  /** Starts moving to an index twice the size; the old one empties over the next puts. */
  private grow(): void {
    // The last growth moved its index over within (old slots / MIGRATE_PER_PUT) puts, long
    // before the keys could double again; finishing here only keeps that an invariant.
    while (this.old) this.migrate();
    this.old = this.index;
    this.oldMask = this.mask;
    this.migrated = 0;
    const capacity = (this.mask + 1) * 2;
    this.index = new Int32Array(capacity * 2);
    this.mask = capacity - 1;
  }

  private migrate(): void {
    const old = this.old!;
    const end = Math.min(this.migrated + MIGRATE_PER_PUT, this.oldMask + 1);
    for (let slot = this.migrated; slot < end; slot++) {
      const ref = old[slot * 2 + 1]!;
      if (ref !== 0) insert(this.index, this.mask, old[slot * 2]!, ref - 1);
    }
    this.migrated = end;
    if (end === this.oldMask + 1) this.old = undefined;
  }
}

/** Bytes the cleaner reads from a segment at a time. */
export const CLEANER_READ_CHUNK = 1 << 20;

/**
 * Reads every record with an offset in [from, to) of `segments` into a map,
 * in slices, checking each batch's CRC (clean-group.ts then skips it for
 * these batches: see `crcCheckedByMap`). Undefined when `stillHeld` says the
 * log lost a segment meanwhile. The map is sized for to - from keys (capped):
 * no more records than offsets.
 */
export async function buildOffsetMap(
  segments: readonly Segment[],
  from: number,
  to: number,
  slicer: Slicer,
  stillHeld: () => boolean,
): Promise<OffsetMap | undefined> {
  const map = new OffsetMap({ expectedKeys: to - from });
  let body: Buffer = Buffer.alloc(0);
  const put = (record: Readonly<RawRecord>) => {
    if (record.keyLength >= 0 && record.offset >= from && record.offset < to)
      map.put(body, record.keyStart, record.keyLength, record.offset);
  };
  for (const segment of segments) {
    if (segment.nextOffset <= from) continue;
    const start = segment.translateOffset(from)?.position ?? 0;
    const scan = { withBytes: true, chunkSize: CLEANER_READ_CHUNK };
    for (const scanned of segment.log.batches(start, scan)) {
      if (crcCheckedByMap(scanned, from, to)) {
        const batch = openBatch(scanned.bytes!, scanned.position);
        body = batch.body;
        if (!batch.isControl) walkRecords(batch, scanned.position, put);
      }
      if (slicer.due()) {
        await slicer.pause();
        if (!stillHeld()) return undefined;
      }
    }
  }
  return map;
}

/** Whether buildOffsetMap(…, from, to, …) reads (and so CRC-checks) the batch. */
export function crcCheckedByMap(
  batch: { baseOffset: number; lastOffset: number },
  from: number,
  to: number,
): boolean {
  return batch.lastOffset >= from && batch.baseOffset < to;
}

/** Puts `entry` (known absent) with hash `h` in the first free slot. */
function insert(index: Int32Array, mask: number, h: number, entry: number): void {
  let slot = h & mask;
  while (index[slot * 2 + 1] !== 0) slot = (slot + 1) & mask;
  index[slot * 2] = h;
  index[slot * 2 + 1] = entry + 1;
}

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** MurmurHash3 x86 32-bit of buf[start, start + length), seed 0. */
export function murmur3(buf: Uint8Array, start: number, length: number): number {
  let h = 0;
  const end = start + length;
  const blocks = start + (length & ~3);
  let i = start;
  for (; i < blocks; i += 4) {
    let k = buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = end - i;
  if (tail > 0) {
    let k = buf[i]!;
    if (tail > 1) k |= buf[i + 1]! << 8;
    if (tail > 2) k |= buf[i + 2]! << 16;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}
