/**
 * The records of one partition's fetch, decoded lazily: a batch is decoded
 * when the reader reaches it, and the records already handed out are let go
 * at once. A fetch of 1 MiB holds about ten thousand records; decoded all at
 * once and buffered behind the one being read, they outlived the young
 * generation and were promoted (garbage collection was a third of the
 * consumer's time). Read this way, a record lives from its batch's decoding
 * to its hand-out.
 *
 * Invariant: `records[i]` is the i-th record at or after the fetch offset
 * (non-control batches only), for every i from `next` on that has been
 * decoded; slots before `next` are released. A corrupt batch throws
 * (CorruptBatchError) when the reader reaches it, after the records before it.
 */
import {
  ATTRIBUTES_POS,
  Attributes,
  LAST_OFFSET_DELTA_POS,
  RECORD_COUNT_POS,
  batchSizeAt,
  readInt64,
} from '../log/batch-header.js';
import type { LogRecord } from '../log/index.js';
import { decodeBatchAt } from '../log/record-batch.js';

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
  /** The index of the next record to hand out (the reader advances it). */
  next = 0;
  private readonly decoded: LogRecord[] = [];
  /** Where the next batch to decode starts. */
  private pos = 0;
  private released = 0;

  constructor(
    private readonly bytes: Buffer,
    private readonly end: number,
    /** Records before this offset (the start of the first batch) are skipped. */
    private readonly from: number,
  ) {}

  /** The records, decoded up to index `next` at least (when there are that many). */
  get records(): LogRecord[] {
    const decoded = this.decoded;
    while (decoded.length <= this.next && this.pos < this.end) this.decodeBatch();
    while (this.released < this.next && this.released < decoded.length)
      decoded[this.released++] = undefined as unknown as LogRecord;
    return decoded;
  }

  private decodeBatch(): void {
    const size = batchSizeAt(this.bytes, this.pos);
    const batch = decodeBatchAt(this.bytes, this.pos, size, {});
    this.pos += size;
    if (batch.isControl) return;
    const from = this.from;
    for (const record of batch.records) if (record.offset >= from) this.decoded.push(record);
  }
}
