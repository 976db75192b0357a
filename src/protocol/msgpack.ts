/**
 * The one msgpack configuration both ends use (never a second one): plain
 * maps with string keys, binary as `Buffer`, integers exact up to 2^53.
 *
 * - `useRecords: false`: no msgpackr record extension; every map is a standard
 *   msgpack map any language can read.
 * - `mapsAsObjects: true`: maps decode to plain objects (keys become strings).
 * - binary (`bin 8/16/32`) decodes to a `Buffer` that is a view of the input,
 *   not a copy (`copyBuffers` stays off): a record batch crosses the protocol
 *   without being copied on the way in. `unpack` turns its input into a
 *   `Buffer` view first, since a plain `Uint8Array` input would give plain
 *   `Uint8Array`s.
 * - 64-bit integers: JavaScript numbers are written as the smallest msgpack
 *   int up to 32 bits and as float64 beyond (msgpackr's choice), which holds
 *   every integer up to 2^53 exactly. `int64AsType: 'auto'` reads a msgpack
 *   int64/uint64 (what another language writes) as a number when it fits in
 *   2^53 and as a `bigint` otherwise, which the field validators then refuse.
 * - `undefined`: an object property holding `undefined` is left out (an
 *   absent optional field); anywhere else it is written as nil.
 */
import { Packr, RESERVE_START_SPACE, type Options } from 'msgpackr';
import { LENGTH_PREFIX_WIDTH } from './frame.js';

// 'auto' and skipValues exist in msgpackr 2.1.4 but are missing from its type declarations.
const OPTIONS: Omit<Options, 'int64AsType'> & { int64AsType: 'auto'; skipValues: unknown[] } = {
  useRecords: false,
  mapsAsObjects: true,
  int64AsType: 'auto',
  skipValues: [undefined],
  encodeUndefinedAsNil: true,
};

// A Packr also unpacks; one instance holds the one configuration for both directions.
const packr = new Packr(OPTIONS as unknown as Options);

/** The msgpack encoding of `value`. The result is never overwritten by a later call. */
export function pack(value: unknown): Buffer {
  return packr.pack(value);
}

/**
 * The frame of `value`: its length, then its msgpack encoding, written in one
 * pass (msgpackr reserves the prefix), so a large body is copied once.
 */
export function packFrame(value: unknown): Buffer {
  const frame = packr.pack(value, RESERVE_START_SPACE | LENGTH_PREFIX_WIDTH);
  frame.writeUInt32BE(frame.length - LENGTH_PREFIX_WIDTH, 0);
  return frame;
}

/**
 * Decodes exactly one msgpack value that fills `bytes`; throws on anything
 * else. Read in msgpackr's sequential mode on purpose: its plain `unpack`
 * builds the error for trailing bytes by JSON-stringifying the whole value,
 * which for a 50 MB bin takes over a minute (a denial of service).
 */
export function unpack(bytes: Uint8Array): unknown {
  const source = Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let value: unknown;
  let whole = false;
  packr.unpackMultiple(source, (first: unknown, _start?: number, end?: number) => {
    value = first;
    whole = end === source.length;
    return false; // one value only: stop here
  });
  if (!whole) throw new Error('not exactly one msgpack value: bytes follow it');
  return value;
}

/** Binary fields at least this long leave `packFrameChunks` as buffers of their own. */
export const SEPARATE_BIN_BYTES = 1024;

/**
 * The frame of `value` as a list of buffers whose concatenation is exactly
 * `packFrame(value)`: the envelope is written into one growing buffer, and
 * every binary field of `SEPARATE_BIN_BYTES` or more (a record batch) is
 * listed as itself, not copied, so a writer can send the pieces with one
 * corked write each (or writev). Plain objects, arrays, strings, numbers,
 * booleans, null and binary are written here, mirroring msgpackr's choices
 * for this configuration; anything else is handed to msgpackr (msgpack is
 * compositional: without records, references or bundled strings a value's
 * bytes do not depend on what surrounds it).
 */
export function packFrameChunks(value: unknown): Buffer[] {
  const writer = new ChunkWriter();
  writer.value(value);
  return writer.finish();
}

class ChunkWriter {
  private buf = Buffer.allocUnsafe(256);
  private pos = LENGTH_PREFIX_WIDTH;
  /** Where the piece being written into `buf` starts. */
  private start = 0;
  private readonly chunks: Buffer[] = [];
  private total = 0;

  finish(): Buffer[] {
    this.flushPiece(false);
    const first = this.chunks[0]!;
    first.writeUInt32BE(this.total - LENGTH_PREFIX_WIDTH, 0);
    return this.chunks;
  }

  private flushPiece(more = true): void {
    if (this.pos > this.start || this.chunks.length === 0) {
      const piece = this.buf.subarray(this.start, this.pos);
      this.chunks.push(piece);
      this.total += piece.length;
    }
    if (!more) return;
    // A fresh buffer for what follows: the pieces already listed must not be overwritten.
    this.buf = Buffer.allocUnsafe(Math.max(256, this.buf.length - this.pos));
    this.start = this.pos = 0;
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const size = Math.max(this.buf.length * 2, this.pos - this.start + n + 64);
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, this.start, this.pos);
    this.pos -= this.start;
    this.start = 0;
    this.buf = next;
  }

  value(value: unknown): void {
    switch (typeof value) {
      case 'string':
        return this.string(value);
      case 'number':
        return this.number(value);
      case 'boolean':
        this.room(1);
        this.buf[this.pos++] = value ? 0xc3 : 0xc2;
        return;
      case 'undefined':
        this.room(1);
        this.buf[this.pos++] = 0xc0;
        return;
      case 'object':
        if (value === null) {
          this.room(1);
          this.buf[this.pos++] = 0xc0;
          return;
        }
        if (value instanceof Uint8Array) {
          if (value.constructor === Buffer) return this.bin(value as Buffer);
          if (value.constructor === Uint8Array)
            return this.bin(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
        }
        if (Array.isArray(value) && value.constructor === Array) return this.array(value);
        if (value.constructor === Object) return this.map(value as Record<string, unknown>);
        break;
    }
    this.raw(packr.pack(value));
  }

  private raw(bytes: Buffer): void {
    this.room(bytes.length);
    bytes.copy(this.buf, this.pos);
    this.pos += bytes.length;
  }

  private header(length: number, fix: number, b16: number, b32: number): void {
    this.room(5);
    const buf = this.buf;
    if (length < 0x10) buf[this.pos++] = fix | length;
    else if (length < 0x10000) {
      buf[this.pos++] = b16;
      buf[this.pos++] = length >> 8;
      buf[this.pos++] = length & 0xff;
    } else {
      buf[this.pos++] = b32;
      buf.writeUInt32BE(length, this.pos);
      this.pos += 4;
    }
  }

  private array(values: unknown[]): void {
    this.header(values.length, 0x90, 0xdc, 0xdd);
    for (let i = 0; i < values.length; i++) this.value(values[i]);
  }

  private map(object: Record<string, unknown>): void {
    const keys: string[] = [];
    for (const key in object) {
      if (Object.prototype.hasOwnProperty.call(object, key) && object[key] !== undefined)
        keys.push(key);
    }
    this.header(keys.length, 0x80, 0xde, 0xdf);
    for (const key of keys) {
      this.string(key);
      this.value(object[key]);
    }
  }

  private bin(bytes: Buffer): void {
    const length = bytes.length;
    this.room(5);
    const buf = this.buf;
    if (length < 0x100) {
      buf[this.pos++] = 0xc4;
      buf[this.pos++] = length;
    } else if (length < 0x10000) {
      buf[this.pos++] = 0xc5;
      buf[this.pos++] = length >> 8;
      buf[this.pos++] = length & 0xff;
    } else {
      buf[this.pos++] = 0xc6;
      buf.writeUInt32BE(length, this.pos);
      this.pos += 4;
    }
    if (length >= SEPARATE_BIN_BYTES) {
      this.flushPiece();
      this.chunks.push(bytes);
      this.total += length;
      return;
    }
    this.room(length);
    bytes.copy(this.buf, this.pos);
    this.pos += length;
  }

  private string(value: string): void {
    // UTF-8 as Buffer writes it (a lone surrogate becomes U+FFFD, as in msgpackr).
    const length = value.length < 0x40 && isAscii(value) ? value.length : Buffer.byteLength(value);
    this.room(length + 5);
    const buf = this.buf;
    if (length < 0x20) buf[this.pos++] = 0xa0 | length;
    else if (length < 0x100) {
      buf[this.pos++] = 0xd9;
      buf[this.pos++] = length;
    } else if (length < 0x10000) {
      buf[this.pos++] = 0xda;
      buf[this.pos++] = length >> 8;
      buf[this.pos++] = length & 0xff;
    } else {
      buf[this.pos++] = 0xdb;
      buf.writeUInt32BE(length, this.pos);
      this.pos += 4;
    }
    if (length === value.length && length < 0x40) {
      for (let i = 0; i < length; i++) buf[this.pos++] = value.charCodeAt(i);
    } else this.pos += buf.write(value, this.pos, length, 'utf8');
  }

  private number(value: number): void {
    this.room(9);
    const buf = this.buf;
    if (value >>> 0 === value) {
      if (value < 0x80) buf[this.pos++] = value;
      else if (value < 0x100) {
        buf[this.pos++] = 0xcc;
        buf[this.pos++] = value;
      } else if (value < 0x10000) {
        buf[this.pos++] = 0xcd;
        buf[this.pos++] = value >> 8;
        buf[this.pos++] = value & 0xff;
      } else {
        buf[this.pos++] = 0xce;
        buf.writeUInt32BE(value, this.pos);
        this.pos += 4;
      }
    } else if (value >> 0 === value) {
      if (value >= -0x20) buf[this.pos++] = 0x100 + value;
      else if (value >= -0x80) {
        buf[this.pos++] = 0xd0;
        buf[this.pos++] = value + 0x100;
      } else if (value >= -0x8000) {
        buf[this.pos++] = 0xd1;
        buf.writeInt16BE(value, this.pos);
        this.pos += 2;
      } else {
        buf[this.pos++] = 0xd2;
        buf.writeInt32BE(value, this.pos);
        this.pos += 4;
      }
    } else {
      buf[this.pos++] = 0xcb;
      buf.writeDoubleBE(value, this.pos);
      this.pos += 8;
    }
  }
}

function isAscii(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) >= 0x80) return false;
  return true;
}
