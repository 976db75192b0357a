/**
 * The batch walk behind inspect.ts: reads a `.log` file front to back through
 * a read-only window, describing every batch it can frame and saying in plain
 * words what is wrong with the ones it cannot trust. It never writes.
 *
 * A batch is framed by its length field alone, so a bad CRC does not stop the
 * walk; an impossible length, or one that runs past the end of the file, does
 * (nothing after it can be framed): that is a torn batch.
 */
import { readSync } from 'node:fs';
import {
  ATTRIBUTES_POS,
  Attributes,
  BASE_OFFSET_POS,
  BASE_SEQUENCE_POS,
  BATCH_HEADER_SIZE,
  BATCH_LENGTH_POS,
  CRC_POS,
  FIRST_TIMESTAMP_POS,
  LAST_OFFSET_DELTA_POS,
  LEADER_EPOCH_POS,
  LOG_OVERHEAD,
  MAGIC,
  MAGIC_POS,
  MAX_TIMESTAMP_POS,
  MIN_BATCH_LENGTH,
  PRODUCER_EPOCH_POS,
  PRODUCER_ID_POS,
  RECORD_COUNT_POS,
  computeBatchCrc,
} from './batch-header.js';
import { CorruptBatchError, UnsupportedCompressionError } from './errors.js';
import { type LogRecord, decodeBatches } from './record-batch.js';

/** One batch as found on disk. Offsets are absolute; `position` is its byte in the file. */
export interface BatchReport {
  baseOffset: number;
  lastOffset: number;
  recordCount: number;
  position: number;
  /** Bytes on disk, header included. */
  size: number;
  firstTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  partitionLeaderEpoch: number;
  magic: number;
  isTransactional: boolean;
  isControl: boolean;
  /** The codec number: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd. */
  compression: number;
  logAppendTime: boolean;
  /**
   * The tombstone delete horizon (ms), when attribute bit 6 (0x40) is set: the
   * cleaner then stores it in the firstTimestamp field; null otherwise.
   */
  deleteHorizon: number | null;
  crcOk: boolean;
  /** Tombstones among the batch's records (0 when they cannot be decoded). */
  tombstones: number;
  /** Present when records were asked for and could be decoded. */
  records?: LogRecord[];
}

/** Offsets without a record between two records: what compaction leaves. */
export interface RecordGap {
  /** The last offset before the gap that holds a record (or, undecoded, a batch). */
  after: number;
  /** The first offset after it that does. */
  next: number;
  /** Byte position of the batch holding `next`. */
  position: number;
}

export interface BatchWalk {
  batches: BatchReport[];
  /** Bytes of whole batches from the start of the file: where a torn batch starts, if any. */
  validBytes: number;
  tombstones: number;
  records: number;
  /** Batches with no records: the cleaner keeps one at the end of a cleaned segment. */
  emptyBatches: number;
  /** Gaps between records inside this file (see RecordGap). */
  gaps: RecordGap[];
  /** The first and last offsets holding a record (a whole undecodable batch counts as held). */
  firstHeld: number | undefined;
  lastHeld: number | undefined;
}

/** Bytes read at a time. A batch larger than this is read on its own. */
const WINDOW_BYTES = 1024 * 1024;

/** Read-only, forward-moving view of a file descriptor, one window at a time. */
export class FileWindow {
  private buf = Buffer.alloc(0);
  private start = 0;

  constructor(
    private readonly fd: number,
    readonly size: number,
  ) {}

  /** Bytes [pos, pos + length), clipped at the end of the file. */
  read(pos: number, length: number): Buffer {
    const end = Math.min(pos + length, this.size);
    if (pos < this.start || end > this.start + this.buf.length) {
      // A fresh buffer each time: records decoded earlier keep viewing the old one.
      this.buf = Buffer.alloc(Math.max(end, Math.min(pos + WINDOW_BYTES, this.size)) - pos);
      let done = 0;
      while (done < this.buf.length) {
        const got = readSync(this.fd, this.buf, done, this.buf.length - done, pos + done);
        if (got === 0) break;
        done += got;
      }
      this.buf = this.buf.subarray(0, done);
      this.start = pos;
    }
    return this.buf.subarray(
      pos - this.start,
      Math.min(end, this.start + this.buf.length) - this.start,
    );
  }
}

/** Walks every batch of the file. `problems` and `notes` receive plain sentences. */
export function walkBatches(
  file: FileWindow,
  withRecords: boolean,
  problems: string[],
  notes: string[],
): BatchWalk {
  const walk: BatchWalk = {
    batches: [],
    validBytes: 0,
    tombstones: 0,
    records: 0,
    emptyBatches: 0,
    gaps: [],
    firstHeld: undefined,
    lastHeld: undefined,
  };
  /** Notes that an offset holds a record; a gap when it is past the one after the last held. */
  const held = (offset: number, position: number): void => {
    if (walk.lastHeld !== undefined && offset > walk.lastHeld + 1)
      walk.gaps.push({ after: walk.lastHeld, next: offset, position });
    walk.firstHeld ??= offset;
    if (walk.lastHeld === undefined || offset > walk.lastHeld) walk.lastHeld = offset;
  };
  let pos = 0;
  while (pos < file.size) {
    const torn = tornReason(file, pos);
    if (torn !== undefined) {
      problems.push(`torn batch at byte ${pos}: ${torn}`);
      break;
    }
    const size = file.read(pos, LOG_OVERHEAD).readInt32BE(BATCH_LENGTH_POS) + LOG_OVERHEAD;
    const bytes = file.read(pos, size);
    const batch = describeBatch(bytes, pos, problems);
    const records =
      batch.magic === MAGIC ? decodeRecordsOf(bytes, batch, problems, notes) : undefined;
    if (records) {
      batch.tombstones = records.filter((r) => r.value === null).length;
      walk.records += records.length;
      walk.tombstones += batch.tombstones;
      if (withRecords) batch.records = records;
    }
    if (records && batch.crcOk) {
      for (const r of records) held(r.offset, pos);
    } else {
      // Records unknown: count the batch's whole range as held, so no gap is invented.
      held(batch.baseOffset, pos);
      held(batch.lastOffset, pos);
    }
    if (batch.recordCount === 0) walk.emptyBatches++;
    walk.batches.push(batch);
    pos += size;
    walk.validBytes = pos;
  }
  return walk;
}

/** Why no whole batch can be framed at `pos`, or undefined when one can. */
function tornReason(file: FileWindow, pos: number): string | undefined {
  const left = file.size - pos;
  if (left < LOG_OVERHEAD)
    return `only ${left} bytes remain, too few for a batch's offset and length`;
  const batchLength = file.read(pos, LOG_OVERHEAD).readInt32BE(BATCH_LENGTH_POS);
  if (batchLength < MIN_BATCH_LENGTH)
    return `its length field says ${batchLength}, below the smallest possible ${MIN_BATCH_LENGTH}`;
  if (batchLength + LOG_OVERHEAD > left)
    return `it claims ${batchLength + LOG_OVERHEAD} bytes but only ${left} remain in the file`;
  return undefined;
}

/** Reads the header without trusting it: 64-bit fields beyond 2^53 are rounded and reported. */
function describeBatch(bytes: Buffer, pos: number, problems: string[]): BatchReport {
  const i64 = (at: number): number => Number(bytes.readBigInt64BE(at));
  const baseOffset = i64(BASE_OFFSET_POS);
  const attributes = bytes.readInt16BE(ATTRIBUTES_POS);
  const batch: BatchReport = {
    baseOffset,
    lastOffset: baseOffset + bytes.readInt32BE(LAST_OFFSET_DELTA_POS),
    recordCount: bytes.readInt32BE(RECORD_COUNT_POS),
    position: pos,
    size: bytes.length,
    firstTimestamp: i64(FIRST_TIMESTAMP_POS),
    maxTimestamp: i64(MAX_TIMESTAMP_POS),
    producerId: i64(PRODUCER_ID_POS),
    producerEpoch: bytes.readInt16BE(PRODUCER_EPOCH_POS),
    baseSequence: bytes.readInt32BE(BASE_SEQUENCE_POS),
    partitionLeaderEpoch: bytes.readInt32BE(LEADER_EPOCH_POS),
    magic: bytes.readInt8(MAGIC_POS),
    isTransactional: (attributes & Attributes.TRANSACTIONAL) !== 0,
    isControl: (attributes & Attributes.CONTROL) !== 0,
    compression: attributes & Attributes.COMPRESSION_MASK,
    logAppendTime: (attributes & Attributes.TIMESTAMP_TYPE_LOG_APPEND) !== 0,
    deleteHorizon: null,
    crcOk: false,
    tombstones: 0,
  };
  if ((attributes & Attributes.DELETE_HORIZON) !== 0) batch.deleteHorizon = batch.firstTimestamp;
  const stored = bytes.readUInt32BE(CRC_POS);
  const computed = computeBatchCrc(bytes, 0, bytes.length);
  batch.crcOk = stored === computed;
  const at = `batch at byte ${pos}`;
  if (batch.magic !== MAGIC) problems.push(`${at} has magic ${batch.magic}, expected ${MAGIC}`);
  if (!batch.crcOk)
    problems.push(`${at} fails its CRC: stored ${hex(stored)}, computed ${hex(computed)}`);
  const delta = batch.lastOffset - baseOffset;
  if (delta < 0 || batch.recordCount < 0 || batch.recordCount > delta + 1)
    problems.push(`${at} has ${batch.recordCount} records for an offset delta of ${delta}`);
  const wide = { baseOffset, firstTimestamp: 0, maxTimestamp: 0, producerId: 0 };
  for (const name of Object.keys(wide) as (keyof typeof wide)[]) {
    if (!Number.isSafeInteger(batch[name]))
      problems.push(`${at} has a ${name} beyond 2^53 (shown rounded)`);
  }
  return batch;
}

/** The batch's records, or undefined when they cannot be decoded (said in problems or notes). */
function decodeRecordsOf(
  bytes: Buffer,
  batch: BatchReport,
  problems: string[],
  notes: string[],
): LogRecord[] | undefined {
  if (bytes.length < BATCH_HEADER_SIZE) return undefined;
  try {
    return decodeBatches(bytes, { verifyCrc: false })[0]?.records ?? [];
  } catch (err) {
    const at = `batch at byte ${batch.position}`;
    if (err instanceof UnsupportedCompressionError) {
      notes.push(`${at} uses compression codec ${batch.compression}, which samsa cannot read`);
    } else if (err instanceof CorruptBatchError || err instanceof RangeError) {
      // The codec saw the batch at byte 0 of the bytes it was given: say where it really is.
      const why = err.message.replace(/batch at byte 0\b/, at);
      // A failed CRC already explains garbled records; only an intact batch needs a second word.
      if (batch.crcOk) problems.push(`the records of the ${at} do not decode: ${why}`);
    } else {
      throw err;
    }
    return undefined;
  }
}

function hex(n: number): string {
  return '0x' + n.toString(16).padStart(8, '0');
}
