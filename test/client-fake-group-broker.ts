/**
 * A fake broker with a tiny group coordinator, for the consumer's group unit
 * tests: topics of in-memory records (value `<topic>-<partition>-<offset>`),
 * Fetch, ListOffsets, Metadata, FindCoordinator, and the group APIs with
 * Kafka's rules in their simplest form (a rebalance completes when every
 * known member has rejoined, or after the rebalance timeout; the first to
 * join leads). `intercept` answers a request first when it returns an
 * answer, to inject errors. Not the real coordinator (src/broker/group/).
 */
import { encodeBatch } from '../src/log/index.js';
import type { Request } from '../src/protocol/index.js';
import {
  type FakeAnswer,
  type FakeBroker,
  metadataBody,
  startFakeBroker,
} from './client-fake-broker.js';

interface Member {
  memberId: string;
  protocols: { name: string; metadata: Buffer }[];
  rebalanceTimeoutMs: number;
  join?: (answer: FakeAnswer) => void;
  sync?: (answer: FakeAnswer) => void;
  assignment: Buffer;
}

export interface FakeGroupBroker {
  broker: FakeBroker;
  address: string;
  /** Records per partition, by topic: `logs.get('t')![p]` is the log end offset. */
  logs: Map<string, number[]>;
  members: Map<string, Member>;
  state: 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable';
  generation: number;
  leader: string;
  protocol: string | null;
  /** Committed offsets: `topic-partition` → offset. */
  committed: Map<string, number>;
  /** Answers a request before the coordinator does, when it returns an answer. */
  intercept: (request: Request) => FakeAnswer | undefined;
  /** Starts a rebalance as a broker would when a member joins or leaves. */
  rebalance(): void;
  requests(api: string): Request[];
  close(): Promise<void>;
}

const ok = (body: unknown): FakeAnswer => ({ body });

export async function startFakeGroupBroker(
  topics: Record<string, number[]>,
): Promise<FakeGroupBroker> {
  let nextMember = 0;
  let rebalanceTimer: NodeJS.Timeout | undefined;
  const fake: FakeGroupBroker = {
    broker: undefined as never,
    address: '',
    logs: new Map(Object.entries(topics)),
    members: new Map(),
    state: 'Empty',
    generation: 0,
    leader: '',
    protocol: null,
    committed: new Map(),
    intercept: () => undefined,
    rebalance: () => prepare(),
    requests: (api) => fake.broker.requests.filter((r) => r.api === api),
    close: async () => {
      clearTimeout(rebalanceTimer);
      await fake.broker.close();
    },
  };

  function prepare(): void {
    if (fake.state === 'PreparingRebalance') return;
    fake.state = fake.members.size === 0 ? 'Empty' : 'PreparingRebalance';
    for (const m of fake.members.values())
      m.sync?.(
        ok({ errorCode: 27, protocolType: null, protocolName: null, assignment: Buffer.alloc(0) }),
      );
    const timeout = Math.max(0, ...[...fake.members.values()].map((m) => m.rebalanceTimeoutMs));
    clearTimeout(rebalanceTimer);
    rebalanceTimer = setTimeout(() => {
      for (const [id, m] of fake.members) if (m.join === undefined) fake.members.delete(id);
      completeJoin();
    }, timeout);
  }

  function completeJoin(): void {
    const members = [...fake.members.values()];
    if (fake.state !== 'PreparingRebalance' || members.some((m) => m.join === undefined)) return;
    clearTimeout(rebalanceTimer);
    if (members.length === 0) return void (fake.state = 'Empty');
    fake.generation += 1;
    fake.state = 'CompletingRebalance';
    if (!fake.members.has(fake.leader)) fake.leader = members[0]!.memberId;
    const names = members[0]!.protocols.map((p) => p.name);
    fake.protocol =
      names.find((n) => members.every((m) => m.protocols.some((p) => p.name === n))) ?? null;
    for (const m of members) {
      const join = m.join!;
      m.join = undefined;
      join(
        ok({
          errorCode: 0,
          generationId: fake.generation,
          protocolType: 'consumer',
          protocolName: fake.protocol,
          leader: fake.leader,
          memberId: m.memberId,
          members:
            m.memberId === fake.leader
              ? members.map((x) => ({
                  memberId: x.memberId,
                  metadata: x.protocols.find((p) => p.name === fake.protocol)!.metadata,
                }))
              : [],
        }),
      );
    }
  }

  /** The error code for a member's request in a generation, or 0. */
  function fenced(memberId: string, generationId: number): number {
    if (!fake.members.has(memberId)) return 25;
    if (generationId !== fake.generation) return 22;
    return 0;
  }

  function coordinate(request: Request): FakeAnswer | Promise<FakeAnswer> {
    switch (request.api) {
      case 'FindCoordinator':
        return ok({
          errorCode: 0,
          errorMessage: null,
          nodeId: 0,
          host: fake.broker.host,
          port: fake.broker.port,
        });
      case 'JoinGroup': {
        const b = request.body;
        if (b.memberId === '') {
          const memberId = `${request.clientId ?? 'member'}-${++nextMember}`;
          fake.members.set(memberId, {
            memberId,
            protocols: b.protocols,
            rebalanceTimeoutMs: b.rebalanceTimeoutMs,
            assignment: Buffer.alloc(0),
          });
          return ok({
            errorCode: 79,
            generationId: -1,
            protocolType: null,
            protocolName: null,
            leader: '',
            memberId,
            members: [],
          });
        }
        const member = fake.members.get(b.memberId);
        if (member === undefined)
          return ok({
            errorCode: 25,
            generationId: -1,
            protocolType: null,
            protocolName: null,
            leader: '',
            memberId: b.memberId,
            members: [],
          });
        member.protocols = b.protocols;
        member.rebalanceTimeoutMs = b.rebalanceTimeoutMs;
        return new Promise((resolve) => {
          member.join = resolve;
          prepare();
          completeJoin();
        });
      }
      case 'SyncGroup': {
        const b = request.body;
        const code = fenced(b.memberId, b.generationId);
        const empty = { protocolType: null, protocolName: null, assignment: Buffer.alloc(0) };
        if (code !== 0) return ok({ errorCode: code, ...empty });
        if (fake.state === 'PreparingRebalance') return ok({ errorCode: 27, ...empty });
        const member = fake.members.get(b.memberId)!;
        if (fake.state === 'Stable')
          return ok({ errorCode: 0, ...empty, assignment: member.assignment });
        if (b.memberId === fake.leader) {
          for (const a of b.assignments) {
            const m = fake.members.get(a.memberId);
            if (m !== undefined) m.assignment = a.assignment;
          }
          fake.state = 'Stable';
          for (const m of fake.members.values()) {
            const sync = m.sync;
            m.sync = undefined;
            sync?.(
              ok({
                errorCode: 0,
                protocolType: 'consumer',
                protocolName: fake.protocol,
                assignment: m.assignment,
              }),
            );
          }
          return ok({
            errorCode: 0,
            protocolType: 'consumer',
            protocolName: fake.protocol,
            assignment: member.assignment,
          });
        }
        return new Promise((resolve) => (member.sync = resolve));
      }
      case 'Heartbeat': {
        const code = fenced(request.body.memberId, request.body.generationId);
        if (code !== 0) return ok({ errorCode: code });
        return ok({ errorCode: fake.state === 'PreparingRebalance' ? 27 : 0 });
      }
      case 'LeaveGroup': {
        const members = request.body.members.map(({ memberId }) => {
          const known = fake.members.delete(memberId);
          return { memberId, errorCode: known ? 0 : 25 };
        });
        prepare();
        completeJoin();
        return ok({ errorCode: 0, members });
      }
      case 'OffsetCommit': {
        const b = request.body;
        let code =
          b.generationId === -1 && b.memberId === ''
            ? fake.members.size === 0
              ? 0
              : 25
            : fenced(b.memberId, b.generationId);
        if (code === 0 && fake.state === 'CompletingRebalance' && b.generationId !== -1) code = 27;
        if (code === 0)
          for (const t of b.topics)
            for (const p of t.partitions)
              fake.committed.set(`${t.name}-${p.partitionIndex}`, p.committedOffset);
        return ok({
          topics: b.topics.map((t) => ({
            name: t.name,
            partitions: t.partitions.map((p) => ({
              partitionIndex: p.partitionIndex,
              errorCode: code,
            })),
          })),
        });
      }
      case 'OffsetFetch':
        return ok({
          errorCode: 0,
          topics: (request.body.topics ?? []).map((t) => ({
            name: t.name,
            partitions: t.partitionIndexes.map((p) => ({
              partitionIndex: p,
              committedOffset: fake.committed.get(`${t.name}-${p}`) ?? -1,
              committedLeaderEpoch: -1,
              metadata: null,
              errorCode: 0,
            })),
          })),
        });
      default:
        return null;
    }
  }

  async function fetch(request: Extract<Request, { api: 'Fetch' }>): Promise<FakeAnswer> {
    const answer = () =>
      request.body.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => {
          const end = fake.logs.get(t.name)?.[p.partitionIndex] ?? 0;
          const from = p.fetchOffset;
          const count = Math.min(5, end - from);
          const records =
            count > 0
              ? encodeBatch(
                  Array.from({ length: count }, (_, i) => ({
                    value: Buffer.from(`${t.name}-${p.partitionIndex}-${from + i}`),
                  })),
                  { baseOffset: from },
                )
              : Buffer.alloc(0);
          return {
            partitionIndex: p.partitionIndex,
            errorCode: from > end ? 1 : 0,
            highWatermark: end,
            lastStableOffset: end,
            logStartOffset: 0,
            records,
          };
        }),
      }));
    let topics = answer();
    if (topics.every((t) => t.partitions.every((p) => p.records.length === 0))) {
      await new Promise((resolve) => setTimeout(resolve, request.body.maxWaitMs));
      topics = answer();
    }
    return ok({ topics });
  }

  fake.broker = await startFakeBroker((request) => {
    const intercepted = fake.intercept(request);
    if (intercepted !== undefined) return intercepted;
    if (request.api === 'Metadata') {
      const counts = Object.fromEntries([...fake.logs].map(([name, ps]) => [name, ps.length]));
      return ok(metadataBody(fake.broker, counts, request.body.topics));
    }
    if (request.api === 'ListOffsets')
      return ok({
        topics: request.body.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => ({
            partitionIndex: p.partitionIndex,
            errorCode: 0,
            timestamp: -1,
            offset: p.timestamp === -2 ? 0 : (fake.logs.get(t.name)?.[p.partitionIndex] ?? 0),
            leaderEpoch: 0,
          })),
        })),
      });
    if (request.api === 'Fetch') return fetch(request);
    return coordinate(request);
  });
  fake.address = fake.broker.address;
  return fake;
}
