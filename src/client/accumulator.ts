/**
 * The producer's record accumulator: per partition, a queue of batches. The
 * last batch of a queue is open and takes records until it holds
 * `batch.size` bytes (its exact encoded size, counted as records are
 * added); a batch is ready to send when it is full, older than
 * `linger.ms`, or a flush or close asks for it. Records are kept as records
 * until the batch is sent; it is encoded once (`encodeBatch`), and the same
 * bytes are sent again on a retry.
 *
 * Invariant: within a partition's queue, batches are in append order and a
 * record's position in the batch is its offset delta; only the last batch
 * of a queue accepts records, and never after it was sent.
 */
import { type AppendRecord, encodeBatch } from '../log/index.js';
import { varintSize } from '../log/varint.js';

/** Where a record ended up: Kafka's RecordMetadata. The offset is -1 with acks=0. */
export interface RecordMetadata {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
}

/** One `send` call's records, which may spread over several batches and partitions. */
export class SendTracker {
  readonly results: RecordMetadata[];
  private remaining: number;
  private failed = false;

  constructor(
    count: number,
    private readonly resolve: (results: RecordMetadata[]) => void,
    private readonly reject: (error: Error) => void,
  ) {
    this.results = new Array<RecordMetadata>(count);
    this.remaining = count;
  }

  done(index: number, metadata: RecordMetadata): void {
    this.results[index] = metadata;
    this.remaining -= 1;
    if (this.remaining === 0 && !this.failed) this.resolve(this.results);
  }

  fail(error: Error): void {
    if (this.failed) return;
    this.failed = true;
    this.reject(error);
  }
}

/** Bytes a batch's header takes (RecordBatch v2). */
export const BATCH_OVERHEAD = 61;
/** The most a record's own fields (length, attributes, deltas, lengths) add to its key and value: varints. */
const RECORD_OVERHEAD = 21;

/** An upper estimate of a record's bytes in a batch (what it reserves from buffer.memory). */
export function recordSize(record: AppendRecord): number {
  let size = RECORD_OVERHEAD + (record.key?.length ?? 0) + (record.value?.length ?? 0);
  for (const header of record.headers ?? [])
    size += 10 + Buffer.byteLength(header.key) + (header.value?.length ?? 0);
  return size;
}

/**
 * The exact bytes of a record's key, value and headers in a batch (with their
 * length varints): what does not depend on where in the batch it lands.
 */
function payloadSize(record: AppendRecord): number {
  const key = record.key;
  const value = record.value;
  let size = key === null || key === undefined ? 1 : varintSize(key.length) + key.length;
  size += value === null ? 1 : varintSize(value.length) + value.length;
  const headers = record.headers;
  if (headers === undefined) return size + 1;
  size += varintSize(headers.length);
  for (const header of headers) {
    const keyLength = Buffer.byteLength(header.key);
    const v = header.value;
    size +=
      varintSize(keyLength) +
      keyLength +
      (v === null || v === undefined ? 1 : varintSize(v.length) + v.length);
  }
  return size;
}

export class Batch {
  readonly records: AppendRecord[] = [];
  private readonly trackers: SendTracker[] = [];
  private readonly indices: number[] = [];
  /** Encoded size (uncompressed), header included: exact as records are added. */
  size = BATCH_OVERHEAD;
  /** The first record's timestamp: the base of the records' timestamp deltas. */
  private firstTimestamp = 0;
  /** Bytes reserved from buffer.memory, given back when the batch completes. */
  reserved = 0;
  attempts = 0;
  retryAt = 0;
  full = false;
  sent = false;
  private encoded: Buffer | undefined;
  private settle!: () => void;
  /** Settles when every record is acknowledged or failed. */
  readonly settled = new Promise<void>((resolve) => (this.settle = resolve));

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly createdAt: number,
  ) {}

  /** The exact bytes `record` would add as the next record of this batch. */
  sizeOfNext(record: AppendRecord): number {
    const timestamp = record.timestamp ?? this.createdAt;
    const first = this.records.length === 0 ? timestamp : this.firstTimestamp;
    const delta = timestamp - first;
    const body =
      1 +
      (Number.isSafeInteger(delta) ? varintSize(delta) : 10) +
      varintSize(this.records.length) +
      payloadSize(record);
    return varintSize(body) + body;
  }

  /** Adds a record; `exact` is its size from `sizeOfNext`, `reserved` what it took from buffer.memory. */
  add(
    record: AppendRecord,
    exact: number,
    reserved: number,
    tracker: SendTracker,
    index: number,
  ): void {
    if (this.records.length === 0) this.firstTimestamp = record.timestamp ?? this.createdAt;
    this.records.push(record);
    this.trackers.push(tracker);
    this.indices.push(index);
    this.size += exact;
    this.reserved += reserved;
  }

  /** The batch as bytes, encoded on first use (and kept for retries). */
  bytes(compression: 'none' | 'gzip'): Buffer {
    this.encoded ??= encodeBatch(this.records, { timestamp: this.createdAt, compression });
    return this.encoded;
  }

  complete(baseOffset: number): void {
    const now = this.createdAt;
    for (let i = 0; i < this.records.length; i++) {
      const offset = baseOffset < 0 ? -1 : baseOffset + i;
      const timestamp = this.records[i]!.timestamp ?? now;
      this.trackers[i]!.done(this.indices[i]!, {
        topic: this.topic,
        partition: this.partition,
        offset,
        timestamp,
      });
    }
    this.settle();
  }

  fail(error: Error): void {
    for (const tracker of this.trackers) tracker.fail(error);
    this.settle();
  }
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
}

export class RecordAccumulator {
  readonly queues = new Map<string, PartitionQueue>();
  /** Batches appended to and not yet settled, for flush. */
  readonly incomplete = new Set<Batch>();

  constructor(private readonly options: AccumulatorOptions) {}

  /** Appends a record to its partition's open batch, opening a new one when it would overflow. Returns the batch if it is new. */
  append(
    topic: string,
    partition: number,
    record: AppendRecord,
    bytes: number,
    tracker: SendTracker,
    index: number,
    now: number,
  ): Batch | undefined {
    const key = `${partition}:${topic}`;
    let queue = this.queues.get(key);
    if (queue === undefined) {
      queue = new PartitionQueue(topic, partition);
      this.queues.set(key, queue);
    }
    let batch = queue.batches[queue.batches.length - 1];
    let opened: Batch | undefined;
    let exact = 0;
    if (batch !== undefined && !batch.sent && !batch.full) {
      exact = batch.sizeOfNext(record);
      if (batch.records.length > 0 && batch.size + exact > this.options.batchSize) {
        batch.full = true;
        batch = undefined;
      }
    } else batch = undefined;
    if (batch === undefined) {
      batch = opened = new Batch(topic, partition, now);
      queue.batches.push(batch);
      this.incomplete.add(batch);
      batch.settled.then(() => this.incomplete.delete(batch!));
      exact = batch.sizeOfNext(record);
    }
    batch.add(record, exact, bytes, tracker, index);
    if (batch.size >= this.options.batchSize) batch.full = true;
    return opened;
  }

  /** Whether the head batch of a queue may be sent now. */
  isReady(batch: Batch, now: number, flushing: boolean): boolean {
    if (batch.retryAt > now) return false;
    return (
      flushing || batch.full || batch.attempts > 0 || now - batch.createdAt >= this.options.lingerMs
    );
  }
}
