/**
 * Rewriting one record batch for the cleaner. `readBatchRecords` checks a
 * batch (CRC, layout) and lists its records as byte ranges of the records
 * section (gunzipped first when the batch is gzip); `rebuildBatch` builds a
 * batch from the records kept and the original header.
 *
 * Invariant: a kept record keeps its offset (its offsetDelta is copied, not
 * renumbered), key, value, headers and timestamp; the batch keeps its
 * baseOffset, lastOffsetDelta (even when its last records went), attributes,
 * producerId, producerEpoch, baseSequence and partitionLeaderEpoch, and gets a
 * correct CRC. When nothing changes the original bytes come back as they are.
 *
 * The delete horizon (Kafka's KIP-534): a batch stamped with attribute bit 6
 * carries the horizon in its firstTimestamp field. Record timestamps are
 * firstTimestamp + timestampDelta, so stamping re-encodes each kept record's
 * delta to keep its absolute timestamp; maxTimestamp stays as it was.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  ATTRIBUTES_POS,
  Attributes,
  BATCH_LENGTH_POS,
  type BatchHeader,
  CRC_POS,
  Compression,
  FIRST_TIMESTAMP_POS,
  LOG_OVERHEAD,
  RECORDS_POS,
  RECORD_COUNT_POS,
  computeBatchCrc,
  readBatchHeader,
  verifyBatch,
  verifyBatchShape,
  writeInt64,
} from '../batch-header.js';
import { CorruptBatchError, UnsupportedCompressionError } from '../errors.js';
import { DEFAULT_MAX_DECOMPRESSED_BYTES } from '../record-batch.js';
import { type VarintCursor, readVarint, varintSize, writeVarint } from '../varint.js';

/** One record as the cleaner sees it: what the rule needs, and where its bytes are. */
export interface RawRecord {
  offset: number;
  /** The key is body[keyStart, keyStart + keyLength); keyLength is -1 for a record without a key. */
  keyStart: number;
  keyLength: number;
  /** A null value. */
  isTombstone: boolean;
  /** The whole record, its length varint included: body[start, end). */
  start: number;
  end: number;
  /** The record's attributes byte (unused by Kafka so far, copied as it is). */
  attributes: number;
  /** Relative to the batch's firstTimestamp. */
  timestampDelta: number;
  /** Where the bytes after the timestampDelta varint start (offsetDelta, key, value, headers). */
  afterDelta: number;
}

/** A batch checked and opened, its records not yet listed. */
export interface OpenedBatch {
  /** The batch as it was read. */
  bytes: Buffer;
  header: BatchHeader;
  /** The records section, gunzipped when the batch is gzip. */
  body: Buffer;
  isControl: boolean;
  /** The delete horizon stamped by an earlier pass, if any. */
  deleteHorizon: number | undefined;
}

/** A batch opened for filtering. */
export interface BatchRecords extends OpenedBatch {
  records: RawRecord[];
}

/**
 * Checks the one batch in `bytes` (CRC and header) and opens its records
 * section. `checkCrc` false skips the CRC only, for a batch this pass has
 * checked already.
 */
export function openBatch(bytes: Buffer, at = 0, checkCrc = true): OpenedBatch {
  if (checkCrc) verifyBatch(bytes, 0, bytes.length, at);
  else verifyBatchShape(bytes, 0, bytes.length, at);
  const header = readBatchHeader(bytes, 0);
  const compression = header.attributes & Attributes.COMPRESSION_MASK;
  let body = bytes.subarray(RECORDS_POS);
  if (compression === Compression.gzip) {
    try {
      body = gunzipSync(body, { maxOutputLength: DEFAULT_MAX_DECOMPRESSED_BYTES });
    } catch (cause) {
      throw new CorruptBatchError(`batch at byte ${at} does not gunzip`, at, { cause });
    }
  } else if (compression !== Compression.none) {
    throw new UnsupportedCompressionError(compression);
  }
  const stamped = (header.attributes & Attributes.DELETE_HORIZON) !== 0;
  return {
    bytes,
    header,
    body,
    isControl: (header.attributes & Attributes.CONTROL) !== 0,
    deleteHorizon: stamped ? header.firstTimestamp : undefined,
  };
}

/** Checks the one batch in `bytes` (CRC and layout) and lists its records. */
export function readBatchRecords(bytes: Buffer, at = 0, checkCrc = true): BatchRecords {
  const batch = openBatch(bytes, at, checkCrc);
  const records: RawRecord[] = [];
  walkRecords(batch, at, (r) => {
    records.push({
      offset: r.offset,
      keyStart: r.keyStart,
      keyLength: r.keyLength,
      isTombstone: r.isTombstone,
      start: r.start,
      end: r.end,
      attributes: r.attributes,
      timestampDelta: r.timestampDelta,
      afterDelta: r.afterDelta,
    });
  });
  return { ...batch, records };
}

/**
 * Checks the layout of the batch's records and calls `visit` with each, in
 * order. To allocate nothing per record, `visit` gets the same object every
 * time, overwritten: copy what must outlive the call.
 */
export function walkRecords(
  batch: OpenedBatch,
  at: number,
  visit: (record: Readonly<RawRecord>) => void,
): void {
  const { body, header } = batch;
  const r: RawRecord = {
    offset: 0,
    keyStart: 0,
    keyLength: -1,
    isTombstone: false,
    start: 0,
    end: 0,
    attributes: 0,
    timestampDelta: 0,
    afterDelta: 0,
  };
  const cursor: VarintCursor = { value: 0, pos: 0 };
  const corrupt = (what: string) => new CorruptBatchError(`the batch at byte ${at} ${what}`, at);
  for (let i = 0; i < header.recordCount; i++) {
    const start = cursor.pos;
    readVarint(body, cursor, body.length);
    const end = cursor.pos + cursor.value;
    if (cursor.value < 1 || end > body.length) throw corrupt(`has a record ${i} that overruns it`);
    r.start = start;
    r.end = end;
    r.attributes = body[cursor.pos++]!;
    readVarint(body, cursor, end);
    r.timestampDelta = cursor.value;
    r.afterDelta = cursor.pos;
    readVarint(body, cursor, end);
    r.offset = header.baseOffset + cursor.value;
    readVarint(body, cursor, end);
    const keyLength = cursor.value;
    if (keyLength < -1 || cursor.pos + keyLength > end) throw corrupt(`has a bad key length`);
    r.keyStart = cursor.pos;
    r.keyLength = keyLength;
    cursor.pos += Math.max(keyLength, 0);
    readVarint(body, cursor, end);
    const valueLength = cursor.value;
    if (valueLength < -1 || cursor.pos + valueLength > end) throw corrupt(`has a bad value length`);
    r.isTombstone = valueLength < 0;
    visit(r);
    cursor.pos = end;
  }
  if (cursor.pos !== body.length) throw corrupt('has bytes after its last record');
}

/**
 * The batch holding only `kept` (records of `source`, in order), stamped with
 * `deleteHorizon` when one is given. With nothing dropped and nothing
 * stamped, the source bytes as they are. An empty `kept` gives an empty batch.
 */
export function rebuildBatch(
  source: BatchRecords,
  kept: readonly RawRecord[],
  deleteHorizon?: number,
): Buffer {
  if (kept.length === source.records.length && deleteHorizon === undefined) return source.bytes;
  const { header, body } = source;
  const firstTimestamp = deleteHorizon ?? header.firstTimestamp;
  // New delta = old delta + (old first - new first): each absolute timestamp stays.
  const shift = header.firstTimestamp - firstTimestamp;
  let size = 0;
  for (const record of kept) size += recordSize(record, shift);
  let records = Buffer.allocUnsafe(size);
  let pos = 0;
  for (const record of kept) pos = writeRecord(records, pos, body, record, shift);
  const compression = header.attributes & Attributes.COMPRESSION_MASK;
  if (compression === Compression.gzip) records = gzipSync(records);

  const batch = Buffer.allocUnsafe(RECORDS_POS + records.length);
  source.bytes.copy(batch, 0, 0, RECORDS_POS);
  batch.writeInt32BE(batch.length - LOG_OVERHEAD, BATCH_LENGTH_POS);
  const stamp = deleteHorizon === undefined ? 0 : Attributes.DELETE_HORIZON;
  batch.writeInt16BE(header.attributes | stamp, ATTRIBUTES_POS);
  writeInt64(batch, firstTimestamp, FIRST_TIMESTAMP_POS);
  batch.writeInt32BE(kept.length, RECORD_COUNT_POS);
  records.copy(batch, RECORDS_POS);
  batch.writeUInt32BE(computeBatchCrc(batch, 0, batch.length), CRC_POS);
  return batch;
}

/** Bytes of the record once its timestampDelta is shifted, length varint included. */
function recordSize(record: RawRecord, shift: number): number {
  if (shift === 0) return record.end - record.start;
  const length = recordLength(record, shift);
  return varintSize(length) + length;
}

/** The record's length field: attributes, the shifted delta, and the bytes after it. */
function recordLength(record: RawRecord, shift: number): number {
  return 1 + varintSize(record.timestampDelta + shift) + (record.end - record.afterDelta);
}

function writeRecord(out: Buffer, pos: number, body: Buffer, record: RawRecord, shift: number) {
  if (shift === 0) return pos + body.copy(out, pos, record.start, record.end);
  pos = writeVarint(out, recordLength(record, shift), pos);
  out[pos++] = record.attributes;
  pos = writeVarint(out, record.timestampDelta + shift, pos);
  return pos + body.copy(out, pos, record.afterDelta, record.end);
}
