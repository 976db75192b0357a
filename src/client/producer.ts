/**
 * The producer: `send(topic, records)` resolves to where each record landed
 * (partition and offset). Records are batched per partition (accumulator.ts)
 * and sent by the sender (sender.ts); the partition comes from the record,
 * or from Kafka's default partitioner (partitioner.ts).
 *
 *   const producer = new Producer({ brokers: '127.0.0.1:9092' });
 *   const [meta] = await producer.send('page-views', [{ key: 'u1', value: 'hello' }]);
 *   await producer.close();
 *
 * Guarantees: the records of one producer for one partition are appended in
 * the order `send` was called (but see sender.ts on retries with several
 * requests in flight); no order across partitions. `send` waits, and does not
 * buffer without limit, when `buffer.memory` is used up. If a send rejects,
 * some of its records may have been written (as with Kafka's per-record
 * futures); the error says what failed.
 *
 * `linger.ms` defaults to 0, as in Kafka before 4.0 (Kafka 4.0 made it 5):
 * samsa still batches what is sent in the same tick of the event loop, and
 * whatever piles up while `max.in.flight.requests.per.connection` requests
 * are out, so round trips stay short and throughput stays high.
 */
import { bytesFieldSize, headersSize } from '../log/batch-builder.js';
import type { RecordHeader } from '../log/index.js';
import { ProtocolError } from '../protocol/index.js';
import {
  BATCH_OVERHEAD,
  type RecordMetadata,
  RecordAccumulator,
  SendTracker,
  recordSize,
} from './accumulator.js';
import { Cluster, type ClientOptions, type TopicMetadata } from './cluster.js';
import { ClientError, ClientErrorCode } from './errors.js';
import { MemoryPool } from './memory-pool.js';
import { DefaultPartitioner } from './partitioner.js';
import { type Serializer, toBuffer } from './serde.js';
import { Sender } from './sender.js';

export type { RecordMetadata } from './accumulator.js';

export interface ProducerRecord<K = Buffer, V = Buffer> {
  key?: K | null;
  value: V | null;
  /** Send to this partition rather than the partitioner's choice. */
  partition?: number;
  headers?: RecordHeader[];
  /** ms since the epoch; default: when the batch was opened. */
  timestamp?: number;
}

export interface ProducerOptions<K = Buffer, V = Buffer> extends ClientOptions {
  /** `acks`: 0 (do not wait), 1 (the leader), 'all' or -1 (the in-sync replicas). Default 'all'. */
  acks?: 0 | 1 | -1 | 'all';
  /** `linger.ms`: wait this long for more records before sending a batch that is not full. Default 0. */
  lingerMs?: number;
  /** `batch.size`: bytes per partition batch. Default 16384. */
  batchSize?: number;
  /** `buffer.memory`: bytes held in unacknowledged records before `send` waits. Default 32 MiB. */
  bufferMemory?: number;
  /** `max.block.ms`: how long `send` waits for memory or metadata. Default 60000. */
  maxBlockMs?: number;
  /** `max.in.flight.requests.per.connection`. Default 5. */
  maxInFlightRequestsPerConnection?: number;
  /**
   * `max.request.size`: bytes per Produce request; a record larger than this
   * (serialized, in a batch of its own) fails its send with MESSAGE_TOO_LARGE. Default 1048576.
   */
  maxRequestSize?: number;
  /** `retries`: attempts after the first, for retriable errors only. Default 2147483647. */
  retries?: number;
  /** `retry.backoff.ms`. Default 100. */
  retryBackoffMs?: number;
  /** `delivery.timeout.ms`: a record fails this long after send at the latest. Default 120000. */
  deliveryTimeoutMs?: number;
  /** `compression.type`: 'none' or 'gzip'. Default 'none'. */
  compression?: 'none' | 'gzip';
  /** `allow.auto.create.topics`: ask the broker to create a missing topic. Default true. */
  allowAutoTopicCreation?: boolean;
  keySerializer?: Serializer<K>;
  valueSerializer?: Serializer<V>;
}

/**
 * A send's records, serialized and placed: parallel arrays (no object per
 * record). `headers` and `timestamps` exist only when some record has them.
 */
interface Plan {
  keys: (Buffer | null)[];
  values: (Buffer | null)[];
  headers: (RecordHeader[] | undefined)[] | undefined;
  timestamps: (number | undefined)[] | undefined;
  partitions: Int32Array;
  /** Each record's exact key, value and headers bytes in a batch (BatchBuilder's payload). */
  payloads: Int32Array;
  /** What each record reserves from buffer.memory, and their sum. */
  reserved: Float64Array;
  total: number;
}

export class Producer<K = Buffer, V = Buffer> {
  private readonly cluster: Cluster;
  private readonly accumulator: RecordAccumulator;
  private readonly sender: Sender;
  private readonly pool: MemoryPool;
  private readonly partitioner: DefaultPartitioner;
  private readonly maxBlockMs: number;
  private readonly maxRecordSize: number;
  private readonly autoCreate: boolean;
  private readonly keySerializer: Serializer<K>;
  private readonly valueSerializer: Serializer<V>;
  /** Sends that had to wait (metadata, memory): later sends queue behind them to keep their order. */
  private tail: Promise<void> = Promise.resolve();
  private waiting = 0;
  private closed = false;

  constructor(options: ProducerOptions<K, V> = {}) {
    const acks = options.acks === 'all' || options.acks === undefined ? -1 : options.acks;
    if (acks !== -1 && acks !== 0 && acks !== 1)
      throw new TypeError(`acks must be 0, 1, -1 or 'all', not ${String(options.acks)}`);
    const batchSize = positive(options.batchSize ?? 16_384, 'batchSize');
    const lingerMs = nonNegative(options.lingerMs ?? 0, 'lingerMs');
    this.cluster = new Cluster(options);
    const compression = options.compression ?? 'none';
    if (compression !== 'none' && compression !== 'gzip')
      throw new TypeError(`compression must be 'none' or 'gzip', not ${String(compression)}`);
    this.accumulator = new RecordAccumulator({ batchSize, lingerMs, compression });
    this.pool = new MemoryPool(options.bufferMemory ?? 32 * 1024 * 1024);
    this.partitioner = new DefaultPartitioner(batchSize);
    this.maxBlockMs = nonNegative(options.maxBlockMs ?? 60_000, 'maxBlockMs');
    this.maxRecordSize = positive(options.maxRequestSize ?? 1_048_576, 'maxRequestSize');
    this.autoCreate = options.allowAutoTopicCreation ?? true;
    this.keySerializer = options.keySerializer ?? (toBuffer as Serializer<K>);
    this.valueSerializer = options.valueSerializer ?? (toBuffer as Serializer<V>);
    const sender = {
      acks: acks as -1 | 0 | 1,
      maxInFlight: positive(options.maxInFlightRequestsPerConnection ?? 5, 'maxInFlight'),
      maxRequestSize: this.maxRecordSize,
      retries: nonNegative(options.retries ?? 2_147_483_647, 'retries'),
      retryBackoffMs: nonNegative(options.retryBackoffMs ?? 100, 'retryBackoffMs'),
      deliveryTimeoutMs: positive(options.deliveryTimeoutMs ?? 120_000, 'deliveryTimeoutMs'),
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    };
    this.sender = new Sender(
      this.accumulator,
      this.cluster,
      sender,
      (bytes) => this.pool.release(bytes),
      lingerMs,
    );
  }

  // #region send
  /** Sends records to a topic; resolves, in the records' order, to where each was written. */
  send(topic: string, records: readonly ProducerRecord<K, V>[]): Promise<RecordMetadata[]> {
    if (this.closed)
      return Promise.reject(new ClientError(ClientErrorCode.CLOSED, 'the producer is closed'));
    if (typeof topic !== 'string' || topic === '')
      return Promise.reject(new TypeError('topic must be a non-empty string'));
    if (!Array.isArray(records))
      return Promise.reject(new TypeError('records must be an array of { key?, value }'));
    if (records.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      const tracker = new SendTracker(records.length, resolve, reject);
      let plan: Plan;
      try {
        plan = this.serialize(records);
      } catch (error) {
        return reject(error as Error);
      }
      const metadata = this.waiting === 0 ? this.cluster.topic(topic, this.autoCreate) : undefined;
      let placed = false;
      if (metadata !== undefined && !(metadata instanceof Promise)) {
        try {
          this.place(topic, metadata, records, plan);
          placed = true;
        } catch (error) {
          return reject(error as Error);
        }
        if (this.pool.tryReserve(plan.total)) {
          this.appendAll(topic, plan, tracker, 0, records.length);
          this.sender.wake();
          return;
        }
      }
      this.waiting += 1;
      this.tail = this.tail
        .then(async () => {
          const fresh = await this.metadataWithin(topic);
          if (!placed || fresh !== metadata) this.place(topic, fresh, records, plan);
          for (let i = 0; i < records.length; i++) {
            await this.pool.reserve(plan.reserved[i]!, this.maxBlockMs);
            this.appendAll(topic, plan, tracker, i, i + 1);
            this.sender.wake();
          }
        })
        .catch((error: unknown) => tracker.fail(error as Error))
        .finally(() => (this.waiting -= 1));
    });
  }

  /** Appends records [from, to) of a plan to the accumulator. */
  private appendAll(
    topic: string,
    plan: Plan,
    tracker: SendTracker,
    from: number,
    to: number,
  ): void {
    const now = Date.now();
    const { keys, values, headers, timestamps, partitions, payloads, reserved } = plan;
    for (let i = from; i < to; i++) {
      this.accumulator.append(
        topic,
        partitions[i]!,
        keys[i]!,
        values[i]!,
        headers?.[i],
        timestamps?.[i],
        payloads[i]!,
        reserved[i]!,
        tracker,
        i,
        now,
      );
    }
  }

  /** Each record's partition and size; throws for a partition that does not exist or a record too large. */
  private place(
    topic: string,
    metadata: TopicMetadata,
    records: readonly ProducerRecord<K, V>[],
    plan: Plan,
  ): void {
    const numPartitions = metadata.partitions.length;
    const { keys, reserved } = plan;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const bytes = reserved[i]!;
      // One partition: skip hashing the key (x % 1 is 0 whatever x is).
      const partition =
        records[i]!.partition ??
        (key !== null && numPartitions === 1
          ? 0
          : this.partitioner.partition(topic, key, bytes, numPartitions));
      if (!Number.isInteger(partition) || partition < 0 || partition >= numPartitions)
        throw new ProtocolError(
          'UNKNOWN_TOPIC_OR_PARTITION',
          `topic '${topic}' has ${numPartitions} partitions; there is no partition ${partition}`,
        );
      plan.partitions[i] = partition;
    }
  }
  // #endregion send

  /** Serializes and checks every record of a send; throws before anything is appended. */
  private serialize(records: readonly ProducerRecord<K, V>[]): Plan {
    const n = records.length;
    const plan: Plan = {
      keys: new Array<Buffer | null>(n),
      values: new Array<Buffer | null>(n),
      headers: undefined,
      timestamps: undefined,
      partitions: new Int32Array(n),
      payloads: new Int32Array(n),
      reserved: new Float64Array(n),
      total: 0,
    };
    for (let i = 0; i < n; i++) {
      const record = records[i]!;
      if (record === null || typeof record !== 'object')
        throw new TypeError('a record must be an object { key?, value }');
      const key =
        record.key === undefined || record.key === null
          ? null
          : bytesOf(this.keySerializer(record.key), 'key');
      const value =
        record.value === null ? null : bytesOf(this.valueSerializer(record.value), 'value');
      const { headers, timestamp } = record;
      let payload = bytesFieldSize(key) + bytesFieldSize(value);
      if (headers !== undefined) {
        if (!Array.isArray(headers))
          throw new TypeError('headers must be an array of { key, value }');
        for (const h of headers) {
          if (typeof h?.key !== 'string') throw new TypeError('a header key must be a string');
          if (h.value !== null && h.value !== undefined && !(h.value instanceof Uint8Array))
            throw new TypeError('a header value must be a Buffer or null');
        }
        (plan.headers ??= new Array<RecordHeader[] | undefined>(n))[i] = headers;
      }
      payload += headersSize(headers);
      if (timestamp !== undefined) {
        if (!Number.isSafeInteger(timestamp) || Math.abs(timestamp) >= MAX_TIMESTAMP)
          throw new TypeError(`a timestamp must be an integer of ms, not ${timestamp}`);
        (plan.timestamps ??= new Array<number | undefined>(n))[i] = timestamp;
      }
      const bytes = recordSize(key, value, headers);
      this.checkRecordSize(bytes + BATCH_OVERHEAD, i);
      plan.keys[i] = key;
      plan.values[i] = value;
      plan.payloads[i] = payload;
      plan.reserved[i] = bytes;
      plan.total += bytes;
    }
    return plan;
  }

  /**
   * Kafka's ensureValidRecordSize: a record that could never be sent, in a
   * batch of its own, fails its send at once (RecordTooLargeException, here
   * MESSAGE_TOO_LARGE), before anything of the send is appended.
   */
  private checkRecordSize(size: number, index: number): void {
    const limit =
      size > this.maxRecordSize
        ? `max.request.size (maxRequestSize: ${this.maxRecordSize})`
        : size > this.pool.total
          ? `buffer.memory (bufferMemory: ${this.pool.total})`
          : undefined;
    if (limit === undefined) return;
    throw new ProtocolError(
      'MESSAGE_TOO_LARGE',
      `record ${index} of the send is ${size} bytes when serialized in a batch, ` +
        `larger than ${limit}; nothing of this send was sent`,
    );
  }

  private async metadataWithin(topic: string): Promise<TopicMetadata> {
    const deadline = Date.now() + this.maxBlockMs;
    for (;;) {
      try {
        return await this.cluster.topic(topic, this.autoCreate);
      } catch (error) {
        const retriable = error instanceof ProtocolError && error.retriable;
        if (!retriable || Date.now() >= deadline || this.closed) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  /** Sends everything appended so far at once and waits until each record is acknowledged or failed. */
  async flush(): Promise<void> {
    await this.tail;
    this.sender.flushing += 1;
    try {
      const batches = [...this.accumulator.incomplete].map((b) => b.settled);
      this.sender.drain();
      await Promise.all(batches);
    } finally {
      this.sender.flushing -= 1;
    }
  }

  /** Flushes, then closes the connections. Sends after this are refused. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.flush();
    } finally {
      this.sender.stop();
      this.pool.failWaiters(new ClientError(ClientErrorCode.CLOSED, 'the producer closed'));
      await this.cluster.close();
    }
  }
}

/** Timestamps stay below 2^52 ms, so that the difference of any two is a safe integer. */
const MAX_TIMESTAMP = 2 ** 52;

/** A serializer's result, checked: a batch holds bytes. */
function bytesOf(bytes: unknown, what: string): Buffer | null {
  if (bytes === null || Buffer.isBuffer(bytes)) return bytes;
  if (bytes instanceof Uint8Array) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  throw new TypeError(`the ${what} serializer must return a Buffer or null, not ${typeof bytes}`);
}

function positive(n: number, name: string): number {
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new TypeError(`${name} must be a positive integer, not ${n}`);
  return n;
}

function nonNegative(n: number, name: string): number {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new TypeError(`${name} must be an integer ≥ 0, not ${n}`);
  return n;
}
