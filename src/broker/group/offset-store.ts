/**
 * The committed offsets of every group, in memory: the last value of each
 * offset key of `__consumer_offsets`, rebuilt from it at start. Changed only
 * after the record that says so is in the log, so memory never runs ahead of
 * what a restart would load.
 */
import type { OffsetValue } from './records.js';

export interface TopicPartitionOffset extends OffsetValue {
  topic: string;
  partition: number;
}

export class OffsetStore {
  private readonly byGroup = new Map<string, Map<string, Map<number, OffsetValue>>>();

  get(group: string, topic: string, partition: number): OffsetValue | undefined {
    return this.byGroup.get(group)?.get(topic)?.get(partition);
  }

  set(group: string, topic: string, partition: number, value: OffsetValue): void {
    let topics = this.byGroup.get(group);
    if (topics === undefined) this.byGroup.set(group, (topics = new Map()));
    let partitions = topics.get(topic);
    if (partitions === undefined) topics.set(topic, (partitions = new Map()));
    partitions.set(partition, value);
  }

  delete(group: string, topic: string, partition: number): void {
    const topics = this.byGroup.get(group);
    const partitions = topics?.get(topic);
    if (topics === undefined || partitions === undefined) return;
    partitions.delete(partition);
    if (partitions.size === 0) topics.delete(topic);
    if (topics.size === 0) this.byGroup.delete(group);
  }

  has(group: string): boolean {
    return this.byGroup.has(group);
  }

  /** Every offset the group has committed, by topic then partition. */
  all(group: string): TopicPartitionOffset[] {
    const out: TopicPartitionOffset[] = [];
    for (const [topic, partitions] of this.byGroup.get(group) ?? [])
      for (const [partition, value] of partitions) out.push({ topic, partition, ...value });
    return out.sort((a, b) =>
      a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition,
    );
  }

  groups(): string[] {
    return [...this.byGroup.keys()];
  }

  get size(): number {
    let n = 0;
    for (const topics of this.byGroup.values()) for (const p of topics.values()) n += p.size;
    return n;
  }

  deleteGroup(group: string): void {
    this.byGroup.delete(group);
  }
}
