/**
 * The records of one partition's fetch, read lazily: a batch is checked
 * (CRC) and read when the reader reaches it, one record at a time, straight
 * into the record handed out (record-reader.ts). A fetch of 1 MiB holds about
 * ten thousand records; decoded all at once and buffered behind the one
 * being read, they outlived the young generation and were promoted (garbage
 * collection was a third of the consumer's time). Read this way, nothing per
 * record is made before its hand-out, and nothing for a record skipped.
 *
 * Invariant: the records come in offset order, each at or after the fetch
 * offset, from non-control batches only. A corrupt batch throws
 * (CorruptBatchError) when the reader reaches it, after the records before
 * it, and again at every later call.
 */
import {
  ATTRIBUTES_POS,
  Attributes,
  LAST_OFFSET_DELTA_POS,
  RECORD_COUNT_POS,
  batchSizeAt,
  readInt64,
} from '../log/batch-header.js';
import { RecordReader } from './record-reader.js';

/** The whole batches of a fetch's bytes: where they end, and the offset after the last. */
export interface BatchSpan {
  /** Bytes of whole batches (a cut-short batch at the end is left out). */
  end: number;
  /** The offset after the last whole batch (`from` when there is none). */
  next: number;
  /** Some non-control batch may hold a record at or after `from`. */
  any: boolean;
}

/** Walks the batch headers of fetched bytes (lengths, offsets, attributes), decoding nothing. */
export function spanBatches(bytes: Buffer, from: number): BatchSpan {
  let pos = 0;
  let next = from;
  let any = false;
  while (pos < bytes.length) {
    const size = batchSizeAt(bytes, pos);
    if (size < 0 || pos + size > bytes.length) break;
    const lastOffset = readInt64(bytes, pos) + bytes.readInt32BE(pos + LAST_OFFSET_DELTA_POS);
    if (lastOffset + 1 > next) next = lastOffset + 1;
    const control = (bytes.readInt16BE(pos + ATTRIBUTES_POS) & Attributes.CONTROL) !== 0;
    if (!control && lastOffset >= from && bytes.readInt32BE(pos + RECORD_COUNT_POS) > 0) any = true;
    pos += size;
  }
  return { end: pos, next, any };
}

export class FetchedRecords {
  /** Whether a record was found (the consumer starts its next fetch then). */
  started = false;
  /** The current record, once `advance` has found one. */
  readonly reader = new RecordReader();
  /** Where the next batch to read starts. */
  private pos = 0;
  private failure: Error | undefined;

  constructor(
    private readonly bytes: Buffer,
    private readonly end: number,
    /** Records before this offset (the start of the first batch) are skipped. */
    private readonly from: number,
  ) {}

  /** Moves `reader` to the next record at or after `min` (and the fetch offset); false when there is none. */
  advance(min: number): boolean {
    if (this.failure !== undefined) throw this.failure;
    const reader = this.reader;
    const least = min > this.from ? min : this.from;
    try {
      for (;;) {
        if (reader.next()) {
          if (reader.offset >= least) return true;
        } else {
          if (this.pos >= this.end) return false;
          const size = batchSizeAt(this.bytes, this.pos);
          reader.open(this.bytes, this.pos, size);
          this.pos += size;
        }
      }
    } catch (error) {
      this.failure = error as Error;
      throw error;
    }
  }
}
