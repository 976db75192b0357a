/**
 * The record batch codec: records → one batch of bytes, and a buffer of
 * batches → records with their offsets. The layout is Kafka's RecordBatch v2
 * (see docs/record-batch.md); the header lives in batch-header.ts.
 *
 *   record := length varint, attributes int8, timestampDelta varlong,
 *             offsetDelta varint, keyLength varint, key, valueLength varint,
 *             value, headerCount varint, headers
 *
 * This file holds the types and the encoder; record-decode.ts the decoder
 * (re-exported from here, so importers need one module).
 */
import { gzipSync } from 'node:zlib';
import {
  Attributes,
  BATCH_HEADER_SIZE,
  type BatchHeader,
  Compression,
  RECORDS_POS,
  computeBatchCrc,
  writeInt64,
  MAGIC,
  BATCH_LENGTH_POS,
  LOG_OVERHEAD,
  LEADER_EPOCH_POS,
  MAGIC_POS,
  CRC_POS,
  ATTRIBUTES_POS,
  LAST_OFFSET_DELTA_POS,
  FIRST_TIMESTAMP_POS,
  MAX_TIMESTAMP_POS,
  PRODUCER_ID_POS,
  PRODUCER_EPOCH_POS,
  BASE_SEQUENCE_POS,
  RECORD_COUNT_POS,
} from './batch-header.js';
import { varintSize, writeVarint } from './varint.js';

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

/** A record to append. A null value is a tombstone. */
export interface AppendRecord {
  key?: Buffer | null;
  value: Buffer | null;
  headers?: RecordHeader[];
  /** ms since the epoch; defaults to the batch's `timestamp` option (or now). */
  timestamp?: number;
}

/** A record read back from the log, with the offset it was assigned. */
export interface LogRecord {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

/** One decoded batch: its header fields and its records. */
export interface RecordBatch extends BatchHeader {
  /** Byte position of the batch in the buffer it was decoded from. */
  position: number;
  isTransactional: boolean;
  isControl: boolean;
  compression: number;
  records: LogRecord[];
}

export interface EncodeOptions {
  baseOffset?: number;
  partitionLeaderEpoch?: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  /** Timestamp for records that carry none; default Date.now(). */
  timestamp?: number;
  compression?: 'none' | 'gzip';
  transactional?: boolean;
  control?: boolean;
  logAppendTime?: boolean;
}

const EMPTY_HEADERS: RecordHeader[] = [];

// #region encode
/** Encodes records into one batch (magic 2). Throws TypeError on malformed input. */
export function encodeBatch(records: readonly AppendRecord[], options: EncodeOptions = {}): Buffer {
  if (!Array.isArray(records)) throw new TypeError('records must be an array');
  if (records.length === 0) throw new TypeError('a batch needs at least one record');
  const now = options.timestamp ?? Date.now();
  let firstTimestamp = 0;
  let maxTimestamp = -Infinity;
  const bodySizes = new Array<number>(records.length);
  let recordsSize = 0;
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    if (record === null || typeof record !== 'object')
      throw new TypeError(`record ${i} is not an object`);
    const timestamp = record.timestamp ?? now;
    if (i === 0) firstTimestamp = timestamp;
    if (!Number.isSafeInteger(timestamp) || !Number.isSafeInteger(timestamp - firstTimestamp))
      throw new TypeError(`record ${i} has a bad timestamp`);
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
    const body =
      1 + // attributes
      varintSize(timestamp - firstTimestamp) +
      varintSize(i) +
      bytesFieldSize(record.key ?? null, i, 'key') +
      bytesFieldSize(record.value, i, 'value') +
      headersSize(record.headers ?? EMPTY_HEADERS, i);
    bodySizes[i] = body;
    recordsSize += varintSize(body) + body;
  }

  const compression = options.compression ?? 'none';
  let recordsBytes: Buffer | undefined;
  let size = BATCH_HEADER_SIZE + recordsSize;
  if (compression === 'gzip') {
    const plain = Buffer.allocUnsafe(recordsSize);
    writeRecords(plain, 0, records, bodySizes, firstTimestamp, now);
    recordsBytes = gzipSync(plain);
    size = BATCH_HEADER_SIZE + recordsBytes.length;
  } else if (compression !== 'none') {
    throw new TypeError(`unknown compression ${String(compression)}`);
  }

  const buf = Buffer.allocUnsafe(size);
  writeInt64(buf, options.baseOffset ?? 0, 0);
  buf.writeInt32BE(size - LOG_OVERHEAD, BATCH_LENGTH_POS);
  buf.writeInt32BE(options.partitionLeaderEpoch ?? -1, LEADER_EPOCH_POS);
  buf.writeInt8(MAGIC, MAGIC_POS);
  let attributes = compression === 'gzip' ? Compression.gzip : Compression.none;
  if (options.logAppendTime) attributes |= Attributes.TIMESTAMP_TYPE_LOG_APPEND;
  if (options.transactional) attributes |= Attributes.TRANSACTIONAL;
  if (options.control) attributes |= Attributes.CONTROL;
  buf.writeInt16BE(attributes, ATTRIBUTES_POS);
  buf.writeInt32BE(records.length - 1, LAST_OFFSET_DELTA_POS);
  writeInt64(buf, firstTimestamp, FIRST_TIMESTAMP_POS);
  writeInt64(buf, maxTimestamp, MAX_TIMESTAMP_POS);
  writeInt64(buf, options.producerId ?? -1, PRODUCER_ID_POS);
  buf.writeInt16BE(options.producerEpoch ?? -1, PRODUCER_EPOCH_POS);
  buf.writeInt32BE(options.baseSequence ?? -1, BASE_SEQUENCE_POS);
  buf.writeInt32BE(records.length, RECORD_COUNT_POS);
  if (recordsBytes) recordsBytes.copy(buf, RECORDS_POS);
  else writeRecords(buf, RECORDS_POS, records, bodySizes, firstTimestamp, now);
  buf.writeUInt32BE(computeBatchCrc(buf, 0, size), CRC_POS);
  return buf;
}

function writeRecords(
  buf: Buffer,
  pos: number,
  records: readonly AppendRecord[],
  bodySizes: number[],
  firstTimestamp: number,
  now: number,
): number {
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    pos = writeVarint(buf, bodySizes[i]!, pos);
    buf[pos++] = 0; // record attributes: unused
    pos = writeVarint(buf, (record.timestamp ?? now) - firstTimestamp, pos);
    pos = writeVarint(buf, i, pos);
    pos = writeBytesField(buf, record.key ?? null, pos);
    pos = writeBytesField(buf, record.value, pos);
    const headers = record.headers ?? EMPTY_HEADERS;
    pos = writeVarint(buf, headers.length, pos);
    for (const header of headers) {
      const keyLength = Buffer.byteLength(header.key);
      pos = writeVarint(buf, keyLength, pos);
      pos += buf.write(header.key, pos, keyLength, 'utf8');
      pos = writeBytesField(buf, header.value, pos);
    }
  }
  return pos;
}

function bytesFieldSize(bytes: Uint8Array | null | undefined, i: number, what: string): number {
  if (bytes === null || bytes === undefined) return 1;
  if (!(bytes instanceof Uint8Array))
    throw new TypeError(`record ${i}: ${what} must be a Buffer or null`);
  return varintSize(bytes.length) + bytes.length;
}

function headersSize(headers: readonly RecordHeader[], i: number): number {
  if (!Array.isArray(headers)) throw new TypeError(`record ${i}: headers must be an array`);
  let size = varintSize(headers.length);
  for (const header of headers) {
    if (typeof header?.key !== 'string')
      throw new TypeError(`record ${i}: a header key must be a string`);
    const keyLength = Buffer.byteLength(header.key);
    size += varintSize(keyLength) + keyLength + bytesFieldSize(header.value, i, 'header value');
  }
  return size;
}

function writeBytesField(buf: Buffer, bytes: Uint8Array | null | undefined, pos: number): number {
  if (bytes === null || bytes === undefined) return writeVarint(buf, -1, pos);
  pos = writeVarint(buf, bytes.length, pos);
  buf.set(bytes, pos);
  return pos + bytes.length;
}
// #endregion encode

export * from './record-decode.js';
