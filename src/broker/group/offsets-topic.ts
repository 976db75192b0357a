/**
 * The internal topic `__consumer_offsets`: where committed offsets and group
 * metadata are kept, compacted. A group's records all go to one partition,
 * `abs(hashCode(groupId)) % partitions` with Java's String.hashCode over
 * UTF-16 code units, so a group lands on the partition Kafka would pick.
 *
 * The topic is created on first use, not at start, so a broker without
 * groups starts as fast as before. Appends are queued per partition, so the
 * records of one group reach its log in the order they were written; an
 * append resolves once the batch is in the log (the page cache), the same
 * durability a produce with acks=1 gets.
 */
import { encodeBatch } from '../../log/index.js';
import { ProtocolError } from '../../protocol/index.js';
import type { BrokerSettings } from '../config.js';
import type { Partition } from '../partition.js';
import type { Topic, TopicManager } from '../topics.js';

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

export class OffsetsTopic {
  private creating: Promise<Topic> | undefined;
  private readonly queues = new Map<number, Promise<unknown>>();

  constructor(
    private readonly topics: TopicManager,
    private readonly settings: BrokerSettings,
    private readonly now: () => number,
  ) {}

  /** The topic if it exists (it may have been made by an earlier run). */
  get topic(): Topic | undefined {
    return this.topics.get(OFFSETS_TOPIC);
  }

  get partitionCount(): number {
    return this.topic?.partitions.length ?? this.settings['offsets.topic.num.partitions'];
  }

  partitionFor(groupId: string): number {
    return partitionForGroup(groupId, this.partitionCount);
  }

  /** Creates the topic on first use (compacted, `offsets.topic.segment.bytes` segments). */
  ensure(): Promise<Topic> {
    const existing = this.topic;
    if (existing !== undefined) return Promise.resolve(existing);
    this.creating ??= this.create().finally(() => (this.creating = undefined));
    return this.creating;
  }

  private async create(): Promise<Topic> {
    const configs = {
      'cleanup.policy': 'compact',
      'segment.bytes': String(this.settings['offsets.topic.segment.bytes']),
    };
    try {
      const n = this.settings['offsets.topic.num.partitions'];
      const topic = await this.topics.create(OFFSETS_TOPIC, n, configs);
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

  /** Appends `records` as one batch to the group's partition; resolves once appended. */
  append(groupId: string, records: readonly OffsetsRecordInput[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    return this.appendTo(this.partitionFor(groupId), records);
  }

  appendTo(index: number, records: readonly OffsetsRecordInput[]): Promise<void> {
    const previous = this.queues.get(index) ?? Promise.resolve();
    const run = previous.then(async () => {
      const partition = await this.partition(index);
      const swapping = partition.ready();
      if (swapping !== undefined) await swapping;
      const timestamp = this.now();
      partition.append(
        encodeBatch(
          records.map((r) => ({ key: r.key, value: r.value })),
          { timestamp },
        ),
      );
    });
    const tail = run.catch(() => undefined);
    this.queues.set(index, tail);
    void tail.then(() => {
      if (this.queues.get(index) === tail) this.queues.delete(index);
    });
    return run;
  }

  private async partition(index: number): Promise<Partition> {
    const topic = await this.ensure();
    const partition = topic.partitions[index];
    if (partition === undefined)
      throw new ProtocolError(
        'COORDINATOR_NOT_AVAILABLE',
        `${OFFSETS_TOPIC} has no partition ${index}`,
      );
    return partition;
  }

  /** Waits for every queued append. */
  async drain(): Promise<void> {
    await Promise.all(this.queues.values());
  }
}
