/**
 * The record batch codec: records → one batch of bytes, and a buffer of
 * batches → records with their offsets. The layout is Kafka's RecordBatch v2
 * (see docs/record-batch.md); the header lives in batch-header.ts.
 *
 *   record := length varint, attributes int8, timestampDelta varlong,
 *             offsetDelta varint, keyLength varint, key, valueLength varint,
 *             value, headerCount varint, headers
 *
 * Decoded keys, values and header values are views into the buffer given to
 * decode (or into the decompressed copy): copy them if that buffer is reused.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  Attributes,
  BATCH_HEADER_SIZE,
  type BatchHeader,
  Compression,
  RECORDS_POS,
  batchSizeAt,
  computeBatchCrc,
  readBatchHeader,
  verifyBatch,
  verifyBatchShape,
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
import { CorruptBatchError, UnsupportedCompressionError } from './errors.js';
import { type VarintCursor, readVarint, varintSize, writeVarint } from './varint.js';

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

export interface DecodeOptions {
  /** Check each batch's CRC (default true), as a consumer does. */
  verifyCrc?: boolean;
  /** Largest size a compressed batch may expand to (default 64 MiB): a small batch must not become gigabytes. */
  maxDecompressedBytes?: number;
}

export const DEFAULT_MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

// #region decode
/**
 * Decodes every whole batch in `buf`. A partial batch at the end (a fetch cut
 * at maxBytes, a file read mid-append) is skipped, not an error; a corrupt
 * whole batch throws CorruptBatchError.
 */
export function decodeBatches(buf: Buffer, options: DecodeOptions = {}): RecordBatch[] {
  const batches: RecordBatch[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const size = batchSizeAt(buf, pos);
    if (size < 0 || pos + size > buf.length) break;
    batches.push(decodeBatchAt(buf, pos, size, options));
    pos += size;
  }
  return batches;
}

/** Decodes every whole batch in `buf` and returns their records in order. */
export function decodeRecords(buf: Buffer, options: DecodeOptions = {}): LogRecord[] {
  const out: LogRecord[] = [];
  for (const batch of decodeBatches(buf, options)) {
    for (const record of batch.records) out.push(record);
  }
  return out;
}

/** A checked batch: its header, and where its records lie (in `buf` itself, or in the gunzipped copy). */
export interface OpenedBatch {
  header: BatchHeader;
  compression: number;
  body: Buffer;
  start: number;
  end: number;
}

/** Checks the one whole batch at [pos, pos + size) of `buf` (CRC unless told not to) and finds its records. */
export function openBatch(
  buf: Buffer,
  pos: number,
  size: number,
  options: DecodeOptions,
): OpenedBatch {
  if (options.verifyCrc ?? true) verifyBatch(buf, pos, size);
  else verifyBatchShape(buf, pos, size);
  const header = readBatchHeader(buf, pos);
  const compression = header.attributes & Attributes.COMPRESSION_MASK;
  if (compression === Compression.none)
    return { header, compression, body: buf, start: pos + RECORDS_POS, end: pos + size };
  if (compression !== Compression.gzip) throw new UnsupportedCompressionError(compression);
  try {
    const maxOutputLength = options.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
    const body = gunzipSync(buf.subarray(pos + RECORDS_POS, pos + size), { maxOutputLength });
    return { header, compression, body, start: 0, end: body.length };
  } catch (cause) {
    const why =
      (cause as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE'
        ? 'expands past the limit'
        : 'does not gunzip';
    throw new CorruptBatchError(`batch at byte ${pos} ${why}`, pos, { cause });
  }
}

/** Decodes the one whole batch at [pos, pos + size) of `buf` (its size from `batchSizeAt`). */
export function decodeBatchAt(
  buf: Buffer,
  pos: number,
  size: number,
  options: DecodeOptions,
): RecordBatch {
  const { header, compression, body, start, end } = openBatch(buf, pos, size, options);
  const records = decodeRecordsOf(body, start, end, header, pos);
  // Spelled out: spreading `header` here cost more than decoding a hundred records.
  return {
    baseOffset: header.baseOffset,
    size: header.size,
    partitionLeaderEpoch: header.partitionLeaderEpoch,
    magic: header.magic,
    crc: header.crc,
    attributes: header.attributes,
    lastOffset: header.lastOffset,
    firstTimestamp: header.firstTimestamp,
    maxTimestamp: header.maxTimestamp,
    producerId: header.producerId,
    producerEpoch: header.producerEpoch,
    baseSequence: header.baseSequence,
    recordCount: header.recordCount,
    position: pos,
    isTransactional: (header.attributes & Attributes.TRANSACTIONAL) !== 0,
    isControl: (header.attributes & Attributes.CONTROL) !== 0,
    compression,
    records,
  };
}

/** Reads the records of one batch from body[start, end). */
function decodeRecordsOf(
  body: Buffer,
  start: number,
  end: number,
  header: BatchHeader,
  batchPos: number,
): LogRecord[] {
  const count = header.recordCount;
  const records = new Array<LogRecord>(count);
  const reader: FieldReader = {
    value: 0,
    pos: start,
    body,
    memory: body.buffer,
    memoryOffset: body.byteOffset,
    batchPos,
  };
  const logAppendTime = (header.attributes & Attributes.TIMESTAMP_TYPE_LOG_APPEND) !== 0;
  for (let i = 0; i < count; i++) {
    readVarint(body, reader, end);
    const recordEnd = reader.pos + reader.value;
    if (reader.value < 0 || recordEnd > end) {
      throw new CorruptBatchError(
        `record ${i} of the batch at byte ${batchPos} overruns the batch`,
        batchPos,
      );
    }
    reader.pos += 1; // attributes
    readVarint(body, reader, recordEnd);
    const timestamp = logAppendTime ? header.maxTimestamp : header.firstTimestamp + reader.value;
    readVarint(body, reader, recordEnd);
    const offset = header.baseOffset + reader.value;
    const key = readBytesField(reader, recordEnd);
    const value = readBytesField(reader, recordEnd);
    readVarint(body, reader, recordEnd);
    const headers = reader.value === 0 ? EMPTY_HEADERS : readHeaders(reader, recordEnd);
    if (reader.pos !== recordEnd) {
      throw new CorruptBatchError(
        `record ${i} of the batch at byte ${batchPos} has a wrong length`,
        batchPos,
      );
    }
    records[i] = { offset, timestamp, key, value, headers };
  }
  if (reader.pos !== end) {
    throw new CorruptBatchError(
      `the batch at byte ${batchPos} has bytes after its last record`,
      batchPos,
    );
  }
  return records;
}

/** A varint cursor over one batch's records, with what its errors need to say. */
export interface FieldReader extends VarintCursor {
  readonly body: Buffer;
  /** body.buffer and body.byteOffset, read once: fields are views into this memory. */
  readonly memory: ArrayBufferLike;
  readonly memoryOffset: number;
  readonly batchPos: number;
}

/** The headers of a record, whose count the reader has just read. */
export function readHeaders(reader: FieldReader, end: number): RecordHeader[] {
  const count = reader.value;
  if (count < 0) {
    const at = reader.batchPos;
    throw new CorruptBatchError(`negative header count in batch at byte ${at}`, at);
  }
  const headers: RecordHeader[] = [];
  for (let h = 0; h < count; h++) {
    const key = readBytesField(reader, end);
    if (key === null) {
      const at = reader.batchPos;
      throw new CorruptBatchError(`null header key in batch at byte ${at}`, at);
    }
    headers.push({ key: key.toString('utf8'), value: readBytesField(reader, end) });
  }
  return headers;
}

function readBytesField(reader: FieldReader, end: number): Buffer | null {
  const body = reader.body;
  readVarint(body, reader, end);
  const length = reader.value;
  if (length === -1) return null;
  const start = reader.pos;
  if (length < -1 || start + length > end) {
    throw new CorruptBatchError(
      `a field of the batch at byte ${reader.batchPos} overruns its record`,
      reader.batchPos,
    );
  }
  reader.pos = start + length;
  // A view, like body.subarray(), but without its per-call overhead.
  return Buffer.from(reader.memory, reader.memoryOffset + start, length);
}
// #endregion decode
