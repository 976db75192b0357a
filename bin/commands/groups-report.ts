/**
 * What `samsa groups describe` and `samsa groups reset-offsets` print:
 * gathering a group's members, committed offsets and log end offsets into
 * rows (Kafka's kafka-consumer-groups.sh columns), and the plain tables.
 */
import type { Admin, GroupDescription } from '../../src/client/admin.js';
import type { TopicPartition } from '../../src/client/index.js';

/** One partition of a group: what it committed, where the log ends, and who reads it now. */
export interface PartitionRow {
  topic: string;
  partition: number;
  /** null: the group never committed this partition. */
  committedOffset: number | null;
  /** null: the topic is gone, or its end could not be read. */
  logEndOffset: number | null;
  /** logEndOffset - committedOffset; null when either is unknown. */
  lag: number | null;
  memberId: string | null;
  clientId: string | null;
  host: string | null;
}

export interface GroupReport {
  group: string;
  state: string;
  generationId: number;
  protocolType: string;
  assignor: string;
  leader: string;
  members: {
    memberId: string;
    clientId: string;
    host: string;
    subscription: string[];
    assignment: TopicPartition[];
  }[];
  partitions: PartitionRow[];
}

const key = (tp: TopicPartition): string => `${tp.topic}-${tp.partition}`;
const byTopicPartition = (a: TopicPartition, b: TopicPartition): number =>
  a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition;

const byClient = (a: { clientId: string; memberId: string }, b: typeof a): number =>
  a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : a.memberId < b.memberId ? -1 : 1;

// #region gather
/** The group's description, its committed offsets and the log end offsets of the partitions involved. */
export async function gatherReport(admin: Admin, group: GroupDescription): Promise<GroupReport> {
  const committed = await admin.listGroupOffsets(group.groupId);
  const owner = new Map<string, GroupDescription['members'][number]>();
  for (const m of group.members) for (const tp of m.assignment) owner.set(key(tp), m);
  const partitions = new Map<string, TopicPartition>();
  for (const c of committed) partitions.set(key(c), { topic: c.topic, partition: c.partition });
  for (const m of group.members) for (const tp of m.assignment) partitions.set(key(tp), tp);
  const offsetOf = new Map(committed.filter((c) => c.offset >= 0).map((c) => [key(c), c.offset]));
  const ends = await logEndOffsets(admin, [...partitions.values()]);
  const rows = [...partitions.values()].sort(byTopicPartition).map((tp): PartitionRow => {
    const committedOffset = offsetOf.get(key(tp)) ?? null;
    const logEndOffset = ends.get(key(tp)) ?? null;
    const m = owner.get(key(tp));
    return {
      ...tp,
      committedOffset,
      logEndOffset,
      lag:
        committedOffset === null || logEndOffset === null
          ? null
          : Math.max(0, logEndOffset - committedOffset),
      memberId: m?.memberId ?? null,
      clientId: m?.clientId ?? null,
      host: m?.host ?? null,
    };
  });
  return {
    group: group.groupId,
    state: group.state,
    generationId: group.generationId,
    protocolType: group.protocolType,
    assignor: group.assignor,
    leader: group.leader,
    members: [...group.members].sort(byClient).map((m) => ({
      memberId: m.memberId,
      clientId: m.clientId,
      host: m.host,
      subscription: m.subscription,
      assignment: m.assignment,
    })),
    partitions: rows,
  };
}

/** The log end offset (high watermark) of each partition, by `topic-partition`; a deleted topic is left out. */
export async function logEndOffsets(
  admin: Admin,
  partitions: readonly TopicPartition[],
  query: Parameters<Admin['listOffsets']>[1] = 'latest',
): Promise<Map<string, number>> {
  const topics = new Map<string, number[]>();
  for (const tp of partitions)
    topics.set(tp.topic, [...(topics.get(tp.topic) ?? []), tp.partition]);
  const out = new Map<string, number>();
  for (const [topic, list] of topics) {
    try {
      for (const o of await admin.listOffsets(topic, query, list)) out.set(key(o), o.offset);
    } catch {
      // the topic was deleted since the group read it: its row shows '-'
    }
  }
  return out;
}
// #endregion gather

// #region format
const dash = (v: string | number | null): string => (v === null ? '-' : String(v));

/** Columns left-aligned, two spaces apart, as kafka-consumer-groups prints them. */
export function columns(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  return [header, ...rows].map((r) =>
    r
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join('  ')
      .trimEnd(),
  );
}

export function describeLines(r: GroupReport): string[] {
  const n = r.members.length;
  const lines = [
    `Group ${r.group}: ${r.state}, generation ${r.generationId}, ` +
      `assignor ${r.assignor === '' ? '-' : r.assignor}, ${n} member${n === 1 ? '' : 's'}` +
      (r.leader === '' ? '' : ` (leader ${r.leader})`),
  ];
  if (n > 0) {
    lines.push('');
    lines.push(
      ...columns(
        ['CONSUMER-ID', 'CLIENT-ID', 'HOST', 'TOPICS', 'PARTITIONS'],
        r.members.map((m) => [
          m.memberId,
          m.clientId,
          m.host,
          m.subscription.join(',') || '-',
          m.assignment.map(key).join(',') || '-',
        ]),
      ),
    );
  }
  lines.push('');
  if (r.partitions.length === 0) {
    lines.push(`Group ${r.group} has no committed offsets and no assigned partitions.`);
    return lines;
  }
  lines.push(
    ...columns(
      [
        'GROUP',
        'TOPIC',
        'PARTITION',
        'CURRENT-OFFSET',
        'LOG-END-OFFSET',
        'LAG',
        'CONSUMER-ID',
        'HOST',
        'CLIENT-ID',
      ],
      r.partitions.map((p) => [
        r.group,
        p.topic,
        String(p.partition),
        dash(p.committedOffset),
        dash(p.logEndOffset),
        dash(p.lag),
        dash(p.memberId),
        dash(p.host),
        dash(p.clientId),
      ]),
    ),
  );
  return lines;
}

export interface PlannedReset extends TopicPartition {
  current: number | null;
  target: number;
}

export function planLines(group: string, plan: readonly PlannedReset[]): string[] {
  return columns(
    ['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'NEW-OFFSET'],
    plan.map((p) => [group, p.topic, String(p.partition), dash(p.current), String(p.target)]),
  );
}
// #endregion format
