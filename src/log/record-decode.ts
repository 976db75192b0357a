/**
 * The decoding half of the record batch codec (record-batch.ts has the
 * types and the encoder): a buffer of batches → records with their offsets,
 * each batch's CRC checked, gzip expanded under a size cap.
 *
 * Decoded keys, values and header values are views into the buffer given to
 * decode (or into the decompressed copy): copy them if that buffer is reused.
 */
import { gunzipSync } from 'node:zlib';
import {
  Attributes,
  type BatchHeader,
  Compression,
  RECORDS_POS,
  batchSizeAt,
  readBatchHeader,
  verifyBatch,
  verifyBatchShape,
} from './batch-header.js';
import { CorruptBatchError, UnsupportedCompressionError } from './errors.js';
import { type VarintCursor, readVarint } from './varint.js';

import type { LogRecord, RecordBatch, RecordHeader } from './record-batch.js';

/** What a record without headers gets (one shared empty array, as the encoder's default). */
const NO_HEADERS: RecordHeader[] = [];

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
    const headers = reader.value === 0 ? NO_HEADERS : readHeaders(reader, recordEnd);
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
