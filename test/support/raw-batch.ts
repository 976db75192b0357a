/**
 * Hand-built record batches with what encodeBatch never writes but the
 * cleaner does: records at chosen offset deltas (gaps inside a batch), no
 * records at all (an empty batch), the delete-horizon attribute. For tests
 * of tools that read such batches (dump-log, inspect).
 */
import {
  ATTRIBUTES_POS,
  Attributes,
  BATCH_HEADER_SIZE,
  BATCH_LENGTH_POS,
  BASE_SEQUENCE_POS,
  CRC_POS,
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
  computeBatchCrc,
  writeInt64,
} from '../../src/log/batch-header.js';
import { varintSize, writeVarint } from '../../src/log/varint.js';

export interface RawRecord {
  offsetDelta: number;
  timestampDelta?: number;
  key: string | null;
  value: string | null;
}

export interface RawBatch {
  baseOffset: number;
  lastOffsetDelta: number;
  firstTimestamp: number;
  maxTimestamp?: number;
  /** Stamp the delete-horizon bit: firstTimestamp is then the horizon. */
  deleteHorizon?: boolean;
  records: RawRecord[];
}

function bytesField(text: string | null): Buffer | null {
  return text === null ? null : Buffer.from(text);
}

function recordBody(r: RawRecord): Buffer {
  const key = bytesField(r.key);
  const value = bytesField(r.value);
  const size =
    1 +
    varintSize(r.timestampDelta ?? 0) +
    varintSize(r.offsetDelta) +
    (key ? varintSize(key.length) + key.length : 1) +
    (value ? varintSize(value.length) + value.length : 1) +
    1;
  const buf = Buffer.alloc(varintSize(size) + size);
  let pos = writeVarint(buf, size, 0);
  buf[pos++] = 0; // attributes
  pos = writeVarint(buf, r.timestampDelta ?? 0, pos);
  pos = writeVarint(buf, r.offsetDelta, pos);
  for (const field of [key, value]) {
    if (field === null) {
      pos = writeVarint(buf, -1, pos);
    } else {
      pos = writeVarint(buf, field.length, pos);
      pos += field.copy(buf, pos);
    }
  }
  writeVarint(buf, 0, pos); // no headers
  return buf;
}

/** One batch (magic 2, uncompressed, no producer) with a correct CRC. */
export function rawBatch(spec: RawBatch): Buffer {
  const body = Buffer.concat(spec.records.map(recordBody));
  const buf = Buffer.alloc(BATCH_HEADER_SIZE + body.length);
  writeInt64(buf, spec.baseOffset, 0);
  buf.writeInt32BE(buf.length - LOG_OVERHEAD, BATCH_LENGTH_POS);
  buf.writeInt32BE(0, LEADER_EPOCH_POS);
  buf.writeInt8(MAGIC, MAGIC_POS);
  buf.writeInt16BE(spec.deleteHorizon ? Attributes.DELETE_HORIZON : 0, ATTRIBUTES_POS);
  buf.writeInt32BE(spec.lastOffsetDelta, LAST_OFFSET_DELTA_POS);
  writeInt64(buf, spec.firstTimestamp, FIRST_TIMESTAMP_POS);
  writeInt64(buf, spec.maxTimestamp ?? spec.firstTimestamp, MAX_TIMESTAMP_POS);
  writeInt64(buf, -1, PRODUCER_ID_POS);
  buf.writeInt16BE(-1, PRODUCER_EPOCH_POS);
  buf.writeInt32BE(-1, BASE_SEQUENCE_POS);
  buf.writeInt32BE(spec.records.length, RECORD_COUNT_POS);
  body.copy(buf, BATCH_HEADER_SIZE);
  buf.writeUInt32BE(computeBatchCrc(buf, 0, buf.length), CRC_POS);
  return buf;
}
