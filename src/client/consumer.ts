/**
 * The consumer: assign it partitions, or subscribe it to topics as a member
 * of a consumer group (`groupId`), and read.
 *
 *   const consumer = new Consumer({ brokers: '127.0.0.1:9092', groupId: 'billing' });
 *   consumer.subscribe(['payments']);
 *   for await (const record of consumer) handle(record); // positions auto-committed every 5 s
 *
 * Guarantees: per partition, records come in offset order, each once, from
 * the position on (`seek` moves it; `seekToBeginning/End` look it up with
 * ListOffsets before the next fetch, as Kafka does, lazily); no order across
 * partitions. While records are handed out the next fetch is already in
 * flight (prefetch), at most two fetches' worth buffered per partition.
 *
 * The iterator is the one reader and its `next()` is Kafka's poll: group
 * work (rebalances, auto-commits) happens there, never while the application
 * holds a record; a partition's records are never handed out after its
 * revocation. A second concurrent `for await` is refused, and leaving the loop
 * (break, return, throw) closes the consumer. A non-retriable error is thrown
 * from the loop; retriable ones are retried after `retry.backoff.ms`, with a
 * metadata refresh for leadership errors. Group semantics: docs/consumer.md.
 */
import { Cluster } from './cluster.js';
import { ClientError, ClientErrorCode, sleep } from './errors.js';
import {
  type CompletedFetch,
  type ConsumerOptions as FetcherOptions,
  type ConsumerRecord,
  type FetchOptions,
  fetchOptions,
  type PartitionState,
  fetchRound,
  newState,
  resetTo,
  resolveResets,
  takeRecord,
} from './fetcher.js';
import { RecordIterator } from './record-iterator.js';
import { type TopicPartition, tpKey } from './list-offsets.js';
import type { Deserializer } from './serde.js';
import {
  type AssignmentHost,
  ConsumerGroup,
  type ConsumerGroupMetadata,
} from './group/consumer-group.js';
import type { CommitOffset, CommittedOffset } from './group/offset-committer.js';
import { type GroupOptions, groupOptions } from './group/options.js';

export type { TopicPartition } from './list-offsets.js';
export type { ConsumerRecord } from './fetcher.js';
export type { CommitOffset, CommittedOffset } from './group/offset-committer.js';
export type { ConsumerGroupMetadata } from './group/consumer-group.js';

export interface ConsumerOptions<K = Buffer | null, V = Buffer | null>
  extends FetcherOptions<K, V>, GroupOptions {}

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
  private interrupt: (() => void) | undefined;
  private reading = false;
  /** Set when close() starts: nothing more is handed out or fetched. */
  private closing: Promise<void> | undefined;
  /** Set when close() has left the group: the consumer refuses every call (callbacks during close still work). */
  private closed = false;
  private readonly group: ConsumerGroup | undefined;
  private mode: 'none' | 'assigned' | 'subscribed' = 'none';

  constructor(options: ConsumerOptions<K, V> = {}) {
    // Kafka's default client.id, so a group's members are told apart in `groups describe`.
    options = { ...options, clientId: options.clientId ?? defaultClientId(options.groupId) };
    this.cluster = new Cluster(options);
    this.fetch = fetchOptions(options);
    this.retryBackoffMs = options.retryBackoffMs ?? 100;
    const identity = ((bytes: Buffer | null) => bytes) as Deserializer<never>;
    this.keyDeserializer = options.keyDeserializer ?? identity;
    this.valueDeserializer = options.valueDeserializer ?? identity;
    const group = groupOptions(options);
    if (group !== undefined) {
      const host: AssignmentHost = {
        states: () => this.states.values(),
        setAssignment: (partitions) => this.setAssignment(partitions),
        seek: (tp, offset) => this.seek(tp, offset),
        reset: (tp, strategy) => this.resetPartition(tp, strategy),
        wake: () => this.wake(),
      };
      this.group = new ConsumerGroup(this.cluster, group, host);
    }
  }

  // #region assignment
  /** Reads these partitions from now on (replacing the previous set); positions kept for those that stay. */
  assign(partitions: readonly TopicPartition[]): void {
    this.checkOpen();
    if (this.mode === 'subscribed')
      throw new TypeError('assign() and subscribe() are mutually exclusive: unsubscribe() first');
    for (const tp of partitions)
      if (typeof tp?.topic !== 'string' || !Number.isInteger(tp.partition) || tp.partition < 0)
        throw new TypeError('assign wants [{ topic, partition }]');
    this.setAssignment(partitions);
    this.mode = partitions.length > 0 ? 'assigned' : 'none';
  }

  /** Joins the group `groupId` to read these topics; the group divides their partitions among its members. */
  subscribe(topics: readonly string[]): void {
    this.checkOpen();
    if (this.group === undefined)
      throw new TypeError('subscribe() needs a groupId: the partitions are assigned by a group');
    if (this.mode === 'assigned')
      throw new TypeError('subscribe() and assign() are mutually exclusive: assign([]) first');
    this.group.subscribe(topics);
    this.mode = 'subscribed';
    this.wake();
  }

  /** Leaves the group (committing and revoking first, as on close), or drops the assigned partitions. */
  async unsubscribe(): Promise<void> {
    this.checkOpen();
    if (this.mode === 'subscribed') await this.group!.unsubscribe();
    this.setAssignment([]);
    this.mode = 'none';
  }

  /** The topics subscribed to ([] when partitions are assigned). */
  subscription(): string[] {
    return this.mode === 'subscribed' ? this.group!.topics() : [];
  }

  private setAssignment(partitions: readonly TopicPartition[]): void {
    const next = new Map<string, PartitionState>();
    // With a group, a new partition starts at its committed offset, looked up in the iterator's poll.
    const reset = this.group === undefined ? this.fetch.autoOffsetReset : 'none';
    for (const tp of partitions) {
      const key = tpKey(tp);
      const state = this.states.get(key);
      next.set(key, state ?? newState(tp, reset));
      if (state === undefined && this.group !== undefined) this.group.positionsPending = true;
    }
    // A partition that goes: what is buffered or in flight for it is never handed out.
    for (const [key, state] of this.states) if (!next.has(key)) this.forget(state);
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
    if (state.position === null && state.reset === null) await this.group?.initPositions();
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

  // #region group
  /**
   * Commits offsets for the group: by default the position of every assigned
   * partition (the offset after the last record handed out); or the given
   * offsets, each that of the next record to read. Fails with
   * CLIENT_COMMIT_FAILED when the group has moved on without this member.
   */
  async commit(offsets?: readonly CommitOffset[]): Promise<void> {
    this.checkOpen();
    await this.needGroup('commit()').commit(offsets);
  }

  /** The group's committed offsets for `partitions`, in their order (offset -1: nothing committed). */
  async committed(partitions: readonly TopicPartition[]): Promise<CommittedOffset[]> {
    this.checkOpen();
    return this.needGroup('committed()').committed(partitions);
  }

  /** The group, generation and member id this consumer commits with. */
  groupMetadata(): ConsumerGroupMetadata {
    return this.needGroup('groupMetadata()').metadata();
  }

  private needGroup(what: string): ConsumerGroup {
    if (this.group === undefined) throw new TypeError(`${what} needs a groupId`);
    return this.group;
  }
  // #endregion group

  /** Commits the positions (auto-commit), revokes, leaves the group, closes the connections. */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.wake();
    try {
      await this.group?.close(); // the revoke callback may still commit, seek, ask positions
    } finally {
      this.closed = true;
      await this.cluster.close();
    }
  }

  // #region iterate
  [Symbol.asyncIterator](): AsyncIterator<ConsumerRecord<K, V>> {
    this.checkOpen();
    if (this.reading)
      throw new ClientError(ClientErrorCode.CONCURRENT_READ, 'this consumer already has a reader');
    this.reading = true;
    return this.records();
  }

  /** The iterator's view of this consumer (record-iterator.ts runs the loop). */
  private records(): AsyncIterator<ConsumerRecord<K, V>> {
    const started = (): void => queueMicrotask(() => this.prefetch());
    return new RecordIterator<ConsumerRecord<K, V>>({
      poll: () => this.group?.poll(),
      isClosing: () => this.closing !== undefined,
      nextBuffered: () => {
        const record = takeRecord(
          this.buffer,
          this.keyDeserializer,
          this.valueDeserializer,
          started,
        );
        if (record !== undefined) this.group?.membership.pollEnded();
        return record;
      },
      takeFailure: () => {
        const failure = this.failure;
        this.failure = undefined;
        return failure;
      },
      waitForData: () => this.waitForData(),
      finish: () => {
        this.reading = false;
        return this.close();
      },
    });
  }
  // #endregion iterate

  // #region fetch
  /** Starts the next fetch round in the background, unless one is in flight. */
  private prefetch(): void {
    if (this.inFlight !== undefined || this.closing !== undefined) return;
    const round = this.round();
    this.inFlight = round.finally(() => (this.inFlight = undefined));
  }

  /** Until the fetch in flight completes, or the group has work for the iterator. */
  private async waitForData(): Promise<void> {
    this.prefetch();
    if (this.inFlight === undefined) return;
    await Promise.race([this.inFlight, new Promise<void>((resolve) => (this.interrupt = resolve))]);
    this.interrupt = undefined;
  }

  private async round(): Promise<void> {
    if (this.group?.rebalancing === true) return this.idle(); // nothing is fetched mid-rebalance
    const resets = [...this.states.values()].filter((s) => s.reset !== null && !s.paused);
    try {
      await resolveResets(this.cluster, resets);
    } catch (error) {
      if (this.closing === undefined) await this.backoffOrFail(error);
      return;
    }
    const unpositioned = [...this.states.values()].find(
      (s) => s.position === null && s.reset === null && !s.paused,
    );
    if (unpositioned !== undefined && this.group === undefined) {
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
    if (this.closing !== undefined) return;
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
    const interrupt = this.interrupt;
    this.wakeUp = this.interrupt = undefined;
    wakeUp?.();
    interrupt?.();
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

let consumers = 0;
/** `consumer-<groupId>-<n>` (or `consumer-<n>` without a group), as Kafka's consumer names itself. */
function defaultClientId(groupId: string | undefined): string {
  consumers += 1;
  return groupId === undefined ? `consumer-${consumers}` : `consumer-${groupId}-${consumers}`;
}
