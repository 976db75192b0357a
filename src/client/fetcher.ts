/**
 * The consumer's fetcher: one round of Fetch requests (one per leader, in
 * parallel) for the partitions that may be fetched, turned into completed
 * fetches: the records at or after each partition's fetch offset, in offset
 * order. A batch that starts before the fetch offset has its earlier records
 * skipped; a cut-short batch at the end is ignored (`decodeBatches`); control
 * batches are not handed out.
 *
 * Each partition's state carries an `epoch`, bumped by every seek, pause and
 * reset: an answer fetched under an older epoch is dropped, so a seek while
 * a prefetch is in flight never hands out records from the old position.
 */
import type { RecordHeader } from '../log/index.js';
import { ProtocolError } from '../protocol/index.js';
import type { ClientOptions, Cluster } from './cluster.js';
import { FetchedRecords, spanBatches } from './fetched-records.js';
import type { Connection } from './connection.js';
import { isRetriable, needsMetadataRefresh } from './errors.js';
import type { Deserializer } from './serde.js';
import { type TopicPartition, listOffsets } from './list-offsets.js';

export interface ConsumerRecord<K = Buffer | null, V = Buffer | null> {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: K;
  value: V;
  headers: RecordHeader[];
}

export interface ConsumerOptions<K = Buffer | null, V = Buffer | null> extends ClientOptions {
  /** `fetch.max.wait.ms`: how long the broker may hold a fetch for data. Default 500. */
  fetchMaxWaitMs?: number;
  /** `fetch.min.bytes`. Default 1. */
  fetchMinBytes?: number;
  /** `fetch.max.bytes`. Default 52428800. */
  fetchMaxBytes?: number;
  /** `max.partition.fetch.bytes`. Default 1048576. */
  maxPartitionFetchBytes?: number;
  /** `auto.offset.reset`: where to start without a position, or after OFFSET_OUT_OF_RANGE. Default 'latest'. */
  autoOffsetReset?: 'earliest' | 'latest' | 'none';
  /** `retry.backoff.ms`. Default 100. */
  retryBackoffMs?: number;
  keyDeserializer?: Deserializer<K>;
  valueDeserializer?: Deserializer<V>;
}

export function fetchOptions(options: ConsumerOptions<unknown, unknown>): FetchOptions {
  return {
    maxWaitMs: options.fetchMaxWaitMs ?? 500,
    minBytes: options.fetchMinBytes ?? 1,
    maxBytes: options.fetchMaxBytes ?? 52_428_800,
    partitionMaxBytes: options.maxPartitionFetchBytes ?? 1_048_576,
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    autoOffsetReset: options.autoOffsetReset ?? 'latest',
  };
}

export interface PartitionState {
  tp: TopicPartition;
  /** The offset of the next record to hand out; null until a reset resolves it. */
  position: number | null;
  /** The offset the next fetch asks for (ahead of `position` while records are buffered). */
  fetchPosition: number | null;
  /** A pending lookup of where to start. */
  reset: 'earliest' | 'latest' | null;
  paused: boolean;
  epoch: number;
  highWatermark: number;
}

/** One partition's fetched records, read as the consumer advances (see fetched-records.ts). */
export interface CompletedFetch extends FetchedRecords {
  state: PartitionState;
  epoch: number;
}

export interface FetchOptions {
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  partitionMaxBytes: number;
  requestTimeoutMs: number;
  autoOffsetReset: 'earliest' | 'latest' | 'none';
}

export interface FetchRoundResult {
  completed: CompletedFetch[];
  /** A failure to hand to the reader (not retriable). */
  error?: Error;
  /** Something failed that may pass: wait `retry.backoff.ms` before the next round. */
  backoff: boolean;
}

// #region round
/** One fetch round over `states` (already filtered to the fetchable ones). Never rejects. */
export async function fetchRound(
  cluster: Cluster,
  states: PartitionState[],
  options: FetchOptions,
): Promise<FetchRoundResult> {
  const result: FetchRoundResult = { completed: [], backoff: false };
  const byLeader = new Map<Connection, PartitionState[]>();
  for (const state of states) {
    try {
      const leader = await cluster.leaderFor(state.tp.topic, state.tp.partition);
      let list = byLeader.get(leader);
      if (list === undefined) byLeader.set(leader, (list = []));
      list.push(state);
    } catch (error) {
      noteError(cluster, result, state, error);
    }
  }
  await Promise.all(
    [...byLeader].map(([connection, list]) =>
      fetchFrom(cluster, connection, list, options, result),
    ),
  );
  return result;
}

async function fetchFrom(
  cluster: Cluster,
  connection: Connection,
  states: PartitionState[],
  options: FetchOptions,
  result: FetchRoundResult,
): Promise<void> {
  const asked = states.map((s) => ({ state: s, epoch: s.epoch, offset: s.fetchPosition! }));
  const topics = new Map<
    string,
    { partitionIndex: number; fetchOffset: number; partitionMaxBytes: number }[]
  >();
  for (const { state, offset } of asked) {
    let list = topics.get(state.tp.topic);
    if (list === undefined) topics.set(state.tp.topic, (list = []));
    list.push({
      partitionIndex: state.tp.partition,
      fetchOffset: offset,
      partitionMaxBytes: options.partitionMaxBytes,
    });
  }
  let response;
  try {
    response = await connection.request(
      'Fetch',
      {
        replicaId: -1,
        maxWaitMs: options.maxWaitMs,
        minBytes: options.minBytes,
        maxBytes: options.maxBytes,
        isolationLevel: 0,
        topics: [...topics].map(([name, partitions]) => ({ name, partitions })),
      },
      { timeoutMs: options.requestTimeoutMs + options.maxWaitMs },
    );
  } catch (error) {
    for (const { state } of asked) noteError(cluster, result, state, error);
    return;
  }
  for (const t of response.topics) {
    for (const p of t.partitions) {
      const ask = asked.find(
        (a) => a.state.tp.topic === t.name && a.state.tp.partition === p.partitionIndex,
      );
      if (ask === undefined || ask.state.epoch !== ask.epoch || ask.state.paused) continue;
      const { state, offset } = ask;
      if (p.errorCode === 1 /* OFFSET_OUT_OF_RANGE */ && options.autoOffsetReset !== 'none') {
        resetTo(state, options.autoOffsetReset);
        continue;
      }
      if (p.errorCode !== 0) {
        noteError(
          cluster,
          result,
          state,
          ProtocolError.fromCode(
            p.errorCode,
            `Fetch of ${t.name}-${p.partitionIndex} at offset ${offset}`,
          ),
        );
        continue;
      }
      state.highWatermark = p.highWatermark;
      try {
        const completed = recordsFrom(state, ask.epoch, p.records, offset);
        if (completed !== undefined) result.completed.push(completed);
      } catch (error) {
        result.error ??= error as Error;
      }
    }
  }
}
// #endregion round

/** The records at or after `offset`, decoded as they are read; moves the partition's fetch position past the last whole batch. */
function recordsFrom(
  state: PartitionState,
  epoch: number,
  bytes: Buffer,
  offset: number,
): CompletedFetch | undefined {
  if (bytes.length === 0) return undefined;
  const span = spanBatches(bytes, offset);
  state.fetchPosition = span.next;
  if (!span.any) return undefined;
  return Object.assign(new FetchedRecords(bytes, span.end, offset), { state, epoch });
}

export function resetTo(state: PartitionState, strategy: 'earliest' | 'latest'): void {
  state.reset = strategy;
  state.position = null;
  state.fetchPosition = null;
  state.epoch += 1;
}

function noteError(
  cluster: Cluster,
  result: FetchRoundResult,
  state: PartitionState,
  error: unknown,
): void {
  if (needsMetadataRefresh(error)) cluster.markStale(state.tp.topic);
  if (isRetriable(error)) result.backoff = true;
  else result.error ??= error as Error;
}

/** Looks up where partitions with a pending reset start (ListOffsets); a seek meanwhile wins. */
export async function resolveResets(cluster: Cluster, states: PartitionState[]): Promise<void> {
  for (const strategy of ['earliest', 'latest'] as const) {
    const pending = states.filter((s) => s.reset === strategy);
    if (pending.length === 0) continue;
    const epochs = pending.map((s) => s.epoch);
    const listed = await listOffsets(
      cluster,
      pending.map((s) => s.tp),
      strategy,
    );
    pending.forEach((state, i) => {
      if (state.epoch !== epochs[i]) return;
      state.position = state.fetchPosition = listed[i]!.offset;
      state.reset = null;
    });
  }
}

export function newState(
  tp: TopicPartition,
  autoOffsetReset: 'earliest' | 'latest' | 'none',
): PartitionState {
  return {
    tp: { topic: tp.topic, partition: tp.partition },
    position: null,
    fetchPosition: null,
    reset: autoOffsetReset === 'none' ? null : autoOffsetReset,
    paused: false,
    epoch: 0,
    highWatermark: -1,
  };
}

/**
 * The next record to hand out from the completed fetches, oldest first, or
 * undefined: fetches of an older epoch, of a paused partition, or read to the
 * end are dropped on the way; records below the position (a seek back and
 * forth) are skipped without being made. `started` is called when a fetch's
 * first record is found (the consumer prefetches then). Advances the
 * partition's position, then applies the deserializers.
 */
export function takeRecord<K, V>(
  buffer: CompletedFetch[],
  keyDeserializer: Deserializer<K>,
  valueDeserializer: Deserializer<V>,
  started: () => void,
): ConsumerRecord<K, V> | undefined {
  while (buffer.length > 0) {
    const fetch = buffer[0]!;
    const { state } = fetch;
    if (fetch.epoch !== state.epoch || state.paused || !fetch.advance(state.position ?? 0)) {
      buffer.shift();
      continue;
    }
    if (!fetch.started) {
      fetch.started = true;
      started();
    }
    const record = fetch.reader;
    state.position = record.offset + 1;
    return {
      topic: state.tp.topic,
      partition: state.tp.partition,
      offset: record.offset,
      timestamp: record.timestamp,
      key: keyDeserializer(record.keyBytes()),
      value: valueDeserializer(record.valueBytes()),
      headers: record.headers,
    };
  }
  return undefined;
}
