/**
 * Builds one record batch as its records arrive, like Kafka's
 * MemoryRecordsBuilder: each `append` writes the record's bytes straight into
 * the batch buffer, and `build` fills in the header (counts, timestamps,
 * length, CRC), so a producer keeps no record objects and encodes nothing
 * twice. The layout is record-batch.ts's; for the same records and options
 * the built batch equals `encodeBatch`'s, byte for byte (a property test
 * holds this).
 *
 * Invariant: `buf[RECORDS_POS, size)` holds exactly the `count` records
 * appended, in order, record i with offset delta i; the header bytes are
 * written by `build` only. Not safe to share: one builder, one owner.
 */
import { gzipSync } from 'node:zlib';
import {
  ATTRIBUTES_POS,
  BASE_OFFSET_POS,
  BASE_SEQUENCE_POS,
  BATCH_HEADER_SIZE,
  BATCH_LENGTH_POS,
  CRC_POS,
  Compression,
  FIRST_TIMESTAMP_POS,
  LAST_OFFSET_DELTA_POS,
  LEADER_EPOCH_POS,
  LOG_OVERHEAD,
  MAGIC,
  MAGIC_POS,
  MAX_TIMESTAMP_POS,
  PRODUCER_EPOCH_POS,
  PRODUCER_ID_POS,
  RECORD_COUNT_POS,
  RECORDS_POS,
  computeBatchCrc,
  writeInt64,
} from './batch-header.js';
import type { RecordHeader } from './record-batch.js';
import { varintSize, writeVarint } from './varint.js';

/** Fields shorter than this are copied byte by byte: cheaper than a `set` call for a 10-byte key. */
const SHORT_FIELD = 24;

/** The bytes a key or value takes in a record: its length varint, then itself (-1 for null). */
export function bytesFieldSize(bytes: Uint8Array | null): number {
  if (bytes === null) return 1;
  const n = bytes.length;
  return (n < 64 ? 1 : varintSize(n)) + n;
}

/** The bytes a record's header count and headers take. */
export function headersSize(headers: readonly RecordHeader[] | undefined): number {
  if (headers === undefined || headers.length === 0) return 1;
  let size = varintSize(headers.length);
  for (const header of headers) {
    const keyLength = Buffer.byteLength(header.key);
    size += varintSize(keyLength) + keyLength + bytesFieldSize(header.value ?? null);
  }
  return size;
}

export class BatchBuilder {
  private buf: Buffer;
  /** Bytes written: the header's room, then the records. */
  private pos = RECORDS_POS;
  private records = 0;
  private first = 0;
  private max = -Infinity;
  private built: Buffer | undefined;

  /**
   * `buffer` is where the batch is written (at least `BATCH_HEADER_SIZE`
   * bytes); it grows, by a copy, only when a record does not fit.
   */
  constructor(
    buffer: Buffer,
    private readonly compression: 'none' | 'gzip' = 'none',
  ) {
    if (buffer.length < BATCH_HEADER_SIZE)
      throw new RangeError(`a batch buffer needs at least ${BATCH_HEADER_SIZE} bytes`);
    this.buf = buffer;
  }

  get count(): number {
    return this.records;
  }

  /** The batch's size uncompressed, header included. */
  get size(): number {
    return this.pos;
  }

  /** The buffer written into (for reuse once the batch is done with). */
  get buffer(): Buffer {
    return this.buf;
  }

  /**
   * The exact bytes a record of these parts would add as the next one;
   * `payload` is bytesFieldSize(key) + bytesFieldSize(value) + headersSize(headers).
   */
  sizeOfNext(timestamp: number, payload: number): number {
    const delta = this.records === 0 ? 0 : timestamp - this.first;
    const body = 1 + varintSize(delta) + varintSize(this.records) + payload;
    return varintSize(body) + body;
  }

  // #region append
  /**
   * Writes a record; `payload` as for `sizeOfNext`. Throws TypeError for a
   * timestamp whose delta from the first record is not a safe integer.
   */
  append(
    timestamp: number,
    key: Uint8Array | null,
    value: Uint8Array | null,
    headers: readonly RecordHeader[] | undefined,
    payload: number,
  ): void {
    if (this.built !== undefined) throw new TypeError('the batch is already built');
    if (this.records === 0) this.first = timestamp;
    const delta = timestamp - this.first;
    if (!Number.isSafeInteger(delta)) throw new TypeError(`a bad timestamp: ${timestamp}`);
    if (timestamp > this.max) this.max = timestamp;
    const offsetDelta = this.records;
    const body = 1 + varintSize(delta) + varintSize(offsetDelta) + payload;
    const size = varintSize(body) + body;
    if (this.pos + size > this.buf.length) this.grow(this.pos + size);
    const buf = this.buf;
    let pos = writeVarint(buf, body, this.pos);
    buf[pos++] = 0; // record attributes: unused
    pos = writeVarint(buf, delta, pos);
    pos = writeVarint(buf, offsetDelta, pos);
    pos = writeField(buf, key, pos);
    pos = writeField(buf, value, pos);
    if (headers === undefined || headers.length === 0) buf[pos++] = 0;
    else pos = writeHeaders(buf, headers, pos);
    this.pos = pos;
    this.records = offsetDelta + 1;
  }
  // #endregion append

  /**
   * The batch: header filled in, CRC computed (records gzipped first if
   * asked). A view of the builder's buffer unless compressed; built once,
   * later calls return the same bytes. Needs at least one record.
   */
  build(): Buffer {
    if (this.built !== undefined) return this.built;
    if (this.records === 0) throw new TypeError('a batch needs at least one record');
    let out = this.buf.subarray(0, this.pos);
    let attributes: number = Compression.none;
    if (this.compression === 'gzip') {
      const zipped = gzipSync(this.buf.subarray(RECORDS_POS, this.pos));
      out = Buffer.allocUnsafe(BATCH_HEADER_SIZE + zipped.length);
      zipped.copy(out, RECORDS_POS);
      attributes = Compression.gzip;
    }
    writeInt64(out, 0, BASE_OFFSET_POS);
    out.writeInt32BE(out.length - LOG_OVERHEAD, BATCH_LENGTH_POS);
    out.writeInt32BE(-1, LEADER_EPOCH_POS);
    out[MAGIC_POS] = MAGIC;
    out.writeInt16BE(attributes, ATTRIBUTES_POS);
    out.writeInt32BE(this.records - 1, LAST_OFFSET_DELTA_POS);
    writeInt64(out, this.first, FIRST_TIMESTAMP_POS);
    writeInt64(out, this.max, MAX_TIMESTAMP_POS);
    writeInt64(out, -1, PRODUCER_ID_POS);
    out.writeInt16BE(-1, PRODUCER_EPOCH_POS);
    out.writeInt32BE(-1, BASE_SEQUENCE_POS);
    out.writeInt32BE(this.records, RECORD_COUNT_POS);
    out.writeUInt32BE(computeBatchCrc(out, 0, out.length), CRC_POS);
    this.built = out;
    return out;
  }

  private grow(needed: number): void {
    const next = Buffer.allocUnsafe(Math.max(needed, this.buf.length * 2));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
}

function writeField(buf: Buffer, bytes: Uint8Array | null, pos: number): number {
  if (bytes === null) {
    buf[pos] = 1; // zigzag(-1)
    return pos + 1;
  }
  const n = bytes.length;
  if (n < 64) buf[pos++] = n << 1;
  else pos = writeVarint(buf, n, pos);
  if (n < SHORT_FIELD) for (let i = 0; i < n; i++) buf[pos + i] = bytes[i]!;
  else buf.set(bytes, pos);
  return pos + n;
}

function writeHeaders(buf: Buffer, headers: readonly RecordHeader[], pos: number): number {
  pos = writeVarint(buf, headers.length, pos);
  for (const header of headers) {
    const keyLength = Buffer.byteLength(header.key);
    pos = writeVarint(buf, keyLength, pos);
    pos += buf.write(header.key, pos, keyLength, 'utf8');
    pos = writeField(buf, header.value ?? null, pos);
  }
  return pos;
}
