/**
 * The consumer, without groups for now: you assign it partitions and read.
 *
 *   const consumer = new Consumer({ brokers: '127.0.0.1:9092', valueDeserializer: stringSerde.deserialize });
 *   consumer.assign([{ topic: 'page-views', partition: 0 }]);
 *   consumer.seekToBeginning();
 *   for await (const record of consumer) console.log(record.offset, record.value);
 *
 * Guarantees: per partition, records come in offset order, each once, from
 * the position on (`seek` moves it; `seekToBeginning/End` look it up with
 * ListOffsets before the next fetch, as Kafka does, lazily); no order across
 * partitions. While records are handed out the next fetch is already in
 * flight (prefetch), at most two fetches' worth buffered per partition.
 *
 * The iterator is the one reader: a second concurrent `for await` is refused,
 * and leaving the loop (break, return, throw) closes the consumer. A
 * non-retriable error (OFFSET_OUT_OF_RANGE with `autoOffsetReset: 'none'`, a
 * corrupt batch) is thrown from the loop; retriable ones are retried after
 * `retry.backoff.ms`, with a metadata refresh for leadership errors.
 */
import { Cluster } from './cluster.js';
import { ClientError, ClientErrorCode, sleep } from './errors.js';
import {
  type CompletedFetch,
  type ConsumerOptions,
  type ConsumerRecord,
  type FetchOptions,
  fetchOptions,
  type PartitionState,
  fetchRound,
  newState,
  resetTo,
  resolveResets,
} from './fetcher.js';
import { type TopicPartition, tpKey } from './list-offsets.js';
import type { Deserializer } from './serde.js';

export type { TopicPartition } from './list-offsets.js';
export type { ConsumerOptions, ConsumerRecord } from './fetcher.js';

export class Consumer<K = Buffer | null, V = Buffer | null> implements AsyncIterable<
  ConsumerRecord<K, V>
> {
  private readonly cluster: Cluster;
  private readonly fetch: FetchOptions;
  private readonly retryBackoffMs: number;
  private readonly keyDeserializer: Deserializer<K>;
  private readonly valueDeserializer: Deserializer<V>;
  private states = new Map<string, PartitionState>();
  private buffer: CompletedFetch[] = [];
  private inFlight: Promise<void> | undefined;
  private failure: Error | undefined;
  private wakeUp: (() => void) | undefined;
  private reading = false;
  private closed = false;

  constructor(options: ConsumerOptions<K, V> = {}) {
    this.cluster = new Cluster(options);
    this.fetch = fetchOptions(options);
    this.retryBackoffMs = options.retryBackoffMs ?? 100;
    const identity = ((bytes: Buffer | null) => bytes) as Deserializer<never>;
    this.keyDeserializer = options.keyDeserializer ?? identity;
    this.valueDeserializer = options.valueDeserializer ?? identity;
  }

  // #region assignment
  /** Reads these partitions from now on (replacing the previous set); positions kept for those that stay. */
  assign(partitions: readonly TopicPartition[]): void {
    this.checkOpen();
    const next = new Map<string, PartitionState>();
    for (const tp of partitions) {
      if (typeof tp?.topic !== 'string' || !Number.isInteger(tp.partition) || tp.partition < 0)
        throw new TypeError('assign wants [{ topic, partition }]');
      const key = tpKey(tp);
      next.set(key, this.states.get(key) ?? newState(tp, this.fetch.autoOffsetReset));
    }
    this.buffer = this.buffer.filter((f) => next.get(tpKey(f.state.tp)) === f.state);
    this.states = next;
    this.wake();
  }

  assignment(): TopicPartition[] {
    return [...this.states.values()].map((s) => ({ ...s.tp }));
  }

  /** The next record handed out from `tp` will be the one at `offset` (or the first after it). */
  seek(tp: TopicPartition, offset: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0)
      throw new TypeError(`an offset must be an integer ≥ 0, not ${offset}`);
    const state = this.state(tp);
    this.forget(state);
    state.position = state.fetchPosition = offset;
    state.reset = null;
    this.wake();
  }

  seekToBeginning(partitions: readonly TopicPartition[] = this.assignment()): void {
    for (const tp of partitions) this.resetPartition(tp, 'earliest');
  }

  seekToEnd(partitions: readonly TopicPartition[] = this.assignment()): void {
    for (const tp of partitions) this.resetPartition(tp, 'latest');
  }

  /** The offset of the next record `tp` will hand out (looked up first if a reset is pending). */
  async position(tp: TopicPartition): Promise<number> {
    const state = this.state(tp);
    await resolveResets(this.cluster, [state]);
    if (state.position === null) throw new Error(`no position for ${tpKey(tp)}`);
    return state.position;
  }

  /** Stops handing out and fetching `partitions` until `resume`; their positions stay. */
  pause(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) {
      const state = this.state(tp);
      state.paused = true;
      this.forget(state);
    }
  }

  resume(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) this.state(tp).paused = false;
    this.wake();
  }

  paused(): TopicPartition[] {
    return [...this.states.values()].filter((s) => s.paused).map((s) => ({ ...s.tp }));
  }
  // #endregion assignment

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wake();
    await this.cluster.close();
  }

  // #region iterate
  [Symbol.asyncIterator](): AsyncIterator<ConsumerRecord<K, V>> {
    this.checkOpen();
    if (this.reading)
      throw new ClientError(ClientErrorCode.CONCURRENT_READ, 'this consumer already has a reader');
    this.reading = true;
    return this.records();
  }

  private async *records(): AsyncGenerator<ConsumerRecord<K, V>> {
    try {
      while (!this.closed) {
        const record = this.nextBuffered();
        if (record !== undefined) {
          yield record;
          continue;
        }
        if (this.failure !== undefined) {
          const failure = this.failure;
          this.failure = undefined;
          throw failure;
        }
        await this.waitForData();
      }
    } finally {
      this.reading = false;
      await this.close();
    }
  }

  private nextBuffered(): ConsumerRecord<K, V> | undefined {
    while (this.buffer.length > 0) {
      const fetch = this.buffer[0]!;
      const { state } = fetch;
      const record = fetch.records[fetch.next];
      if (fetch.epoch !== state.epoch || state.paused || record === undefined) {
        this.buffer.shift();
        continue;
      }
      // Starting on a fetch's records: fetch the next ones meanwhile.
      if (fetch.next === 0) queueMicrotask(() => this.prefetch());
      if (state.position !== null && record.offset < state.position) {
        fetch.next += 1; // already handed out (a seek back and forth)
        continue;
      }
      const out: ConsumerRecord<K, V> = {
        topic: state.tp.topic,
        partition: state.tp.partition,
        offset: record.offset,
        timestamp: record.timestamp,
        key: this.keyDeserializer(record.key),
        value: this.valueDeserializer(record.value),
        headers: record.headers,
      };
      fetch.next += 1;
      state.position = record.offset + 1;
      return out;
    }
    return undefined;
  }
  // #endregion iterate

  // #region fetch
  /** Starts the next fetch round in the background, unless one is in flight. */
  private prefetch(): void {
    if (this.inFlight !== undefined || this.closed) return;
    const round = this.round();
    this.inFlight = round.finally(() => (this.inFlight = undefined));
  }

  private async waitForData(): Promise<void> {
    this.prefetch();
    if (this.inFlight !== undefined) return this.inFlight;
  }

  private async round(): Promise<void> {
    const resets = [...this.states.values()].filter((s) => s.reset !== null && !s.paused);
    try {
      await resolveResets(this.cluster, resets);
    } catch (error) {
      if (!this.closed) await this.backoffOrFail(error);
      return;
    }
    const unpositioned = [...this.states.values()].find(
      (s) => s.position === null && s.reset === null && !s.paused,
    );
    if (unpositioned !== undefined) {
      this.failure ??= new ClientError(
        ClientErrorCode.NO_OFFSET,
        `${tpKey(unpositioned.tp)} has no position and autoOffsetReset is 'none': seek first`,
      );
      return;
    }
    const buffered = new Map<PartitionState, number>();
    for (const f of this.buffer) buffered.set(f.state, (buffered.get(f.state) ?? 0) + 1);
    const fetchable = [...this.states.values()].filter(
      (s) => !s.paused && s.fetchPosition !== null && (buffered.get(s) ?? 0) < 2,
    );
    if (fetchable.length === 0) {
      if (this.buffer.length === 0) await this.idle();
      return;
    }
    const result = await fetchRound(this.cluster, fetchable, this.fetch);
    if (this.closed) return;
    for (const completed of result.completed) this.buffer.push(completed);
    if (result.error !== undefined) this.failure ??= result.error;
    else if (result.backoff) await sleep(this.retryBackoffMs);
  }

  private async backoffOrFail(error: unknown): Promise<void> {
    if (error instanceof Error && 'retriable' in error && error.retriable === true)
      await sleep(this.retryBackoffMs);
    else this.failure ??= error as Error;
  }

  /** Nothing to fetch (no assignment, all paused): wait for assign, resume, seek or close. */
  private idle(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, this.fetch.maxWaitMs);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private wake(): void {
    const wakeUp = this.wakeUp;
    this.wakeUp = undefined;
    wakeUp?.();
  }
  // #endregion fetch

  private resetPartition(tp: TopicPartition, strategy: 'earliest' | 'latest'): void {
    const state = this.state(tp);
    this.forget(state);
    resetTo(state, strategy);
    this.wake();
  }

  /** Drops what is buffered or in flight for a partition: its next fetch starts at its position. */
  private forget(state: PartitionState): void {
    state.epoch += 1;
    state.fetchPosition = state.position;
    this.buffer = this.buffer.filter((f) => f.state !== state);
  }

  private state(tp: TopicPartition): PartitionState {
    this.checkOpen();
    const state = this.states.get(tpKey(tp));
    if (state === undefined) throw new TypeError(`${tpKey(tp)} is not assigned to this consumer`);
    return state;
  }

  private checkOpen(): void {
    if (this.closed) throw new ClientError(ClientErrorCode.CLOSED, 'the consumer is closed');
  }
}
