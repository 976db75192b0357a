/**
 * The range and roundrobin assignors: Kafka's own test cases (RangeAssignorTest,
 * RoundRobinAssignorTest) as examples, and properties over random groups:
 * every partition of a subscribed topic goes to exactly one member that
 * subscribes to it, every member is in the result, and the balance bounds.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ASSIGNORS,
  type GroupAssignment,
  type GroupMemberSubscription,
  type PartitionAssignor,
  rangeAssignor,
  roundRobinAssignor,
} from '../src/client/group/assignors.js';

/** The assignment as plain data: { member: { topic: [partitions] } }, topics with nothing left out. */
function plain(assignment: GroupAssignment): Record<string, Record<string, number[]>> {
  const out: Record<string, Record<string, number[]>> = {};
  for (const [member, topics] of assignment) {
    out[member] = {};
    for (const [topic, partitions] of topics)
      if (partitions.length > 0) out[member][topic] = partitions;
  }
  return out;
}

const m = (memberId: string, ...topics: string[]): GroupMemberSubscription => ({
  memberId,
  topics,
});
const counts = (entries: Record<string, number>) => new Map(Object.entries(entries));

describe.each([rangeAssignor, roundRobinAssignor])('$name: the cases both share', (assignor) => {
  it('one consumer, no topic', () => {
    expect(plain(assignor.assign([m('c')], counts({})))).toEqual({ c: {} });
  });
  it('one consumer, a topic that does not exist', () => {
    expect(plain(assignor.assign([m('c', 'topic')], counts({})))).toEqual({ c: {} });
  });
  it('one consumer, one topic', () => {
    expect(plain(assignor.assign([m('c', 'topic')], counts({ topic: 3 })))).toEqual({
      c: { topic: [0, 1, 2] },
    });
  });
  it('only assigns partitions from subscribed topics', () => {
    const result = assignor.assign([m('c', 'topic')], counts({ topic: 3, other: 3 }));
    expect(plain(result)).toEqual({ c: { topic: [0, 1, 2] } });
  });
  it('one consumer, several topics', () => {
    const result = assignor.assign([m('c', 'topic1', 'topic2')], counts({ topic1: 1, topic2: 2 }));
    expect(plain(result)).toEqual({ c: { topic1: [0], topic2: [0, 1] } });
  });
  it('two consumers, one topic of one partition', () => {
    const result = assignor.assign([m('consumer1', 't'), m('consumer2', 't')], counts({ t: 1 }));
    expect(plain(result)).toEqual({ consumer1: { t: [0] }, consumer2: {} });
  });
  it('two consumers, one topic of two partitions', () => {
    const result = assignor.assign([m('consumer2', 't'), m('consumer1', 't')], counts({ t: 2 }));
    expect(plain(result)).toEqual({ consumer1: { t: [0] }, consumer2: { t: [1] } });
  });
  it('several consumers, mixed topics', () => {
    const members = [
      m('consumer1', 'topic1'),
      m('consumer2', 'topic1', 'topic2'),
      m('consumer3', 'topic1'),
    ];
    expect(plain(assignor.assign(members, counts({ topic1: 3, topic2: 2 })))).toEqual({
      consumer1: { topic1: [0] },
      consumer2: { topic1: [1], topic2: [0, 1] },
      consumer3: { topic1: [2] },
    });
  });
});

describe('range', () => {
  it('two consumers, two topics of three partitions: co-partitioned ranges', () => {
    const members = [m('consumer1', 'topic1', 'topic2'), m('consumer2', 'topic1', 'topic2')];
    expect(plain(rangeAssignor.assign(members, counts({ topic1: 3, topic2: 3 })))).toEqual({
      consumer1: { topic1: [0, 1], topic2: [0, 1] },
      consumer2: { topic1: [2], topic2: [2] },
    });
  });
  it('n/m each, the first n%m one more, contiguous', () => {
    const members = ['d', 'b', 'a', 'c'].map((id) => m(id, 't'));
    expect(plain(rangeAssignor.assign(members, counts({ t: 10 })))).toEqual({
      a: { t: [0, 1, 2] },
      b: { t: [3, 4, 5] },
      c: { t: [6, 7] },
      d: { t: [8, 9] },
    });
  });
});

describe('roundrobin', () => {
  it('two consumers, two topics of three partitions: dealt in turn', () => {
    const members = [m('consumer1', 'topic1', 'topic2'), m('consumer2', 'topic1', 'topic2')];
    expect(plain(roundRobinAssignor.assign(members, counts({ topic1: 3, topic2: 3 })))).toEqual({
      consumer1: { topic1: [0, 2], topic2: [1] },
      consumer2: { topic1: [1], topic2: [0, 2] },
    });
  });
  it('orders member ids as Java does (by code unit, not locale)', () => {
    const members = [m('a', 't'), m('B', 't')]; // 'B' < 'a' in UTF-16
    expect(plain(roundRobinAssignor.assign(members, counts({ t: 2 })))).toEqual({
      B: { t: [0] },
      a: { t: [1] },
    });
  });
});

it('ASSIGNORS names both', () => {
  expect(ASSIGNORS.range).toBe(rangeAssignor);
  expect(ASSIGNORS.roundrobin).toBe(roundRobinAssignor);
  expect(Object.keys(ASSIGNORS).sort()).toEqual(['range', 'roundrobin']);
});

// #region properties
const TOPICS = ['a', 'b', 'c', 'd'];
const group = fc
  .record({
    partitions: fc.tuple(
      ...TOPICS.map(() => fc.option(fc.integer({ min: 0, max: 12 }), { nil: undefined })),
    ),
    members: fc.uniqueArray(
      fc.record({
        memberId: fc.string({ minLength: 1, maxLength: 6 }),
        topics: fc.subarray(TOPICS),
      }),
      { minLength: 1, maxLength: 7, selector: (x) => x.memberId },
    ),
  })
  .map(({ partitions, members }) => {
    const perTopic = new Map<string, number>();
    TOPICS.forEach((t, i) => {
      if (partitions[i] !== undefined) perTopic.set(t, partitions[i]);
    });
    return { members, perTopic };
  });

function owners(result: GroupAssignment): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [member, topics] of result)
    for (const [topic, partitions] of topics)
      for (const p of partitions)
        out.set(`${topic}-${p}`, [...(out.get(`${topic}-${p}`) ?? []), member]);
  return out;
}

function checkExactlyOnce(assignor: PartitionAssignor): void {
  fc.assert(
    fc.property(group, ({ members, perTopic }) => {
      const result = assignor.assign(members, perTopic);
      expect([...result.keys()].sort()).toEqual(members.map((x) => x.memberId).sort());
      const byOwner = owners(result);
      const subscribedTopics = new Set(members.flatMap((x) => x.topics));
      let expected = 0;
      for (const [topic, count] of perTopic) if (subscribedTopics.has(topic)) expected += count;
      expect(byOwner.size).toBe(expected);
      for (const [key, list] of byOwner) {
        expect(list).toHaveLength(1);
        const topic = key.slice(0, key.lastIndexOf('-'));
        const partition = Number(key.slice(key.lastIndexOf('-') + 1));
        expect(partition).toBeLessThan(perTopic.get(topic)!);
        expect(members.find((x) => x.memberId === list[0])!.topics).toContain(topic);
      }
    }),
  );
}

describe('properties', () => {
  it('range: every partition once, to a member subscribed to its topic', () =>
    checkExactlyOnce(rangeAssignor));
  it('roundrobin: every partition once, to a member subscribed to its topic', () =>
    checkExactlyOnce(roundRobinAssignor));

  it('range: per topic, the subscribers get floor(n/m) or ceil(n/m), contiguous, more to the smaller ids', () => {
    fc.assert(
      fc.property(group, ({ members, perTopic }) => {
        const result = rangeAssignor.assign(members, perTopic);
        for (const [topic, n] of perTopic) {
          const ids = members
            .filter((x) => x.topics.includes(topic))
            .map((x) => x.memberId)
            .sort();
          let next = 0;
          for (const [i, id] of ids.entries()) {
            const got = result.get(id)!.get(topic) ?? [];
            const size = Math.floor(n / ids.length) + (i < n % ids.length ? 1 : 0);
            expect(got).toEqual(Array.from({ length: size }, (_, k) => next + k));
            next += size;
          }
        }
      }),
    );
  });

  it('roundrobin: when every member subscribes to the same topics, counts differ by at most one', () => {
    fc.assert(
      fc.property(group, fc.subarray(TOPICS), ({ members, perTopic }, topics) => {
        const same = members.map((x) => ({ memberId: x.memberId, topics }));
        const result = roundRobinAssignor.assign(same, perTopic);
        const sizes = [...result.values()].map((t) =>
          [...t.values()].reduce((s, p) => s + p.length, 0),
        );
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('both are deterministic: the order of the members does not matter', () => {
    fc.assert(
      fc.property(group, ({ members, perTopic }) => {
        for (const assignor of [rangeAssignor, roundRobinAssignor]) {
          const forward = plain(assignor.assign(members, perTopic));
          const backward = plain(assignor.assign([...members].reverse(), perTopic));
          expect(backward).toEqual(forward);
        }
      }),
    );
  });
});
// #endregion properties
