/**
 * The producer's record accumulator: per partition, a queue of batches. The
 * last batch of a queue is open and takes records until it holds
 * `batch.size` bytes; a batch is ready to send when it is full, older than
 * `linger.ms`, or a flush or close asks for it. Each record is encoded into
 * its batch's buffer as it is appended (`BatchBuilder`), so no record object
 * outlives `send`; the header is filled in once, when the batch is first
 * sent, and the same bytes are sent again on a retry. Buffers of
 * acknowledged batches are reused for new ones (Kafka's BufferPool does the
 * same), up to a few.
 *
 * Invariant: within a partition's queue, batches are in append order and a
 * record's position in the batch is its offset delta; only the last batch
 * of a queue accepts records, and never after it was sent.
 */
import { BATCH_HEADER_SIZE } from '../log/batch-header.js';
import { BatchBuilder, bytesFieldSize, headersSize } from '../log/batch-builder.js';
import { type RecordHeader, decodeRecords } from '../log/index.js';
import { SendTracker } from './send-tracker.js';

export { type RecordMetadata, SendTracker } from './send-tracker.js';

/** Bytes a batch's header takes (RecordBatch v2). */
export const BATCH_OVERHEAD = BATCH_HEADER_SIZE;
/** The most a record's own fields (length, attributes, deltas, lengths) add to its key and value: varints. */
const RECORD_OVERHEAD = 21;
/** Buffers of acknowledged batches kept for new ones. */
const FREE_BUFFERS = 16;

/** An upper estimate of a record's bytes in a batch (what it reserves from buffer.memory). */
export function recordSize(
  key: Uint8Array | null,
  value: Uint8Array | null,
  headers?: readonly RecordHeader[],
): number {
  let size = RECORD_OVERHEAD + (key?.length ?? 0) + (value?.length ?? 0);
  if (headers !== undefined)
    for (const header of headers)
      size += 10 + Buffer.byteLength(header.key) + (header.value?.length ?? 0);
  return size;
}

export class Batch {
  private readonly builder: BatchBuilder;
  /** The sends whose records this batch holds, as runs of consecutive records of one send. */
  private readonly trackers: SendTracker[] = [];
  /** Per run: the index (in its send) of the run's first record, and the run's length. */
  private readonly starts: number[] = [];
  private readonly lengths: number[] = [];
  /** Each record's timestamp, kept only once a record brings its own (else all are `createdAt`). */
  private timestamps: number[] | undefined;
  /** Bytes reserved from buffer.memory, given back when the batch completes. */
  reserved = 0;
  attempts = 0;
  retryAt = 0;
  full = false;
  sent = false;
  /** Sent as its partition's only batch in a request (after MESSAGE_TOO_LARGE for several). */
  solo = false;
  private isSettled = false;
  private settledPromise: Promise<void> | undefined;
  private resolveSettled: (() => void) | undefined;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly createdAt: number,
    buffer: Buffer,
    private readonly compression: 'none' | 'gzip',
    /** Called once, when every record is acknowledged or failed. */
    private readonly onSettled?: (batch: Batch) => void,
  ) {
    this.builder = new BatchBuilder(buffer, compression);
  }

  /** Settles when every record is acknowledged or failed (made only when asked for: flush). */
  get settled(): Promise<void> {
    if (this.isSettled) return Promise.resolve();
    return (this.settledPromise ??= new Promise<void>(
      (resolve) => (this.resolveSettled = resolve),
    ));
  }

  private settle(): void {
    if (this.isSettled) return;
    this.isSettled = true;
    this.onSettled?.(this);
    this.resolveSettled?.();
  }

  get recordCount(): number {
    return this.builder.count;
  }

  /** Encoded size (uncompressed), header included: exact as records are added. */
  get size(): number {
    return this.builder.size;
  }

  /** The exact bytes a record with this timestamp and payload (see BatchBuilder) would add. */
  sizeOfNext(timestamp: number, payload: number): number {
    return this.builder.sizeOfNext(timestamp, payload);
  }

  /** Adds a record; `timestamp` undefined means the batch's `createdAt`. */
  add(
    key: Buffer | null,
    value: Buffer | null,
    headers: RecordHeader[] | undefined,
    timestamp: number | undefined,
    payload: number,
    reserved: number,
    tracker: SendTracker,
    index: number,
  ): void {
    const i = this.builder.count;
    this.builder.append(timestamp ?? this.createdAt, key, value, headers, payload);
    if (timestamp !== undefined && this.timestamps === undefined)
      this.timestamps = new Array<number>(i).fill(this.createdAt);
    this.timestamps?.push(timestamp ?? this.createdAt);
    const run = this.trackers.length - 1;
    if (
      run >= 0 &&
      this.trackers[run] === tracker &&
      this.starts[run]! + this.lengths[run]! === index
    ) {
      this.lengths[run]! += 1;
    } else {
      this.trackers.push(tracker);
      this.starts.push(index);
      this.lengths.push(1);
    }
    this.reserved += reserved;
  }

  /** The batch as bytes, its header filled in on first use (and kept for retries). */
  bytes(): Buffer {
    return this.builder.build();
  }

  /** The buffer the batch was written into, to reuse once the batch is acknowledged. */
  get buffer(): Buffer {
    return this.builder.buffer;
  }

  /** Acknowledged at `baseOffset` (-1 with acks=0): each send learns where its runs landed. */
  complete(baseOffset: number): void {
    let i = 0;
    for (let run = 0; run < this.trackers.length; run++) {
      const length = this.lengths[run]!;
      this.trackers[run]!.done({
        topic: this.topic,
        partition: this.partition,
        start: this.starts[run]!,
        length,
        offset: baseOffset < 0 ? -1 : baseOffset + i,
        timestamp: this.createdAt,
        timestamps: this.timestamps,
        timestampsFrom: i,
      });
      i += length;
    }
    this.settle();
  }

  fail(error: Error): void {
    for (const tracker of this.trackers) tracker.fail(error);
    this.settle();
  }

  // #region split
  /**
   * The broker refused this batch as too large (MESSAGE_TOO_LARGE): its
   * records, in order, in two new batches of half as many each, which take
   * its place (same sends, same `createdAt`, so the same delivery timeout;
   * its reserved bytes shared between them). This batch settles once both
   * have. Kafka's Sender splits into batches of `batch.size`, which never
   * helps when the topic's `max.message.bytes` is below `batch.size`
   * (KAFKA-8350); halving always ends, at single records at the latest.
   */
  split(): [Batch, Batch] {
    const records = decodeRecords(this.bytes());
    const half = Math.ceil(records.length / 2);
    let pending = 2;
    const onHalfSettled = (): void => {
      if (--pending === 0) this.settle();
    };
    const halves = [0, 1].map(
      () =>
        new Batch(
          this.topic,
          this.partition,
          this.createdAt,
          Buffer.allocUnsafe(BATCH_OVERHEAD + Math.ceil(this.size / 2)),
          this.compression,
          onHalfSettled,
        ),
    ) as [Batch, Batch];
    let k = 0;
    for (let run = 0; run < this.trackers.length; run++) {
      for (let i = 0; i < this.lengths[run]!; i++, k++) {
        const { key, value, headers, timestamp } = records[k]!;
        const payload = bytesFieldSize(key) + bytesFieldSize(value) + headersSize(headers);
        const own = this.timestamps === undefined ? undefined : timestamp;
        const index = this.starts[run]! + i;
        halves[k < half ? 0 : 1].add(
          key,
          value,
          headers,
          own,
          payload,
          0,
          this.trackers[run]!,
          index,
        );
      }
    }
    halves[0].reserved = Math.min(this.reserved, recordsSize(records.slice(0, half)));
    halves[1].reserved = this.reserved - halves[0].reserved;
    this.reserved = 0;
    for (const batch of halves) {
      batch.full = true; // nothing more goes in; sent at once
      batch.solo = true; // and alone, so that the broker's answer is about it
    }
    return halves;
  }
  // #endregion split
}

function recordsSize(
  records: readonly { key: Buffer | null; value: Buffer | null; headers: RecordHeader[] }[],
): number {
  let size = 0;
  for (const r of records) size += recordSize(r.key, r.value, r.headers);
  return size;
}

export class PartitionQueue {
  readonly batches: Batch[] = [];
  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}
}

export interface AccumulatorOptions {
  batchSize: number;
  lingerMs: number;
  /** `compression.type`. Default 'none'. */
  compression?: 'none' | 'gzip';
}

export class RecordAccumulator {
  readonly queues = new Map<string, PartitionQueue>();
  /** Batches appended to and not yet settled, for flush. */
  readonly incomplete = new Set<Batch>();
  /** The queues by topic, then partition: no key string per record. */
  private readonly byTopic = new Map<string, PartitionQueue[]>();
  private readonly free: Buffer[] = [];
  private readonly compression: 'none' | 'gzip';
  private readonly forget = (batch: Batch): boolean => this.incomplete.delete(batch);

  constructor(private readonly options: AccumulatorOptions) {
    this.compression = options.compression ?? 'none';
  }

  // #region append
  /**
   * Appends a record to its partition's open batch, opening a new one when it
   * would overflow. `payload` is the exact bytes of its key, value and headers
   * in a batch (BatchBuilder), `reserved` what it took from buffer.memory.
   */
  append(
    topic: string,
    partition: number,
    key: Buffer | null,
    value: Buffer | null,
    headers: RecordHeader[] | undefined,
    timestamp: number | undefined,
    payload: number,
    reserved: number,
    tracker: SendTracker,
    index: number,
    now: number,
  ): void {
    const queue = this.queue(topic, partition);
    let batch = queue.batches[queue.batches.length - 1];
    if (batch !== undefined && !batch.sent && !batch.full) {
      const exact = batch.sizeOfNext(timestamp ?? batch.createdAt, payload);
      if (batch.size + exact > this.options.batchSize) {
        batch.full = true;
        batch = undefined;
      }
    } else batch = undefined;
    if (batch === undefined) batch = this.open(queue, now, payload);
    batch.add(key, value, headers, timestamp, payload, reserved, tracker, index);
    if (batch.size >= this.options.batchSize) batch.full = true;
  }
  // #endregion append

  /** Gives back an acknowledged batch's buffer for a later batch. */
  recycle(batch: Batch): void {
    const buffer = batch.buffer;
    if (buffer.length === this.options.batchSize && this.free.length < FREE_BUFFERS)
      this.free.push(buffer);
  }

  /** Whether the head batch of a queue may be sent now. */
  isReady(batch: Batch, now: number, flushing: boolean): boolean {
    if (batch.retryAt > now) return false;
    return (
      flushing || batch.full || batch.attempts > 0 || now - batch.createdAt >= this.options.lingerMs
    );
  }

  private queue(topic: string, partition: number): PartitionQueue {
    let queues = this.byTopic.get(topic);
    if (queues === undefined) this.byTopic.set(topic, (queues = []));
    let queue = queues[partition];
    if (queue === undefined) {
      queue = queues[partition] = new PartitionQueue(topic, partition);
      this.queues.set(`${partition}:${topic}`, queue);
    }
    return queue;
  }

  private open(queue: PartitionQueue, now: number, payload: number): Batch {
    const batchSize = this.options.batchSize;
    // A first record larger than batch.size gets a batch of its own size.
    const needed = BATCH_OVERHEAD + 3 * 5 + 1 + payload;
    const buffer =
      needed <= batchSize
        ? (this.free.pop() ?? Buffer.allocUnsafe(batchSize))
        : Buffer.allocUnsafe(needed);
    const batch = new Batch(
      queue.topic,
      queue.partition,
      now,
      buffer,
      this.compression,
      this.forget,
    );
    queue.batches.push(batch);
    this.incomplete.add(batch);
    return batch;
  }
}
