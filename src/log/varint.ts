/**
 * Zigzag varints, as Kafka's records use them: zigzag maps small negative and
 * positive numbers to small unsigned ones ((n << 1) ^ (n >> 31)), then 7 bits a
 * byte, least significant group first, high bit set while more follow.
 * Examples: -1 → 01, 0 → 00, 1 → 02, 64 → 80 01.
 *
 * Varlongs use the same encoding on 64 bits; here they are limited to safe
 * integers (|n| < 2^53), which covers every timestamp delta we will meet.
 */
import { CorruptBatchError } from './errors.js';

const TWO_31 = 2 ** 31;

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
  let z = zigzag(n);
  let size = 1;
  while (z >= 0x80) {
    z = Math.floor(z / 128);
    size++;
  }
  return size;
}

/** Writes the zigzag varint of `n` at `pos` and returns the position after it. */
export function writeVarint(buf: Buffer, n: number, pos: number): number {
  let z = zigzag(n);
  while (z >= 0x80) {
    buf[pos++] = (z % 128) | 0x80;
    z = Math.floor(z / 128);
  }
  buf[pos++] = z;
  return pos;
}

/** The result of a varint read: the value and the position after it. Reused to avoid garbage. */
export interface VarintCursor {
  value: number;
  pos: number;
}

/** Reads a zigzag varint (up to 64 bits, safe integers only) at `cursor.pos`. */
export function readVarint(buf: Buffer, cursor: VarintCursor, end = buf.length): void {
  let pos = cursor.pos;
  if (pos >= end)
    throw new CorruptBatchError(`varint runs past the end of its record at byte ${pos}`);
  let byte = buf[pos++]!;
  if (byte < 0x80) {
    cursor.value = (byte >>> 1) ^ -(byte & 1);
    cursor.pos = pos;
    return;
  }
  let z = byte & 0x7f;
  let multiplier = 128;
  for (let i = 1; ; i++) {
    if (pos >= end)
      throw new CorruptBatchError(`varint runs past the end of its record at byte ${pos}`);
    if (i >= 8) throw new CorruptBatchError(`varint at byte ${cursor.pos} is too long`);
    byte = buf[pos++]!;
    z += (byte & 0x7f) * multiplier;
    if (byte < 0x80) break;
    multiplier *= 128;
  }
  cursor.value = unzigzag(z);
  cursor.pos = pos;
}
