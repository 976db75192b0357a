/**
 * A follower's fetcher: one per leader broker, a loop that sends one Fetch
 * at a time for every partition this broker follows on that leader (Kafka's
 * ReplicaFetcherThread), and acts on each partition's answer:
 *
 * - records: appended as they are (`Partition.appendAsFollower`), with the
 *   leader's HW; the follower's log start follows the leader's;
 * - `divergingEpoch`: the tail the leader never had is cut by leader epoch
 *   (src/replication/divergence.ts), and the next fetch asks again;
 * - OFFSET_OUT_OF_RANGE: as Kafka's `fetchOffsetAndTruncate`: a leader
 *   whose log ends below ours (an unclean election) → truncate to its end;
 *   one whose log starts past our end → empty ours and fetch from its start;
 * - FENCED_LEADER_EPOCH: this broker's image is behind; the partition stops
 *   until the next image gives it a role again;
 * - NOT_LEADER_OR_FOLLOWER, UNKNOWN_LEADER_EPOCH and other retriable errors
 *   (the leader has not applied the image yet): retried after
 *   `backoffMs`; so is a fetch that fails on the wire.
 *
 * Each request carries this broker's replicaId, each partition its
 * `currentLeaderEpoch` and `lastFetchedEpoch` (KIP-595): the leader records
 * the fetch offset as this follower's log end offset.
 *
 * Invariant: only this loop writes to a followed partition's log, and an
 * answer is applied only if the partition still follows the same leader in
 * the same epoch as when the fetch was sent. `close` ends the loop after the
 * fetch in flight (at most maxWaitMs) and closes the client.
 */
import type { Logger } from '../../log/index.js';
import {
  type FetchRequest,
  type FetchResponse,
  type RequestBody,
  type ResponseBody,
  errorName,
  toProtocolError,
} from '../../protocol/index.js';
import { offsetTruncationState } from '../../replication/divergence.js';
import type { Partition } from '../partition.js';

/** How a fetcher reaches its leader: a client Connection, or a Broker in process (tests). */
export interface ReplicaClient {
  request<A extends 'Fetch' | 'ListOffsets'>(
    api: A,
    body: RequestBody<A>,
    options?: { timeoutMs?: number },
  ): Promise<ResponseBody<A>>;
  close(): Promise<void> | void;
}

export interface FetcherOptions {
  /** This broker's id, sent as replicaId. */
  readonly brokerId: number;
  readonly leaderId: number;
  readonly client: ReplicaClient;
  readonly logger: Logger;
  /** Kafka's replica.fetch.wait.max.ms: 500. */
  readonly maxWaitMs: number;
  /** Kafka's replica.fetch.backoff.ms: 1000. */
  readonly backoffMs: number;
  /** Kafka's replica.fetch.max.bytes: 1 MiB. */
  readonly partitionMaxBytes: number;
  /** Kafka's replica.fetch.response.max.bytes: 10 MiB. */
  readonly maxBytes: number;
  /** How long a request may take beyond maxWaitMs (Kafka's replica.socket.timeout.ms: 30 s). */
  readonly requestTimeoutMs: number;
}

interface FetchState {
  readonly partition: Partition;
  readonly leaderEpoch: number;
  /** The next offset to ask for: the log end offset, or the leader's log start past it. */
  fetchOffset: number;
  /** Not fetched before this time (ms, Date.now) after a retriable error. */
  delayedUntil: number;
  /** The last error logged for it, so a streak is logged once. */
  lastError?: string;
}

type PartitionAnswer = FetchResponse['topics'][number]['partitions'][number];

export class ReplicaFetcher {
  private readonly states = new Map<Partition, FetchState>();
  private stopped = false;
  private wakeUp: (() => void) | undefined;
  private readonly loop: Promise<void>;
  private wireError: string | undefined;

  constructor(private readonly o: FetcherOptions) {
    this.loop = this.run();
  }

  get leaderId(): number {
    return this.o.leaderId;
  }

  get size(): number {
    return this.states.size;
  }

  has(partition: Partition): boolean {
    return this.states.has(partition);
  }

  // #region membership
  /** Starts fetching `partition`, which follows this fetcher's leader at its current epoch. */
  add(partition: Partition): void {
    // A log without epochs cannot ask where it diverges: cut to the HW (Kafka's truncateToHighWatermark).
    if (
      partition.log.epochs.latestEpoch === undefined &&
      partition.logEndOffset > partition.highWatermark
    )
      this.truncate(partition, partition.highWatermark, 'it has no leader epochs to compare');
    const state: FetchState = {
      partition,
      leaderEpoch: partition.leaderEpoch,
      fetchOffset: partition.logEndOffset,
      delayedUntil: 0,
    };
    this.states.set(partition, state);
    this.o.logger.info(
      `following broker ${this.o.leaderId} for ${partition.name} from offset ${state.fetchOffset} ` +
        `(epoch ${state.leaderEpoch})`,
    );
    this.wake();
  }

  remove(partition: Partition): void {
    this.states.delete(partition);
  }

  /** Ends the loop (after the fetch in flight) and closes the client. */
  async close(): Promise<void> {
    this.stopped = true;
    this.states.clear();
    this.wake();
    await this.o.client.close();
    await this.loop;
  }
  // #endregion membership

  // #region loop
  private async run(): Promise<void> {
    while (!this.stopped) {
      const now = Date.now();
      // A partition whose log is being reopened (a config change) waits for the next round.
      const ready = [...this.states.values()].filter(
        (s) => s.delayedUntil <= now && s.partition.ready() === undefined,
      );
      if (ready.length === 0) {
        const all = [...this.states.values()];
        const swapping = all.find((s) => s.partition.ready() !== undefined);
        const delayed = all.filter((s) => s.partition.ready() === undefined);
        const next = Math.min(...delayed.map((s) => s.delayedUntil));
        const nap = this.sleep(Number.isFinite(next) ? next - now : undefined);
        const reopened = swapping?.partition.ready()?.catch(() => {});
        await (reopened === undefined ? nap : Promise.race([nap, reopened]));
        continue;
      }
      let response: FetchResponse;
      try {
        response = await this.o.client.request('Fetch', this.request(ready), {
          timeoutMs: this.o.maxWaitMs + this.o.requestTimeoutMs,
        });
      } catch (err) {
        if (this.stopped) break;
        const message = toProtocolError(err).message;
        if (this.wireError !== message)
          this.o.logger.warn(
            `cannot fetch from broker ${this.o.leaderId}: ${message}; retrying every ${this.o.backoffMs} ms`,
          );
        this.wireError = message;
        await this.sleep(this.o.backoffMs);
        continue;
      }
      if (this.wireError !== undefined)
        this.o.logger.info(`fetching from broker ${this.o.leaderId} again`);
      this.wireError = undefined;
      const byName = new Map(ready.map((s) => [s.partition.name, s]));
      for (const t of response.topics)
        for (const answer of t.partitions) {
          const state = byName.get(`${t.name}-${answer.partitionIndex}`);
          if (state !== undefined && !this.stopped) await this.handle(state, answer);
        }
    }
  }

  private request(ready: readonly FetchState[]): FetchRequest {
    const topics = new Map<string, FetchRequest['topics'][number]['partitions']>();
    for (const s of ready) {
      const p = s.partition;
      let list = topics.get(p.topic);
      if (list === undefined) topics.set(p.topic, (list = []));
      list.push({
        partitionIndex: p.index,
        currentLeaderEpoch: s.leaderEpoch,
        fetchOffset: s.fetchOffset,
        lastFetchedEpoch: p.log.epochs.latestEpoch ?? -1,
        logStartOffset: p.logStartOffset,
        partitionMaxBytes: this.o.partitionMaxBytes,
      });
    }
    return {
      replicaId: this.o.brokerId,
      maxWaitMs: this.o.maxWaitMs,
      minBytes: 1,
      maxBytes: this.o.maxBytes,
      topics: [...topics].map(([name, partitions]) => ({ name, partitions })),
    };
  }

  /** Waits `ms` (forever when undefined) or until woken by add or close. */
  private sleep(ms: number | undefined): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(timer);
        if (this.wakeUp === done) this.wakeUp = undefined;
        resolve();
      };
      if (ms !== undefined) timer = setTimeout(done, Math.max(0, ms)).unref();
      this.wakeUp = done;
    });
  }

  private wake(): void {
    this.wakeUp?.();
  }
  // #endregion loop

  // #region answer
  /** Whether `state` is still current: the partition follows this leader at the epoch fetched in. */
  private current(state: FetchState): boolean {
    const p = state.partition;
    return (
      this.states.get(p) === state &&
      p.role === 'follower' &&
      p.leaderId === this.o.leaderId &&
      p.leaderEpoch === state.leaderEpoch &&
      !p.isClosed
    );
  }

  private async handle(state: FetchState, answer: PartitionAnswer): Promise<void> {
    const p = state.partition;
    await p.ready();
    if (!this.current(state)) return;
    try {
      if (answer.errorCode !== 0) return await this.failed(state, answer.errorCode);
      state.lastError = undefined;
      if (answer.divergingEpoch !== undefined) {
        const { epoch, endOffset } = answer.divergingEpoch;
        const truncation = offsetTruncationState(
          { epoch, endOffset },
          {
            epochCache: p.log.epochs,
            logEndOffset: p.logEndOffset,
            highWatermark: p.highWatermark,
          },
        );
        this.truncate(p, truncation.offset, `its tail diverged from the leader's epoch ${epoch}`);
      } else if (answer.records.length > 0) {
        p.appendAsFollower(answer.records, answer.highWatermark);
      } else {
        p.updateFollowerHighWatermark(answer.highWatermark);
      }
      state.fetchOffset = Math.max(state.fetchOffset, p.logEndOffset);
      if (answer.divergingEpoch !== undefined) state.fetchOffset = p.logEndOffset;
      // The leader's log start (retention, DeleteRecords) is the follower's too, up to its HW.
      const start = Math.min(answer.logStartOffset, p.highWatermark);
      if (start > p.logStartOffset) await p.log.deleteRecordsBefore(start);
    } catch (err) {
      // An answer this log cannot take (it should not happen): stop, as Kafka marks it failed.
      this.states.delete(p);
      this.o.logger.error(
        `stopped following broker ${this.o.leaderId} for ${p.name}: ${toProtocolError(err).message}; ` +
          `it waits for the next metadata image`,
      );
    }
  }

  private async failed(state: FetchState, code: number): Promise<void> {
    const p = state.partition;
    const name = errorName(code) ?? `error ${code}`;
    if (name === 'OFFSET_OUT_OF_RANGE') return this.outOfRange(state);
    if (name === 'FENCED_LEADER_EPOCH') {
      this.states.delete(p);
      this.o.logger.info(
        `stopped fetching ${p.name} from broker ${this.o.leaderId}: it has a leader epoch newer ` +
          `than ${state.leaderEpoch}; waiting for the next metadata image`,
      );
      return;
    }
    this.delay(state, `broker ${this.o.leaderId} answered ${name}`);
  }

  /** Kafka's fetchOffsetAndTruncate: where the leader's log is, asked with ListOffsets. */
  private async outOfRange(state: FetchState): Promise<void> {
    const p = state.partition;
    const leaderEnd = await this.listOffset(state, -1);
    if (leaderEnd === undefined || !this.current(state)) return;
    if (leaderEnd < p.logEndOffset) {
      this.truncate(
        p,
        leaderEnd,
        `the leader's log ends there (it lacks records this replica has)`,
      );
      state.fetchOffset = p.logEndOffset;
      return;
    }
    const leaderStart = await this.listOffset(state, -2);
    if (leaderStart === undefined || !this.current(state)) return;
    if (leaderStart > p.logEndOffset) {
      p.truncateTo(p.logStartOffset); // empty; the first batch from the leader starts past the gap
      this.o.logger.info(
        `emptied ${p.name}: the leader's log starts at ${leaderStart}, past this replica's end`,
      );
    }
    const next = Math.max(leaderStart, p.logEndOffset);
    // Nothing to change here: ask again later rather than at once.
    if (next === state.fetchOffset) this.delay(state, 'the leader cannot place its offset');
    state.fetchOffset = next;
  }

  private async listOffset(state: FetchState, timestamp: number): Promise<number | undefined> {
    const p = state.partition;
    try {
      const answer = await this.o.client.request('ListOffsets', {
        replicaId: this.o.brokerId,
        topics: [
          {
            name: p.topic,
            partitions: [
              { partitionIndex: p.index, currentLeaderEpoch: state.leaderEpoch, timestamp },
            ],
          },
        ],
      });
      const r = answer.topics[0]?.partitions[0];
      if (r !== undefined && r.errorCode === 0 && r.offset >= 0) return r.offset;
      this.delay(state, `ListOffsets answered ${errorName(r?.errorCode ?? -1) ?? 'nothing'}`);
    } catch (err) {
      this.delay(state, `ListOffsets failed: ${toProtocolError(err).message}`);
    }
    return undefined;
  }

  private delay(state: FetchState, why: string): void {
    state.delayedUntil = Date.now() + this.o.backoffMs;
    if (state.lastError !== why)
      this.o.logger.info(
        `fetching ${state.partition.name} again in ${this.o.backoffMs} ms: ${why}`,
      );
    state.lastError = why;
  }

  private truncate(p: Partition, offset: number, why: string): void {
    const before = p.logEndOffset;
    p.truncateTo(offset);
    if (p.logEndOffset < before)
      this.o.logger.info(`truncated ${p.name} to ${p.logEndOffset}: ${why}`);
  }
  // #endregion answer
}
