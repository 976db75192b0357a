/**
 * A property of the coordinator, with simulated members that follow the
 * protocol as a consumer does (rejoin on REBALANCE_IN_PROGRESS, reset the id
 * on UNKNOWN_MEMBER_ID; the leader assigns with the client's assignors).
 * Random sequences of joins, leaves, crashes (a member goes silent and must
 * expire), rejoins, heartbeats and clock advances; then everyone left keeps
 * heartbeating until the group settles. Then: the group is Stable with
 * exactly the live members; every partition of the subscribed topics is
 * owned by exactly one of them; the assignment is the chosen assignor's for
 * those members; and the generation went up by exactly one per completed
 * join phase.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Broker, ManualScheduler } from '../src/broker/index.js';
import { ASSIGNORS, type AssignorName } from '../src/client/group/assignors.js';
import {
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
  toTopicPartitions,
} from '../src/client/group/consumer-protocol.js';
import type { ResponseBody } from '../src/protocol/index.js';
import { ErrorCode } from '../src/protocol/index.js';
import { recordingLogger } from './broker-support.js';
import { settle } from './broker-group-support.js';
import { tempDir } from './support/temp.js';

const SESSION_MS = 10_000;
const REBALANCE_MS = 20_000;
const TOPICS = new Map([
  ['orders', 3],
  ['payments', 2],
]);
const RUNS = Number(process.env.GROUP_PROP_RUNS ?? 200);

let broker: Broker;
let scheduler: ManualScheduler;
let lines: string[];

beforeAll(async () => {
  scheduler = new ManualScheduler();
  const logger = recordingLogger();
  lines = logger.lines;
  broker = await Broker.open({
    dataDir: tempDir('samsa-group-prop-'),
    logger,
    scheduler,
    config: {
      'group.initial.rebalance.delay.ms': 0,
      'group.min.session.timeout.ms': 10,
      'offsets.topic.num.partitions': 1,
      // An empty group with no offsets is removed by the expiry pass: keep it out of these runs.
      'offsets.retention.check.interval.ms': 365 * 24 * 60 * 60 * 1000,
    },
  });
  for (const [name, numPartitions] of TOPICS)
    await broker.call('CreateTopics', {
      topics: [{ name, numPartitions, replicationFactor: -1, assignments: [], configs: [] }],
      timeoutMs: 1000,
      validateOnly: false,
    });
});
afterAll(() => broker.close());

/** A consumer following the classic protocol, driven by responses as they arrive. */
class SimMember {
  memberId = '';
  generation = -1;
  assignment: Map<string, number[]> | undefined;
  alive = true; // false once it left or crashed
  private request = 0; // only the answer to the latest JoinGroup/SyncGroup counts
  private busy = false;

  constructor(
    readonly groupId: string,
    readonly clientId: string,
    readonly topics: string[],
    readonly protocols: AssignorName[],
    readonly joins: Map<number, { leader: string; protocol: string | null }>,
    readonly problems: string[],
  ) {}

  private protocolsBody() {
    const metadata = encodeSubscription({ topics: this.topics });
    return this.protocols.map((name) => ({ name, metadata }));
  }

  join(): void {
    if (!this.alive) return;
    const id = ++this.request;
    this.busy = true;
    this.assignment = undefined;
    void broker
      .call('JoinGroup', {
        groupId: this.groupId,
        memberId: this.memberId,
        sessionTimeoutMs: SESSION_MS,
        rebalanceTimeoutMs: REBALANCE_MS,
        protocolType: 'consumer',
        protocols: this.protocolsBody(),
      })
      .then((r) => id === this.request && this.alive && this.onJoin(r));
  }

  private onJoin(r: ResponseBody<'JoinGroup'>): void {
    if (r.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
      this.memberId = r.memberId;
      return this.join();
    }
    if (r.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) {
      this.memberId = '';
      return this.join();
    }
    if (r.errorCode !== 0) return this.join();
    this.generation = r.generationId;
    const seen = this.joins.get(r.generationId);
    if (seen === undefined)
      this.joins.set(r.generationId, { leader: r.leader, protocol: r.protocolName });
    else if (seen.leader !== r.leader || seen.protocol !== r.protocolName)
      this.problems.push(`generation ${r.generationId} answered with two leaders or protocols`);
    let assignments: { memberId: string; assignment: Buffer }[] = [];
    if (r.leader === this.memberId) {
      const members = r.members.map((m) => ({
        memberId: m.memberId,
        topics: decodeSubscription(m.metadata).topics,
      }));
      const result = ASSIGNORS[r.protocolName as AssignorName].assign(members, TOPICS);
      assignments = [...result].map(([memberId, byTopic]) => ({
        memberId,
        assignment: encodeAssignment({ partitions: toTopicPartitions(byTopic) }),
      }));
    }
    const id = ++this.request;
    void broker
      .call('SyncGroup', {
        groupId: this.groupId,
        generationId: r.generationId,
        memberId: this.memberId,
        protocolType: 'consumer',
        protocolName: r.protocolName,
        assignments,
      })
      .then((s) => id === this.request && this.alive && this.onSync(s));
  }

  private onSync(s: ResponseBody<'SyncGroup'>): void {
    if (s.errorCode === 0) {
      this.busy = false;
      this.assignment = new Map(
        decodeAssignment(s.assignment).partitions.map((tp) => [tp.topic, tp.partitions]),
      );
      return;
    }
    if (s.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) this.memberId = '';
    this.join();
  }

  heartbeat(): void {
    if (!this.alive || this.busy || this.memberId === '') return;
    const id = this.request;
    void broker
      .call('Heartbeat', {
        groupId: this.groupId,
        generationId: this.generation,
        memberId: this.memberId,
      })
      .then((h) => {
        if (h.errorCode === 0 || id !== this.request || this.busy || !this.alive) return;
        if (h.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) this.memberId = '';
        this.join();
      });
  }

  leave(): void {
    if (!this.alive) return;
    this.alive = false;
    if (this.memberId !== '')
      void broker.call('LeaveGroup', {
        groupId: this.groupId,
        members: [{ memberId: this.memberId }],
      });
  }

  crash(): void {
    this.alive = false;
  }
}

type Action =
  | { kind: 'add'; topics: string[]; protocols: AssignorName[] }
  | { kind: 'leave' | 'crash' | 'rejoin' | 'heartbeat'; who: number }
  | { kind: 'advance'; ms: number };

const topicsArb = fc.subarray([...TOPICS.keys()], { minLength: 1 });
const protocolsArb = fc.constantFrom<AssignorName[]>(
  ['range', 'roundrobin'],
  ['roundrobin', 'range'],
);
const actionArb: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('add' as const),
      topics: topicsArb,
      protocols: protocolsArb,
    }),
  },
  fc.record({
    kind: fc.constantFrom(
      'leave' as const,
      'crash' as const,
      'rejoin' as const,
      'heartbeat' as const,
    ),
    who: fc.nat(9),
  }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 25_000 }) }),
);

const ADD: Action = {
  kind: 'add',
  topics: ['orders', 'payments'],
  protocols: ['range', 'roundrobin'],
};

async function drain(): Promise<void> {
  for (let i = 0; i < 4; i++) await settle();
}

let run = 0;

describe('the coordinator under random membership changes', () => {
  it(`settles Stable with the assignor's assignment of the live members (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(actionArb, { minLength: 1, maxLength: 30 }), async (actions) => {
        const groupId = `g${run++}`;
        const joins = new Map<number, { leader: string; protocol: string | null }>();
        const problems: string[] = [];
        const members: SimMember[] = [];
        const add = (topics: string[], protocols: AssignorName[]) => {
          const m = new SimMember(
            groupId,
            `c${members.length}`,
            topics,
            protocols,
            joins,
            problems,
          );
          members.push(m);
          m.join();
        };
        for (const a of actions) {
          if (a.kind === 'add') add(a.topics, a.protocols);
          else if (a.kind === 'advance') scheduler.advance(a.ms);
          else if (members.length > 0) {
            const m = members[a.who % members.length]!;
            if (a.kind === 'leave') m.leave();
            else if (a.kind === 'crash') m.crash();
            else if (a.kind === 'rejoin')
              m.join(); // a live member only
            else m.heartbeat();
          }
          await drain();
        }
        if (!members.some((m) => m.alive)) add(['orders'], ['range', 'roundrobin']);
        await drain();

        // Everyone alive heartbeats every second until the group is settled (crashed members expire).
        const live = () => members.filter((m) => m.alive);
        const settled = () => {
          const g = broker.groups.inspect(groupId);
          return (
            g?.state === 'Stable' &&
            live().every((m) => m.assignment !== undefined && m.generation === g.generationId) &&
            g.members.length === live().length
          );
        };
        for (let round = 0; round < 300 && !settled(); round++) {
          scheduler.advance(1_000);
          for (const m of live()) m.heartbeat();
          await drain();
        }

        const group = broker.groups.inspect(groupId)!;
        expect(problems).toEqual([]);
        expect(group.state).toBe('Stable');
        expect(new Set(group.members)).toEqual(new Set(live().map((m) => m.memberId)));
        const protocol = group.protocolName as AssignorName;
        const expected = ASSIGNORS[protocol].assign(
          live().map((m) => ({ memberId: m.memberId, topics: m.topics })),
          TOPICS,
        );
        const owners = new Map<string, string[]>();
        for (const m of live()) {
          const mine = m.assignment!;
          const want = expected.get(m.memberId)!;
          expect(new Map([...mine].filter(([, ps]) => ps.length > 0))).toEqual(
            new Map([...want].filter(([, ps]) => ps.length > 0)),
          );
          for (const [topic, ps] of mine)
            for (const p of ps)
              owners.set(`${topic}-${p}`, [...(owners.get(`${topic}-${p}`) ?? []), m.memberId]);
        }
        const subscribed = new Set(live().flatMap((m) => m.topics));
        for (const topic of subscribed)
          for (let p = 0; p < TOPICS.get(topic)!; p++)
            expect(owners.get(`${topic}-${p}`)).toHaveLength(1);
        for (const key of owners.keys())
          expect(subscribed.has(key.slice(0, key.lastIndexOf('-')))).toBe(true);

        // One generation per completed join phase, numbered 1, 2, 3, ... with no gaps.
        const completed = lines
          .map((l) =>
            new RegExp(`group ${groupId}: generation (\\d+) (joined by|is empty)`).exec(l),
          )
          .filter((x) => x !== null)
          .map((x) => Number(x[1]));
        expect(completed).toEqual(completed.map((_, i) => i + 1));
        expect(group.generationId).toBe(completed.length);
      }),
      {
        numRuns: RUNS,
        examples: [
          // A member that goes silent in a stable group must expire for the group to settle.
          [[ADD, ADD, { kind: 'heartbeat', who: 0 }, { kind: 'crash', who: 1 }]],
          // The leader leaves mid-rebalance; a newcomer joins while the others are syncing.
          [
            [
              ADD,
              ADD,
              ADD,
              { kind: 'heartbeat', who: 0 },
              { kind: 'leave', who: 0 },
              ADD,
              { kind: 'advance', ms: 5_000 },
            ],
          ],
        ],
      },
    );
  }, 120_000);
});
