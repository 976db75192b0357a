/**
 * Reads the records of one batch one at a time, into its own fields, for
 * the consumer: each `ConsumerRecord` is built straight from them, with no
 * `LogRecord` in between, and a record skipped (below the fetch offset or
 * the position) gets no key or value view. The layout and its checks are
 * `decodeBatchAt`'s (src/log/record-batch.ts), which stays the reference: a
 * property test holds the two to the same records.
 *
 * Invariant: after `open` the batch has passed its CRC (unless told not to)
 * and its shape checks, before any of its records is read; a record whose
 * own layout is wrong (which the CRC cannot catch: its producer wrote it so)
 * throws CorruptBatchError when reached. Not safe to share: one reader per
 * fetch, reused from batch to batch.
 */
import { Attributes } from '../log/batch-header.js';
import { CorruptBatchError } from '../log/errors.js';
import type { RecordHeader } from '../log/index.js';
import {
  type DecodeOptions,
  type FieldReader,
  openBatch,
  readHeaders,
} from '../log/record-batch.js';
import { readVarint } from '../log/varint.js';

const NO_HEADERS: RecordHeader[] = [];
const NO_BYTES = Buffer.alloc(0);
const CHECK_CRC: DecodeOptions = {};

type ViewConstructor = new (memory: ArrayBufferLike, offset: number, length: number) => Buffer;
// Node's own Buffer class (FastBuffer), where Buffer.from(memory, offset, length) ends after
// argument checks that cost as much as the construction: half the price of each key and value.
const species = (Buffer as unknown as { [Symbol.species]?: ViewConstructor })[Symbol.species];
const FastBuffer: ViewConstructor | undefined =
  species !== undefined && Buffer.isBuffer(new species(new ArrayBuffer(1), 0, 1))
    ? species
    : undefined;

/** A Buffer view of `length` bytes of `memory` at `offset` (bounds already checked). */
export function bytesView(memory: ArrayBufferLike, offset: number, length: number): Buffer {
  return FastBuffer !== undefined
    ? new FastBuffer(memory, offset, length)
    : Buffer.from(memory, offset, length);
}

export class RecordReader implements FieldReader {
  // #region the current record
  offset = 0;
  timestamp = 0;
  headers: RecordHeader[] = NO_HEADERS;
  private keyStart = 0;
  /** -1 for a null key. */
  private keyLength = -1;
  private valueStart = 0;
  private valueLength = -1;
  // #endregion

  // The varint cursor (FieldReader) over the batch's records.
  value = 0;
  pos = 0;
  body: Buffer = NO_BYTES;
  memory: ArrayBufferLike = NO_BYTES.buffer;
  memoryOffset = 0;
  batchPos = 0;

  private end = 0;
  private count = 0;
  private index = 0;
  private baseOffset = 0;
  private firstTimestamp = 0;
  private maxTimestamp = 0;
  private logAppendTime = false;

  /**
   * Starts on the whole batch at [pos, pos + size) of `buf`: checks it (CRC
   * included), gunzips it if need be. False for a control batch, whose
   * records are not read.
   */
  open(buf: Buffer, pos: number, size: number, options = CHECK_CRC): boolean {
    this.close();
    const { header, body, start, end } = openBatch(buf, pos, size, options);
    if ((header.attributes & Attributes.CONTROL) !== 0) return false;
    this.body = body;
    this.memory = body.buffer;
    this.memoryOffset = body.byteOffset;
    this.pos = start;
    this.end = end;
    this.batchPos = pos;
    this.count = header.recordCount;
    this.baseOffset = header.baseOffset;
    this.firstTimestamp = header.firstTimestamp;
    this.maxTimestamp = header.maxTimestamp;
    this.logAppendTime = (header.attributes & Attributes.TIMESTAMP_TYPE_LOG_APPEND) !== 0;
    return true;
  }

  // #region next
  /** Reads the next record of the batch into `offset`, `timestamp`, `headers` and the key and value bounds; false after the last. */
  next(): boolean {
    const body = this.body;
    const end = this.end;
    if (this.index === this.count) {
      if (this.pos !== end) throw this.corrupt('has bytes after its last record');
      this.close();
      return false;
    }
    const i = this.index++;
    readVarint(body, this, end);
    const recordEnd = this.pos + this.value;
    if (this.value < 0 || recordEnd > end) throw this.corrupt(`overruns the batch (record ${i})`);
    this.pos += 1; // attributes
    readVarint(body, this, recordEnd);
    this.timestamp = this.logAppendTime ? this.maxTimestamp : this.firstTimestamp + this.value;
    readVarint(body, this, recordEnd);
    this.offset = this.baseOffset + this.value;
    this.keyLength = this.field(recordEnd);
    this.keyStart = this.pos - Math.max(this.keyLength, 0);
    this.valueLength = this.field(recordEnd);
    this.valueStart = this.pos - Math.max(this.valueLength, 0);
    readVarint(body, this, recordEnd);
    this.headers = this.value === 0 ? NO_HEADERS : readHeaders(this, recordEnd);
    if (this.pos !== recordEnd) throw this.corrupt(`has a record of a wrong length (record ${i})`);
    return true;
  }

  /** Steps over a bytes field (key or value): its length, -1 for null. */
  private field(recordEnd: number): number {
    readVarint(this.body, this, recordEnd);
    const length = this.value;
    if (length < -1 || this.pos + length > recordEnd)
      throw this.corrupt('has a field that overruns its record');
    if (length > 0) this.pos += length;
    return length;
  }
  // #endregion next

  /** The current record's key: a view of the batch's bytes, made now. */
  keyBytes(): Buffer | null {
    const length = this.keyLength;
    return length < 0 ? null : bytesView(this.memory, this.memoryOffset + this.keyStart, length);
  }

  /** The current record's value (null for a tombstone): a view, made now. */
  valueBytes(): Buffer | null {
    const length = this.valueLength;
    return length < 0 ? null : bytesView(this.memory, this.memoryOffset + this.valueStart, length);
  }

  /** Nothing more is read from this batch. */
  private close(): void {
    this.count = this.index = this.pos = this.end = 0;
  }

  private corrupt(what: string): CorruptBatchError {
    this.close();
    return new CorruptBatchError(`the batch at byte ${this.batchPos} ${what}`, this.batchPos);
  }
}
