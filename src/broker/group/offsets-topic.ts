/**
 * The internal topic `__consumer_offsets`: where committed offsets and group
 * metadata are kept, compacted. A group's records all go to one partition,
 * `abs(hashCode(groupId)) % partitions` with Java's String.hashCode over
 * UTF-16 code units, so a group lands on the partition Kafka would pick.
 *
 * A broker alone creates the topic on first use, not at start, so a broker
 * without groups starts as fast as before; in a cluster the controller
 * creates it (FindCoordinator asks) and each broker holds the partitions it
 * is a replica of. Appends are queued per partition, so the records of one
 * group reach its log in the order they were written, and only to a
 * partition the coordinator owns (checked just before each append). An
 * append resolves once the batch is in the log (the page cache), the same
 * durability a produce with acks=1 gets. In a cluster it is written as
 * Kafka writes it, with acks=all: refused with NOT_ENOUGH_REPLICAS while the
 * ISR is below min.insync.replicas, and resolved once the high watermark
 * passes the batch (src/broker/replica/delayed-acks.ts), or rejected after
 * `offsets.commit.timeout.ms` (REQUEST_TIMED_OUT) or when leadership moves
 * (NOT_LEADER_OR_FOLLOWER).
 */
import { encodeBatch } from '../../log/index.js';
import { ProtocolError } from '../../protocol/index.js';
import type { BrokerSettings } from '../config.js';
import type { Partition } from '../partition.js';
import type { Topic, TopicManager } from '../topics.js';
import { type AcksWait, awaitOneAck } from '../replica/delayed-acks.js';
import type { GroupCluster } from './cluster.js';
import type { Scheduler } from './scheduler.js';

export const OFFSETS_TOPIC = '__consumer_offsets';

/** Topics only the broker writes: clients may not produce to them, nor delete them. */
export function isInternalTopic(name: string): boolean {
  return name === OFFSETS_TOPIC;
}

/** Java's String.hashCode: s[0]·31^(n-1) + … + s[n-1], in 32-bit arithmetic, over UTF-16 code units. */
export function javaStringHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/** Kafka's `Utils.abs(groupId.hashCode) % partitions` (Utils.abs maps Integer.MIN_VALUE to 0). */
export function partitionForGroup(groupId: string, partitions: number): number {
  const h = javaStringHashCode(groupId);
  return (h === -0x80000000 ? 0 : Math.abs(h)) % partitions;
}

export interface OffsetsRecordInput {
  key: Buffer;
  /** null: a tombstone. */
  value: Buffer | null;
}

/** How the coordinator's appends reach the offsets topic, in a cluster or alone. */
export interface OffsetsTopicOptions {
  topics: TopicManager;
  settings: BrokerSettings;
  /** The clock of the records' timestamps, and the timer of acks=all waits. */
  scheduler: Scheduler;
  /** Whether the coordinator owns the partition now: an append to one it does not is NOT_COORDINATOR. */
  owns: (index: number) => boolean;
  /** In a cluster: the topic is the controller's to create, and the image says how it stands. */
  cluster?: GroupCluster;
}

/** Kafka's `offsets.commit.timeout.ms` default: how long a write may wait for the in-sync replicas. */
export const OFFSETS_COMMIT_TIMEOUT_MS = 5_000;

export class OffsetsTopic {
  private creating: Promise<Topic> | undefined;
  private readonly queues = new Map<number, Promise<unknown>>();
  private readonly topics: TopicManager;
  private readonly settings: BrokerSettings;

  constructor(private readonly options: OffsetsTopicOptions) {
    this.topics = options.topics;
    this.settings = options.settings;
  }

  /** The topic if it exists here (it may have been made by an earlier run). */
  get topic(): Topic | undefined {
    return this.topics.get(OFFSETS_TOPIC);
  }

  get partitionCount(): number {
    return (
      this.options.cluster?.image().topics[OFFSETS_TOPIC]?.partitions.length ??
      this.topic?.partitions.length ??
      this.settings['offsets.topic.num.partitions']
    );
  }

  partitionFor(groupId: string): number {
    return partitionForGroup(groupId, this.partitionCount);
  }

  /**
   * What a first join or commit needs of the topic: a broker alone creates
   * it; in a cluster the controller does (FindCoordinator asks), and a
   * partition is written only once this broker leads it.
   */
  async whenUsable(): Promise<void> {
    if (this.options.cluster === undefined) await this.ensure();
  }

  /**
   * Creates the topic on first use (compacted, `offsets.topic.segment.bytes`
   * segments). In a cluster it is never created here: the topic as this
   * broker holds it, or COORDINATOR_NOT_AVAILABLE.
   */
  ensure(): Promise<Topic> {
    const existing = this.topic;
    if (existing !== undefined) return Promise.resolve(existing);
    if (this.options.cluster !== undefined)
      return Promise.reject(
        new ProtocolError(
          'COORDINATOR_NOT_AVAILABLE',
          `${OFFSETS_TOPIC} is created by the controller in a cluster`,
        ),
      );
    this.creating ??= this.create().finally(() => (this.creating = undefined));
    return this.creating;
  }

  /** The configs `__consumer_offsets` is created with, here or by the controller. */
  topicConfigs(): Record<string, string> {
    return {
      'cleanup.policy': 'compact',
      'segment.bytes': String(this.settings['offsets.topic.segment.bytes']),
    };
  }

  private async create(): Promise<Topic> {
    try {
      const n = this.settings['offsets.topic.num.partitions'];
      const topic = await this.topics.create(OFFSETS_TOPIC, n, this.topicConfigs());
      if (topic === undefined) throw new Error(`${OFFSETS_TOPIC} was validated, not created`);
      return topic;
    } catch (err) {
      const topic = this.topic;
      if (
        err instanceof ProtocolError &&
        err.name === 'TOPIC_ALREADY_EXISTS' &&
        topic !== undefined
      )
        return topic;
      throw err;
    }
  }

  /** Appends `records` as one batch to the group's partition; resolves once appended (in a cluster: once the in-sync replicas have it). */
  append(groupId: string, records: readonly OffsetsRecordInput[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    return this.appendTo(this.partitionFor(groupId), records);
  }

  async appendTo(index: number, records: readonly OffsetsRecordInput[]): Promise<void> {
    const previous = this.queues.get(index) ?? Promise.resolve();
    const run = previous.then(async () => {
      const partition = await this.partition(index);
      const swapping = partition.ready();
      if (swapping !== undefined) await swapping;
      // Checked last, just before the append: leadership may have moved while this waited.
      if (!this.options.owns(index))
        throw new ProtocolError(
          'NOT_COORDINATOR',
          `this broker no longer leads ${OFFSETS_TOPIC}-${index}`,
        );
      if (this.options.cluster !== undefined && partition.isr.size < partition.minInsyncReplicas)
        throw new ProtocolError(
          'NOT_ENOUGH_REPLICAS',
          `${partition.name}: ISR [${[...partition.isr].join(',')}] is smaller than ` +
            `min.insync.replicas=${partition.minInsyncReplicas}`,
        );
      const timestamp = this.options.scheduler.now();
      const { lastOffset } = partition.append(
        encodeBatch(
          records.map((r) => ({ key: r.key, value: r.value })),
          { timestamp },
        ),
      );
      const wait: AcksWait = {
        partition,
        requiredOffset: lastOffset + 1,
        leaderEpoch: partition.leaderEpoch,
      };
      return wait;
    });
    const tail = run.catch(() => undefined);
    this.queues.set(index, tail);
    void tail.then(() => {
      if (this.queues.get(index) === tail) this.queues.delete(index);
    });
    const wait = await run;
    // acks=all in a cluster, outside the queue: the next batch is appended while this one replicates.
    if (this.options.cluster !== undefined)
      await awaitOneAck(wait, commitTimeoutMs(this.settings), this.options.scheduler);
  }

  private async partition(index: number): Promise<Partition> {
    if (this.options.cluster === undefined) await this.ensure();
    const partition = this.topics.partition(OFFSETS_TOPIC, index);
    if (partition === undefined)
      throw new ProtocolError(
        'COORDINATOR_NOT_AVAILABLE',
        `${OFFSETS_TOPIC} has no partition ${index} here`,
      );
    return partition;
  }

  /** Waits for every queued append. */
  async drain(): Promise<void> {
    await Promise.all(this.queues.values());
  }
}

/** `offsets.commit.timeout.ms` when the broker has the setting, else Kafka's default. */
function commitTimeoutMs(settings: BrokerSettings): number {
  const v = (settings as unknown as Record<string, unknown>)['offsets.commit.timeout.ms'];
  return typeof v === 'number' && v > 0 ? v : OFFSETS_COMMIT_TIMEOUT_MS;
}
