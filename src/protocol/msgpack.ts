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
