/**
 * The partition assignors a consumer group's leader runs: Kafka's
 * RangeAssignor and RoundRobinAssignor, with Kafka's names, so a group's
 * assignment is the one Kafka's Java client would compute for the same
 * members and topics.
 *
 * Both are pure functions of their input: every member appears in the result
 * (with an empty map when it gets nothing); a topic missing from
 * `partitionsPerTopic` (unknown to the leader's metadata) is skipped; member
 * ids and topics are ordered as Java orders strings (UTF-16 code units).
 */

export interface GroupMemberSubscription {
  memberId: string;
  topics: string[];
}

/** memberId → topic → partitions, ascending. */
export type GroupAssignment = Map<string, Map<string, number[]>>;

export interface PartitionAssignor {
  /** The name members vote with in JoinGroup (`partition.assignment.strategy`). */
  readonly name: string;
  assign(
    members: readonly GroupMemberSubscription[],
    partitionsPerTopic: ReadonlyMap<string, number>,
  ): GroupAssignment;
}

/** Java's `String.compareTo`: by UTF-16 code unit, not by locale. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function emptyAssignment(members: readonly GroupMemberSubscription[]): GroupAssignment {
  const out: GroupAssignment = new Map();
  for (const member of members) out.set(member.memberId, new Map());
  return out;
}

function give(out: GroupAssignment, memberId: string, topic: string, partition: number): void {
  const topics = out.get(memberId)!;
  let list = topics.get(topic);
  if (list === undefined) topics.set(topic, (list = []));
  list.push(partition);
}

// #region range
/**
 * Per topic: the members subscribed to it, sorted by member id, each take a
 * contiguous range of n/m partitions, the first n%m of them one more.
 * Members subscribed to the same topics get co-partitioned ranges (the same
 * partition numbers of every topic), which is why it is Kafka's default.
 */
export const rangeAssignor: PartitionAssignor = {
  name: 'range',
  assign(members, partitionsPerTopic) {
    const out = emptyAssignment(members);
    const subscribers = new Map<string, string[]>();
    for (const member of members) {
      for (const topic of new Set(member.topics)) {
        let list = subscribers.get(topic);
        if (list === undefined) subscribers.set(topic, (list = []));
        list.push(member.memberId);
      }
    }
    for (const [topic, memberIds] of subscribers) {
      const count = partitionsPerTopic.get(topic);
      if (count === undefined) continue;
      memberIds.sort(compareStrings);
      const perMember = Math.floor(count / memberIds.length);
      const withExtra = count % memberIds.length;
      memberIds.forEach((memberId, i) => {
        const start = perMember * i + Math.min(i, withExtra);
        const length = perMember + (i < withExtra ? 1 : 0);
        for (let p = start; p < start + length; p++) give(out, memberId, topic, p);
      });
    }
    return out;
  },
};
// #endregion range

// #region roundrobin
/**
 * Every partition of every subscribed topic, sorted by topic then partition,
 * dealt out to the members sorted by id, circularly; a member not subscribed
 * to a partition's topic is passed over for it (and keeps its turn for the
 * next). Balanced to within one partition when all subscribe to the same topics.
 */
export const roundRobinAssignor: PartitionAssignor = {
  name: 'roundrobin',
  assign(members, partitionsPerTopic) {
    const out = emptyAssignment(members);
    const sorted = [...members].sort((a, b) => compareStrings(a.memberId, b.memberId));
    const subscribed = new Map(sorted.map((m) => [m.memberId, new Set(m.topics)]));
    const topics = [...new Set(members.flatMap((m) => m.topics))].sort(compareStrings);
    let next = 0; // the circular iterator's position in `sorted`
    for (const topic of topics) {
      const count = partitionsPerTopic.get(topic);
      if (count === undefined) continue;
      for (let partition = 0; partition < count; partition++) {
        while (!subscribed.get(sorted[next]!.memberId)!.has(topic))
          next = (next + 1) % sorted.length;
        give(out, sorted[next]!.memberId, topic, partition);
        next = (next + 1) % sorted.length;
      }
    }
    return out;
  },
};
// #endregion roundrobin

/** The assignors by the name a group votes for. */
export const ASSIGNORS: Readonly<Record<'range' | 'roundrobin', PartitionAssignor>> = {
  range: rangeAssignor,
  roundrobin: roundRobinAssignor,
};

export type AssignorName = keyof typeof ASSIGNORS;

export function isAssignorName(name: string): name is AssignorName {
  return Object.hasOwn(ASSIGNORS, name);
}
