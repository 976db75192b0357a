/**
 * What `samsa topics describe` prints: Kafka's kafka-topics --describe
 * layout (a topic line, then one tab-separated line per partition), and
 * after Kafka's columns where each replica stands:
 *
 *   Topic: t  PartitionCount: 1  ReplicationFactor: 3  Configs: retention.ms=60000
 *     Topic: t  Partition: 0  Leader: 1  Replicas: 1,2,3  Isr: 1,2  Offline: 3  Epoch: 3  HW: 120  LEO: 1=120 2=120 3=offline
 *
 * `Offline` is there only when some replica's broker is not live; a
 * replica's LEO is `offline` then, and `unknown` when its broker could not
 * be asked; `HW: unknown` likewise for the leader, `Leader: none` when there
 * is none (Kafka's word). With one broker this reads `Replicas: 0 Isr: 0
 * ... HW: 5 LEO: 0=5`. The JSON form is the admin client's description
 * (Admin.describeReplicas) with the topic's configs.
 */
import type { ConfigEntry, PartitionReplicas, TopicReplicas } from '../../src/client/index.js';

/** The lines of the plain form; the configs shown are those set on the topic (not defaults). */
export function describeTopicLines(
  topic: TopicReplicas,
  configs: readonly ConfigEntry[],
): string[] {
  const set = configs.filter((c) => !c.isDefault);
  const shown = set.map((c) => `${c.name}=${c.value ?? ''}`).join(',');
  const factor = topic.partitions[0]?.replicas.length ?? 0;
  return [
    `Topic: ${topic.name}\tPartitionCount: ${topic.partitions.length}` +
      `\tReplicationFactor: ${factor}\tConfigs: ${shown}`,
    ...topic.partitions.map((p) => `\t${partitionLine(topic.name, p)}`),
  ];
}

export function partitionLine(name: string, p: PartitionReplicas): string {
  const fields = [
    `Topic: ${name}`,
    `Partition: ${p.partition}`,
    `Leader: ${p.leader < 0 ? 'none' : p.leader}`,
    `Replicas: ${p.replicas.join(',')}`,
    `Isr: ${p.isr.join(',')}`,
  ];
  if (p.offlineReplicas.length > 0) fields.push(`Offline: ${p.offlineReplicas.join(',')}`);
  fields.push(`Epoch: ${p.leaderEpoch}`, `HW: ${p.highWatermark ?? 'unknown'}`);
  const ends = p.logEndOffsets.map(({ broker, logEndOffset }) => {
    const end =
      logEndOffset !== null
        ? String(logEndOffset)
        : p.offlineReplicas.includes(broker)
          ? 'offline'
          : 'unknown';
    return `${broker}=${end}`;
  });
  fields.push(`LEO: ${ends.join(' ')}`);
  return fields.join('\t');
}

/** The JSON form: the description, and every config (defaults too) by name. */
export function describeTopicJson(
  topic: TopicReplicas,
  configs: readonly ConfigEntry[],
): TopicReplicas & { configs: Record<string, string | null> } {
  return { ...topic, configs: Object.fromEntries(configs.map((c) => [c.name, c.value])) };
}
