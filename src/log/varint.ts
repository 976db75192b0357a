/**
 * Zigzag varints, as Kafka's records use them: zigzag maps small negative and
 * positive numbers to small unsigned ones ((n << 1) ^ (n >> 31)), then 7 bits a
 * byte, least significant group first, high bit set while more follow.
 * Examples: -1 → 01, 0 → 00, 1 → 02, 64 → 80 01.
 *
 * Varlongs use the same encoding on 64 bits; here they are limited to safe
 * integers (|n| < 2^53, at most 8 bytes), which covers every timestamp delta
 * we will meet.
 */
import { CorruptBatchError } from './errors.js';

const TWO_31 = 2 ** 31;
/** 8 groups of 7 bits hold the 54-bit zigzag value of any safe integer. */
const MAX_VARINT_BYTES = 8;

/** The zigzag value of `n`; exact while |n| ≤ 2^52 (beyond, 2n passes 2^53). */
export function zigzag(n: number): number {
  if (n >= -0x40000000 && n < 0x40000000) return ((n << 1) ^ (n >> 31)) >>> 0;
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

export function unzigzag(z: number): number {
  if (z < TWO_31) return (z >>> 1) ^ -(z & 1);
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}

/** Bytes the zigzag varint of `n` takes. */
export function varintSize(n: number): number {
  // zigzag(n) = 2k + sign: the first byte holds 6 bits of k, each next byte 7 more.
  let k = n >= 0 ? n : -n - 1;
  let size = 1;
  while (k >= 64) {
    k = Math.floor(k / 128);
    size++;
  }
  return size;
}

/** Writes the zigzag varint of `n` at `pos` and returns the position after it. */
export function writeVarint(buf: Buffer, n: number, pos: number): number {
  if (n >= -0x40000000 && n < 0x40000000) {
    let z = (n << 1) ^ (n >> 31); // < 2^31: int32 arithmetic is exact
    while (z >= 0x80) {
      buf[pos++] = (z & 0x7f) | 0x80;
      z >>>= 7;
    }
    buf[pos++] = z;
    return pos;
  }
  // zigzag(n) itself may round beyond 2^52, so write it as 2k + sign.
  const k = n >= 0 ? n : -n - 1;
  let group = (k % 64) * 2 + (n < 0 ? 1 : 0);
  let rest = Math.floor(k / 64);
  while (rest > 0) {
    buf[pos++] = group | 0x80;
    group = rest % 128;
    rest = Math.floor(rest / 128);
  }
  buf[pos++] = group;
  return pos;
}

/** The result of a varint read: the value and the position after it. Reused to avoid garbage. */
export interface VarintCursor {
  value: number;
  pos: number;
}

/** Reads a zigzag varint (up to 64 bits, safe integers only) at `cursor.pos`, before `end`. */
export function readVarint(buf: Buffer, cursor: VarintCursor, end = buf.length): void {
  let pos = cursor.pos;
  let z = 0;
  // Up to 4 bytes (28 bits) in int32 arithmetic: lengths, deltas, counts.
  for (let shift = 0; shift < 28; shift += 7) {
    if (pos >= end) throw pastEnd(pos);
    const byte = buf[pos++]!;
    z |= (byte & 0x7f) << shift;
    if (byte < 0x80) {
      cursor.value = (z >>> 1) ^ -(z & 1);
      cursor.pos = pos;
      return;
    }
  }
  readLongVarint(buf, cursor, end);
}

/** Varints of 5 bytes or more, read as sign and magnitude so that they stay exact to 2^53. */
function readLongVarint(buf: Buffer, cursor: VarintCursor, end: number): void {
  let pos = cursor.pos;
  const first = buf[pos++]!;
  // zigzag = 2k + sign: the first byte holds the sign and 6 bits of k, each next byte 7 more.
  let k = (first & 0x7f) >>> 1;
  let multiplier = 64;
  for (let length = 2; ; length++) {
    if (pos >= end) throw pastEnd(pos);
    if (length > MAX_VARINT_BYTES)
      throw new CorruptBatchError(`varint at byte ${cursor.pos} is too long`);
    const byte = buf[pos++]!;
    k += (byte & 0x7f) * multiplier;
    if (byte < 0x80) break;
    multiplier *= 128;
  }
  const value = (first & 1) === 1 ? -k - 1 : k;
  if (!Number.isSafeInteger(value))
    throw new CorruptBatchError(`varint at byte ${cursor.pos} is beyond 2^53`);
  cursor.value = value;
  cursor.pos = pos;
}

function pastEnd(pos: number): CorruptBatchError {
  return new CorruptBatchError(`varint runs past the end of its record at byte ${pos}`);
}
