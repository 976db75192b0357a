/**
 * The 61-byte header of a record batch (Kafka's RecordBatch v2, magic 2), as
 * named widths and positions. Everything here reads or patches the header
 * only; the records after it are the codec's business (record-batch.ts).
 *
 * baseOffset and partitionLeaderEpoch sit outside the CRC, so the log assigns
 * offsets and stamps epochs by patching 12 bytes, never touching the records.
 */
import crc32cModule from 'crc-32/crc32c.js';
import { CorruptBatchError } from './errors.js';

const crc32cBuf = (crc32cModule as unknown as { buf(data: Uint8Array, seed?: number): number }).buf;

// #region layout
export const BASE_OFFSET_POS = 0; // i64
export const BATCH_LENGTH_POS = 8; // i32: bytes after this field
export const LEADER_EPOCH_POS = 12; // i32
export const MAGIC_POS = 16; // i8
export const CRC_POS = 17; // u32, CRC-32C of [ATTRIBUTES_POS, end)
export const ATTRIBUTES_POS = 21; // i16
export const LAST_OFFSET_DELTA_POS = 23; // i32
export const FIRST_TIMESTAMP_POS = 27; // i64
export const MAX_TIMESTAMP_POS = 35; // i64
export const PRODUCER_ID_POS = 43; // i64
export const PRODUCER_EPOCH_POS = 51; // i16
export const BASE_SEQUENCE_POS = 53; // i32
export const RECORD_COUNT_POS = 57; // i32
export const RECORDS_POS = 61;

/** Bytes before batchLength starts counting: baseOffset (8) + batchLength (4). */
export const LOG_OVERHEAD = 12;
export const BATCH_HEADER_SIZE = RECORDS_POS;
/** The smallest legal batchLength: a header with no records. */
export const MIN_BATCH_LENGTH = BATCH_HEADER_SIZE - LOG_OVERHEAD;
export const MAGIC = 2;
// #endregion layout

export const Compression = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
export type Compression = (typeof Compression)[keyof typeof Compression];

export const Attributes = {
  COMPRESSION_MASK: 0x07,
  TIMESTAMP_TYPE_LOG_APPEND: 0x08,
  TRANSACTIONAL: 0x10,
  CONTROL: 0x20,
  DELETE_HORIZON: 0x40, // firstTimestamp holds the cleaner's delete horizon (KIP-534)
} as const;

/** The fields of a batch header, decoded. Offsets are absolute. */
export interface BatchHeader {
  baseOffset: number;
  /** Total bytes of the batch on disk, header included (batchLength + 12). */
  size: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffset: number;
  firstTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

const TWO_32 = 2 ** 32;

/** Reads a 64-bit field as a safe integer; values beyond 2^53 are a corrupt batch. */
export function readInt64(buf: Buffer, pos: number): number {
  // Two 32-bit halves, not a BigInt: header reads sit on the fetch path.
  const value = buf.readInt32BE(pos) * TWO_32 + buf.readUInt32BE(pos + 4);
  if (!Number.isSafeInteger(value)) {
    throw new CorruptBatchError(
      `64-bit field at byte ${pos} is beyond 2^53: ${buf.readBigInt64BE(pos)}`,
    );
  }
  return value;
}

export function writeInt64(buf: Buffer, value: number, pos: number): void {
  if (!Number.isSafeInteger(value)) throw new TypeError(`not a safe integer: ${value}`);
  const high = Math.floor(value / TWO_32);
  buf.writeInt32BE(high, pos);
  buf.writeUInt32BE(value - high * TWO_32, pos + 4);
}

/**
 * The total size of the batch starting at `pos`, read from its length field, or
 * -1 when fewer than 12 bytes remain. Throws when the length is impossible.
 */
export function batchSizeAt(buf: Buffer, pos: number): number {
  if (buf.length - pos < LOG_OVERHEAD) return -1;
  const batchLength = buf.readInt32BE(pos + BATCH_LENGTH_POS);
  if (batchLength < MIN_BATCH_LENGTH) {
    throw new CorruptBatchError(
      `batch at byte ${pos} has an impossible length ${batchLength}`,
      pos,
    );
  }
  return batchLength + LOG_OVERHEAD;
}

/** Decodes the header of the batch at `pos`. The caller ensures 61 bytes are there. */
export function readBatchHeader(buf: Buffer, pos = 0): BatchHeader {
  const baseOffset = readInt64(buf, pos + BASE_OFFSET_POS);
  return {
    baseOffset,
    size: buf.readInt32BE(pos + BATCH_LENGTH_POS) + LOG_OVERHEAD,
    partitionLeaderEpoch: buf.readInt32BE(pos + LEADER_EPOCH_POS),
    magic: buf.readInt8(pos + MAGIC_POS),
    crc: buf.readUInt32BE(pos + CRC_POS),
    attributes: buf.readInt16BE(pos + ATTRIBUTES_POS),
    lastOffset: baseOffset + buf.readInt32BE(pos + LAST_OFFSET_DELTA_POS),
    firstTimestamp: readInt64(buf, pos + FIRST_TIMESTAMP_POS),
    maxTimestamp: readInt64(buf, pos + MAX_TIMESTAMP_POS),
    producerId: readInt64(buf, pos + PRODUCER_ID_POS),
    producerEpoch: buf.readInt16BE(pos + PRODUCER_EPOCH_POS),
    baseSequence: buf.readInt32BE(pos + BASE_SEQUENCE_POS),
    recordCount: buf.readInt32BE(pos + RECORD_COUNT_POS),
  };
}

export function crc32c(data: Uint8Array): number {
  return crc32cBuf(data) >>> 0;
}

/** The CRC the batch at [pos, pos+size) should carry: CRC-32C of attributes .. end. */
export function computeBatchCrc(buf: Buffer, pos: number, size: number): number {
  return crc32c(buf.subarray(pos + ATTRIBUTES_POS, pos + size));
}

/**
 * Checks one whole batch at [pos, pos+size): magic, CRC, and that the offset
 * delta and record count agree with the length. Throws CorruptBatchError
 * naming byte `at` (where the batch sits in its file, when `buf` is a copy).
 */
export function verifyBatch(buf: Buffer, pos: number, size: number, at = pos): void {
  verifyBatchShape(buf, pos, size, at);
  const stored = buf.readUInt32BE(pos + CRC_POS);
  const actual = computeBatchCrc(buf, pos, size);
  if (stored !== actual) {
    throw new CorruptBatchError(
      `batch at byte ${at} fails its CRC: stored ${hex(stored)}, computed ${hex(actual)}`,
      at,
    );
  }
}

/** verifyBatch without the CRC: the checks a reader needs before it trusts the layout. */
export function verifyBatchShape(buf: Buffer, pos: number, size: number, at = pos): void {
  if (size < BATCH_HEADER_SIZE || pos + size > buf.length) {
    throw new CorruptBatchError(`batch at byte ${at} is truncated`, at);
  }
  const magic = buf.readInt8(pos + MAGIC_POS);
  if (magic !== MAGIC) {
    throw new CorruptBatchError(`batch at byte ${at} has magic ${magic}, expected ${MAGIC}`, at);
  }
  const lastOffsetDelta = buf.readInt32BE(pos + LAST_OFFSET_DELTA_POS);
  const recordCount = buf.readInt32BE(pos + RECORD_COUNT_POS);
  if (lastOffsetDelta < 0 || recordCount < 0 || recordCount > lastOffsetDelta + 1) {
    throw new CorruptBatchError(
      `batch at byte ${at} has ${recordCount} records for an offset delta of ${lastOffsetDelta}`,
      at,
    );
  }
}

// #region patch
/** Assigns the batch its offsets: the one header write the broker makes on the hot path. */
export function patchBaseOffset(buf: Buffer, baseOffset: number, pos = 0): void {
  writeInt64(buf, baseOffset, pos + BASE_OFFSET_POS);
}

export function patchLeaderEpoch(buf: Buffer, epoch: number, pos = 0): void {
  buf.writeInt32BE(epoch, pos + LEADER_EPOCH_POS);
}
// #endregion patch

function hex(n: number): string {
  return '0x' + n.toString(16).padStart(8, '0');
}
