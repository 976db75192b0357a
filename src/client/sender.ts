/**
 * The producer's sender: takes ready batches from the accumulator, groups
 * them by leader into Produce requests (every ready batch at the head of
 * each partition's queue, in order, up to `max.request.size` bytes; Kafka
 * sends one batch per partition per request, samsa's broker appends a
 * partition's batches in order, all or none, which costs each side a
 * quarter less CPU per record: docs/benchmarks.md), keeps at most
 * `max.in.flight.requests.per.connection` requests in flight per broker, and
 * settles each batch from its partition's answer.
 *
 * Retries: a batch that fails with a retriable error (the broker's flag, or
 * the network) goes back to the head of its queue after `retry.backoff.ms`,
 * until `retries` attempts or `delivery.timeout.ms` since it was created;
 * errors about leadership make the topic's metadata stale first. Anything
 * not retriable fails the batch's sends at once.
 *
 * A batch of several records refused as MESSAGE_TOO_LARGE is split in two
 * and sent again (Kafka's Sender splits too); a single record too large
 * fails its send.
 *
 * Ordering: with more than one request in flight, a retried batch may land
 * after a later one of the same partition (Kafka without idempotence does
 * the same); `maxInFlightRequestsPerConnection: 1` keeps strict order.
 */
import { ErrorCode, ProtocolError, type ProduceResponse } from '../protocol/index.js';
import type { Batch, PartitionQueue, RecordAccumulator } from './accumulator.js';
import type { Cluster } from './cluster.js';
import type { Connection } from './connection.js';
import { ClientError, ClientErrorCode, isRetriable, needsMetadataRefresh } from './errors.js';

export interface SenderOptions {
  acks: -1 | 0 | 1;
  maxInFlight: number;
  maxRequestSize: number;
  retries: number;
  retryBackoffMs: number;
  deliveryTimeoutMs: number;
  requestTimeoutMs: number;
}

export class Sender {
  private scheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private readonly refreshing = new Set<string>();
  /** Flushes and closes under way: everything is ready at once. */
  flushing = 0;

  constructor(
    private readonly accumulator: RecordAccumulator,
    private readonly cluster: Cluster,
    private readonly options: SenderOptions,
    private readonly release: (bytes: number) => void,
    private readonly lingerMs: number,
  ) {}

  /**
   * Drains once the current tick's work is done (its microtasks included):
   * sends made in the same tick share batches. A `nextTick`, not a
   * `setImmediate`: no extra turn of the event loop before a request leaves.
   */
  wake(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    process.nextTick(this.drainScheduled);
  }

  private readonly drainScheduled = (): void => {
    this.scheduled = false;
    this.drain();
  };

  /** Drains at `at` (ms since the epoch) unless a drain is due earlier. */
  wakeAt(at: number): void {
    if (at >= this.timerAt) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(
      () => {
        this.timerAt = Infinity;
        this.timer = undefined;
        this.drain();
      },
      Math.max(0, at - Date.now()),
    );
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  // #region drain
  drain(): void {
    const now = Date.now();
    const byLeader = new Map<Connection, PartitionQueue[]>();
    let nextAt = Infinity;
    for (const queue of this.accumulator.queues.values()) {
      const head = queue.batches[0];
      if (head === undefined || head.sent) continue;
      if (now - head.createdAt >= this.options.deliveryTimeoutMs) {
        this.expire(queue, now);
        continue;
      }
      if (!this.accumulator.isReady(head, now, this.flushing > 0)) {
        nextAt = Math.min(
          nextAt,
          head.retryAt > now ? head.retryAt : head.createdAt + this.lingerMs,
        );
        continue;
      }
      const leader = this.leader(queue);
      if (leader === undefined) continue;
      let list = byLeader.get(leader);
      if (list === undefined) byLeader.set(leader, (list = []));
      list.push(queue);
    }
    for (const [connection, queues] of byLeader) {
      // One system call for the drain's requests to this broker, not one per request.
      connection.cork();
      try {
        this.sendTo(connection, queues, now);
      } finally {
        connection.uncork();
      }
    }
    if (nextAt < Infinity) this.wakeAt(nextAt);
  }

  /** The leader's connection from cached metadata; a refresh (then a drain) when it is stale or unknown. */
  private leader(queue: PartitionQueue): Connection | undefined {
    const topic = this.cluster.topic(queue.topic);
    if (!(topic instanceof Promise)) {
      const leader = topic.partitions[queue.partition]?.leader ?? -1;
      if (leader >= 0) {
        try {
          return this.cluster.connectionToNode(leader);
        } catch {
          // not in the metadata: refresh below
        }
      }
      this.cluster.markStale(queue.topic);
    }
    if (!this.refreshing.has(queue.topic)) {
      this.refreshing.add(queue.topic);
      const again = () => {
        this.refreshing.delete(queue.topic);
        this.wakeAt(Date.now() + this.options.retryBackoffMs);
      };
      Promise.resolve(this.cluster.topic(queue.topic)).then(again, (error: unknown) => {
        this.failQueueIfFinal(queue, error);
        again();
      });
    }
    return undefined;
  }

  /**
   * Fills requests, while the connection has room, with the ready batches at
   * the head of each partition's queue, several per partition (the broker
   * appends a partition's batches in order, all or none), up to
   * `max.request.size`.
   */
  private sendTo(connection: Connection, queues: PartitionQueue[], now: number): void {
    const flushing = this.flushing > 0;
    while (connection.inFlight < this.options.maxInFlight) {
      const batches: Batch[] = [];
      let size = 0;
      let full = false;
      for (const queue of queues) {
        for (let taken = 0; ; taken++) {
          const batch = queue.batches[0];
          if (batch === undefined || batch.sent || !this.accumulator.isReady(batch, now, flushing))
            break;
          if (taken > 0 && batch.solo) break; // it goes alone for its partition
          // Its size as built so far (uncompressed: at least what gzip makes of it); building
          // it here would close a batch that is left behind to records still coming.
          const bytes = batch.size;
          if (batches.length > 0 && size + bytes > this.options.maxRequestSize) {
            full = true;
            break;
          }
          size += bytes;
          batches.push(batch);
          queue.batches.shift();
          batch.sent = true;
          batch.attempts += 1;
          if (batch.solo) break;
        }
        if (full) break;
      }
      if (batches.length === 0) return;
      this.produce(connection, batches, now);
    }
  }
  // #endregion drain

  // #region produce
  private produce(connection: Connection, batches: Batch[], now: number): void {
    // A partition's batches are consecutive in `batches` (sendTo takes them queue by queue).
    const groups: Batch[][] = [];
    const topics = new Map<string, { partitionIndex: number; records: Buffer }[]>();
    for (let i = 0; i < batches.length;) {
      const first = batches[i]!;
      let j = i + 1;
      while (
        j < batches.length &&
        batches[j]!.partition === first.partition &&
        batches[j]!.topic === first.topic
      )
        j++;
      const group = batches.slice(i, j);
      groups.push(group);
      let list = topics.get(first.topic);
      if (list === undefined) topics.set(first.topic, (list = []));
      const records =
        group.length === 1 ? first.bytes() : Buffer.concat(group.map((b) => b.bytes()));
      list.push({ partitionIndex: first.partition, records });
      i = j;
    }
    const body = {
      acks: this.options.acks,
      timeoutMs: this.options.requestTimeoutMs,
      topics: [...topics].map(([name, partitions]) => ({ name, partitions })),
    };
    const noResponse = this.options.acks === 0;
    connection.request('Produce', body, { noResponse }).then(
      (response) => {
        for (const group of groups) this.settle(group, response, now);
        this.drain();
      },
      (error: unknown) => {
        // Backwards: each goes back to the head of its queue, so a partition's keep their order.
        for (let i = batches.length - 1; i >= 0; i--) this.failed(batches[i]!, error as Error, now);
        this.drain();
      },
    );
  }

  /** One partition's batches, from its answer: the broker appended them in order, all or none. */
  private settle(group: Batch[], response: ProduceResponse | undefined, now: number): void {
    const first = group[0]!;
    if (response === undefined) {
      for (const batch of group) this.completed(batch, -1);
      return;
    }
    const answer = response.topics
      .find((t) => t.name === first.topic)
      ?.partitions.find((p) => p.partitionIndex === first.partition);
    if (answer === undefined) {
      const error = new ProtocolError(
        'UNKNOWN_SERVER_ERROR',
        `the Produce response has no answer for ${first.topic}-${first.partition}`,
      );
      for (const batch of group) this.done(batch, () => batch.fail(error));
      return;
    }
    if (answer.errorCode === 0) {
      let offset = answer.baseOffset;
      for (const batch of group) {
        this.completed(batch, offset);
        offset += batch.recordCount;
      }
      return;
    }
    if (answer.errorCode === ErrorCode.MESSAGE_TOO_LARGE) {
      if (group.length > 1) return this.resendAlone(group);
      if (first.recordCount > 1) return this.split(first);
    }
    const error = ProtocolError.fromCode(answer.errorCode, answer.errorMessage ?? undefined);
    for (let i = group.length - 1; i >= 0; i--) this.failed(group[i]!, error, now);
  }

  /**
   * MESSAGE_TOO_LARGE for several batches of one partition: which of them is
   * too large is unknown, so each is sent again alone (not counted as an
   * attempt), to be split or failed on its own answer.
   */
  private resendAlone(group: Batch[]): void {
    for (let i = group.length - 1; i >= 0; i--) {
      const batch = group[i]!;
      batch.sent = false;
      batch.solo = true;
      batch.attempts -= 1;
      this.requeue(batch);
    }
  }

  private failed(batch: Batch, error: Error, now: number): void {
    if (needsMetadataRefresh(error)) this.cluster.markStale(batch.topic);
    const age = Date.now() - batch.createdAt;
    if (
      isRetriable(error) &&
      batch.attempts <= this.options.retries &&
      age < this.options.deliveryTimeoutMs
    ) {
      batch.sent = false;
      batch.retryAt = now + this.options.retryBackoffMs;
      this.requeue(batch);
      this.wakeAt(batch.retryAt);
      return;
    }
    this.done(batch, () => batch.fail(error));
  }
  // #endregion produce

  /**
   * Refused as too large with more than one record (Kafka's splitAndReenqueue):
   * its two halves go to the head of the queue in its place, ready at once; a
   * half still too large is split again, a single record fails its send.
   */
  private split(batch: Batch): void {
    const [first, second] = batch.split();
    this.requeue(second);
    this.requeue(first);
    this.accumulator.recycle(batch);
  }

  /** Puts a batch back at the head of its partition's queue, before any batch appended after it. */
  private requeue(batch: Batch): void {
    for (const queue of this.accumulator.queues.values()) {
      if (queue.topic === batch.topic && queue.partition === batch.partition) {
        queue.batches.unshift(batch);
        return;
      }
    }
  }

  /** A topic that cannot be produced to (it does not exist, auto-creation is off): its waiting batches fail. */
  private failQueueIfFinal(queue: PartitionQueue, error: unknown): void {
    const now = Date.now();
    for (const batch of queue.batches.splice(0)) {
      if (isRetriable(error) && now - batch.createdAt < this.options.deliveryTimeoutMs) {
        queue.batches.push(batch);
        continue;
      }
      this.done(batch, () => batch.fail(error as Error));
    }
  }

  /** Kafka's batch expiry: what waited `delivery.timeout.ms` without being sent fails. */
  private expire(queue: PartitionQueue, now: number): void {
    while (queue.batches[0] !== undefined && !queue.batches[0].sent) {
      const batch = queue.batches[0];
      if (now - batch.createdAt < this.options.deliveryTimeoutMs) break;
      queue.batches.shift();
      const error = new ClientError(
        ClientErrorCode.TIMEOUT,
        `${batch.recordCount} record(s) for ${batch.topic}-${batch.partition} expired: ` +
          `${now - batch.createdAt} ms passed since the batch was created (delivery.timeout.ms)`,
      );
      this.done(batch, () => batch.fail(error));
    }
  }

  private done(batch: Batch, settle: () => void): void {
    settle();
    this.release(batch.reserved);
  }

  /** Acknowledged: the request was written whole, so nothing reads the batch's buffer any more. */
  private completed(batch: Batch, baseOffset: number): void {
    batch.complete(baseOffset);
    this.release(batch.reserved);
    this.accumulator.recycle(batch);
  }
}
