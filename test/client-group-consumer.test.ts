/**
 * The consumer in a group, against a fake coordinator (client-fake-group-broker):
 * joining (MEMBER_ID_REQUIRED, coordinator retries), the leader's assignment,
 * starting positions (committed, else autoOffsetReset), commits (auto, on
 * close, explicit, refused), rebalances (commit, revoke, assign, in that
 * order), fencing, and max.poll.interval.ms.
 */
import { describe, expect, it } from 'vitest';
import { Consumer, type ConsumerOptions } from '../src/client/consumer.js';
import { decodeAssignment } from '../src/client/group/consumer-protocol.js';
import type { Logger } from '../src/log/index.js';
import type { Request } from '../src/protocol/index.js';
import type { FakeGroupBroker } from './client-fake-group-broker.js';
import {
  fakeGroupBroker,
  fakeGroupConsumer,
  onCleanup,
  take,
  until,
} from './client-group-support.js';

type C = Consumer<Buffer | null, string | null>;

const fake = fakeGroupBroker;

function capture(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const nothing = () => undefined;
  return { warnings, debug: nothing, info: nothing, error: nothing, warn: (m) => warnings.push(m) };
}

function consumer(
  f: FakeGroupBroker,
  options: ConsumerOptions<Buffer | null, string | null> = {},
): C {
  return fakeGroupConsumer(f, { logger: capture(), ...options });
}

const body = (r: Request) => r.body as Record<string, unknown>;

describe('joining', () => {
  it('joins with the member id the coordinator requires and starts at the committed offsets', async () => {
    const f = await fake({ t: [10, 10] });
    f.committed.set('t-0', 7);
    const c = consumer(f);
    c.subscribe(['t']);
    const it = c[Symbol.asyncIterator]();
    const got = await take(it, 6);
    expect(got.filter((v) => v.startsWith('t-0-'))).toEqual(
      ['t-0-7', 't-0-8', 't-0-9'].slice(0, got.filter((v) => v.startsWith('t-0-')).length),
    );
    expect(got.find((v) => v.startsWith('t-1-'))).toBe('t-1-0');
    const joins = f.requests('JoinGroup').map(body);
    expect(joins[0]).toMatchObject({
      memberId: '',
      protocolType: 'consumer',
      sessionTimeoutMs: 1000,
    });
    expect(joins[1]).toMatchObject({ memberId: 'app-1', rebalanceTimeoutMs: 300_000 });
    const sync = body(f.requests('SyncGroup')[0]!) as { assignments: { assignment: Buffer }[] };
    expect(decodeAssignment(sync.assignments[0]!.assignment).partitions).toEqual([
      { topic: 't', partitions: [0, 1] },
    ]);
    expect(c.groupMetadata()).toEqual({ groupId: 'g', generationId: 1, memberId: 'app-1' });
    expect(c.assignment()).toEqual([
      { topic: 't', partition: 0 },
      { topic: 't', partition: 1 },
    ]);
  });

  it('retries FindCoordinator and JoinGroup while the coordinator is not available or moved', async () => {
    const f = await fake({ t: [3] });
    let refusals = 0;
    f.intercept = (r) => {
      if (r.api === 'FindCoordinator' && refusals < 2) {
        refusals += 1;
        return { body: { errorCode: 15, errorMessage: 'loading', nodeId: -1, host: '', port: -1 } };
      }
      if (r.api === 'JoinGroup' && refusals === 2) {
        refusals += 1;
        return {
          body: {
            errorCode: 16,
            generationId: -1,
            protocolType: null,
            protocolName: null,
            leader: '',
            memberId: '',
            members: [],
          },
        };
      }
      return undefined;
    };
    const c = consumer(f);
    c.subscribe(['t']);
    expect(await take(c[Symbol.asyncIterator](), 3)).toEqual(['t-0-0', 't-0-1', 't-0-2']);
    expect(f.requests('FindCoordinator')).toHaveLength(4); // 2 refused, 1 found, 1 after NOT_COORDINATOR
  });

  it('throws a fatal JoinGroup error from the loop, naming the group', async () => {
    const f = await fake({ t: [3] });
    f.intercept = (r) =>
      r.api === 'JoinGroup'
        ? {
            body: {
              errorCode: 23,
              generationId: -1,
              protocolType: null,
              protocolName: null,
              leader: '',
              memberId: '',
              members: [],
            },
          }
        : undefined;
    const c = consumer(f);
    c.subscribe(['t']);
    await expect(take(c[Symbol.asyncIterator](), 1)).rejects.toMatchObject({
      name: 'INCONSISTENT_GROUP_PROTOCOL',
      message: expect.stringContaining("group 'g'"),
    });
  });

  it("fails clearly with autoOffsetReset 'none' and no committed offset", async () => {
    const f = await fake({ t: [3] });
    const c = consumer(f, { autoOffsetReset: 'none' });
    c.subscribe(['t']);
    await expect(take(c[Symbol.asyncIterator](), 1)).rejects.toMatchObject({
      code: 'CLIENT_NO_OFFSET',
      message: expect.stringContaining("t-0 has no committed offset in group 'g'"),
    });
  });

  it('refuses assign with subscribe, subscribe without a groupId, and bad options', async () => {
    const f = await fake({ t: [3] });
    const c = consumer(f);
    c.subscribe(['t']);
    expect(() => c.assign([{ topic: 't', partition: 0 }])).toThrow(/mutually exclusive/);
    const plain = new Consumer({ brokers: f.address });
    onCleanup(() => plain.close());
    expect(() => plain.subscribe(['t'])).toThrow(/needs a groupId/);
    plain.assign([{ topic: 't', partition: 0 }]);
    await expect(plain.commit()).rejects.toThrow(/needs a groupId/);
    expect(
      () => new Consumer({ groupId: 'g', heartbeatIntervalMs: 50, sessionTimeoutMs: 50 }),
    ).toThrow(/below sessionTimeoutMs/);
    expect(
      () => new Consumer({ groupId: 'g', partitionAssignmentStrategy: ['sticky' as never] }),
    ).toThrow(/unknown assignor 'sticky'/);
  });

  it('refuses an assignment that does not decode', async () => {
    const f = await fake({ t: [3] });
    f.intercept = (r) =>
      r.api === 'SyncGroup'
        ? {
            body: {
              errorCode: 0,
              protocolType: 'consumer',
              protocolName: 'range',
              assignment: Buffer.from([0xc1]),
            },
          }
        : undefined;
    const c = consumer(f);
    c.subscribe(['t']);
    await expect(take(c[Symbol.asyncIterator](), 1)).rejects.toMatchObject({
      code: 'CLIENT_INVALID_GROUP_METADATA',
    });
  });
});

describe('commits', () => {
  it('auto-commits the offset after the records handed out, never past them, and commits on close', async () => {
    const f = await fake({ t: [50] });
    const c = consumer(f, { autoCommitIntervalMs: 1 });
    c.subscribe(['t']);
    const it = c[Symbol.asyncIterator]();
    let taken = 0;
    while (taken < 40 && (f.committed.get('t-0') ?? 0) < 3) {
      await take(it, 1);
      taken += 1;
      // Committed at the poll before the last record: only records the application is done with.
      expect(f.committed.get('t-0') ?? 0).toBeLessThanOrEqual(taken - 1);
      await new Promise((r) => setImmediate(r));
    }
    expect(f.committed.get('t-0')).toBeGreaterThanOrEqual(3);
    await c.close();
    expect(f.committed.get('t-0')).toBe(taken);
    const commit = body(f.requests('OffsetCommit').at(-1)!);
    expect(commit).toMatchObject({ generationId: 1, memberId: 'app-1' });
    expect(f.requests('LeaveGroup').map(body)).toEqual([
      { groupId: 'g', members: [{ memberId: 'app-1' }] },
    ]);
  });

  it('commits nothing by itself with enableAutoCommit false; commit() and commit(offsets) do', async () => {
    const f = await fake({ t: [20] });
    const c = consumer(f, { enableAutoCommit: false });
    c.subscribe(['t']);
    const it = c[Symbol.asyncIterator]();
    await take(it, 4);
    await c.commit();
    expect(f.committed.get('t-0')).toBe(4);
    await c.commit([{ topic: 't', partition: 0, offset: 2, metadata: 'redo' }]);
    expect(f.committed.get('t-0')).toBe(2);
    expect(await c.committed([{ topic: 't', partition: 0 }])).toEqual([
      { topic: 't', partition: 0, offset: 2, metadata: null },
    ]);
    await c.close();
    expect(f.committed.get('t-0')).toBe(2);
  });

  it('commits with generation -1 for assigned partitions, starting at the committed offset', async () => {
    const f = await fake({ t: [20] });
    f.committed.set('t-0', 5);
    const c = consumer(f);
    c.assign([{ topic: 't', partition: 0 }]);
    const it = c[Symbol.asyncIterator]();
    expect(await take(it, 2)).toEqual(['t-0-5', 't-0-6']);
    await c.commit();
    expect(body(f.requests('OffsetCommit').at(-1)!)).toMatchObject({
      generationId: -1,
      memberId: '',
    });
    expect(f.committed.get('t-0')).toBe(7);
    expect(f.requests('JoinGroup')).toHaveLength(0);
  });
});

describe('rebalances', () => {
  it('on REBALANCE_IN_PROGRESS: commits, revokes, rejoins, assigns, in that order', async () => {
    const f = await fake({ t: [50] });
    const events: string[] = [];
    const c = consumer(f, {
      onPartitionsRevoked: (tps) =>
        void events.push(`revoked ${tps.length} committed ${f.committed.get('t-0')}`),
      onPartitionsAssigned: (tps) => void events.push(`assigned ${tps.length}`),
    });
    c.subscribe(['t']);
    const it = c[Symbol.asyncIterator]();
    expect(await take(it, 3)).toEqual(['t-0-0', 't-0-1', 't-0-2']);
    f.rebalance(); // the next heartbeat answers REBALANCE_IN_PROGRESS
    await until(() => c['group']!.membership.rejoinNeeded);
    expect(await take(it, 2)).toEqual(['t-0-3', 't-0-4']); // from the committed offset
    expect(events).toEqual(['assigned 1', 'revoked 1 committed 3', 'assigned 1']);
    expect(c.groupMetadata().generationId).toBe(2);
  });

  it('fenced (UNKNOWN_MEMBER_ID): the commit fails, the partitions are lost, the member joins anew', async () => {
    const f = await fake({ t: [50] });
    const events: string[] = [];
    const c = consumer(f, {
      enableAutoCommit: false,
      onPartitionsRevoked: () => void events.push('revoked'),
      onPartitionsLost: () => void events.push('lost'),
    });
    c.subscribe(['t']);
    const it = c[Symbol.asyncIterator]();
    await take(it, 2);
    await c.commit();
    f.members.clear(); // the coordinator forgot the member (as after a session timeout)
    f.rebalance();
    await until(() => c.groupMetadata().memberId === '');
    await expect(c.commit()).rejects.toMatchObject({ code: 'CLIENT_COMMIT_FAILED' });
    expect(await take(it, 1)).toEqual(['t-0-2']);
    expect(events).toEqual(['lost']);
    expect(c.groupMetadata()).toMatchObject({ memberId: 'app-2', generationId: 2 });
  });

  it('ILLEGAL_GENERATION on a commit: CommitFailed in Kafka words, then the next iteration rejoins', async () => {
    const f = await fake({ t: [50] });
    const c = consumer(f, { enableAutoCommit: false });
    c.subscribe(['t']);
    const it = c[Symbol.asyncIterator]();
    await take(it, 2);
    f.intercept = (r) =>
      r.api === 'OffsetCommit' // the group moved on without this member
        ? { body: { topics: [{ name: 't', partitions: [{ partitionIndex: 0, errorCode: 22 }] }] } }
        : undefined;
    await expect(c.commit()).rejects.toMatchObject({
      code: 'CLIENT_COMMIT_FAILED',
      message: expect.stringContaining(
        'Commit cannot be completed since the group has already rebalanced',
      ),
    });
    f.intercept = () => undefined;
    expect(await take(it, 1)).toEqual(['t-0-0']); // nothing was committed
    expect(f.requests('JoinGroup').at(-1)!.body).toMatchObject({ memberId: 'app-1' }); // kept its id
  });

  it('leaves the group when the application exceeds max.poll.interval.ms, and says so', async () => {
    const f = await fake({ t: [50] });
    const logger = capture();
    const events: string[] = [];
    const c = consumer(f, {
      maxPollIntervalMs: 60,
      logger,
      onPartitionsLost: () => void events.push('lost'),
    });
    c.subscribe(['t']);
    const it = c[Symbol.asyncIterator]();
    await take(it, 2);
    await c.commit();
    await until(() => f.requests('LeaveGroup').length === 1); // the app "processes" meanwhile
    expect(logger.warnings.join('\n')).toMatch(
      /max\.poll\.interval\.ms \(maxPollIntervalMs = 60\)/,
    );
    await expect(c.commit()).rejects.toMatchObject({
      code: 'CLIENT_COMMIT_FAILED',
      message: expect.stringContaining('max.poll.interval.ms'),
    });
    expect(await take(it, 1)).toEqual(['t-0-2']);
    expect(events).toEqual(['lost']);
    expect(f.requests('JoinGroup').at(-2)!.body).toMatchObject({ memberId: '' });
  });

  it('the leader rejoins when a subscribed topic gains partitions (metadata.max.age.ms)', async () => {
    const f = await fake({ t: [10] });
    const c = consumer(f, { metadataMaxAgeMs: 20 });
    c.subscribe(['t']);
    const it = c[Symbol.asyncIterator]();
    await take(it, 10);
    f.logs.set('t', [10, 5]);
    expect(await take(it, 5)).toEqual(['t-1-0', 't-1-1', 't-1-2', 't-1-3', 't-1-4']);
    expect(c.assignment()).toHaveLength(2);
    expect(c.groupMetadata().generationId).toBe(2);
  });
});

describe('two members', () => {
  it.each(['range', 'roundrobin'] as const)(
    '%s: split two topics, and a revoked partition hands out nothing after its revocation',
    async (assignor) => {
      const f = await fake({ a: [30, 30], b: [30, 30] });
      const options = { partitionAssignmentStrategy: [assignor] } as const;
      const owned = new Map<string, Set<string>>();
      const track = (name: string) => ({
        onPartitionsAssigned: (tps: { topic: string; partition: number }[]) =>
          void owned.set(name, new Set(tps.map((tp) => `${tp.topic}-${tp.partition}`))),
        onPartitionsRevoked: () => void owned.set(name, new Set()),
      });
      const c1 = consumer(f, { ...options, ...track('c1'), clientId: 'one' });
      c1.subscribe(['a', 'b']);
      const it1 = c1[Symbol.asyncIterator]();
      await take(it1, 1);
      const c2 = consumer(f, { ...options, ...track('c2'), clientId: 'two' });
      c2.subscribe(['a', 'b']);
      const it2 = c2[Symbol.asyncIterator]();
      const second = take(it2, 1); // joins; the coordinator waits for c1 to rejoin
      await until(() => c1['group']!.membership.rejoinNeeded);
      const check = (name: string, values: string[]) => {
        for (const v of values) expect(owned.get(name)).toContain(v.slice(0, v.lastIndexOf('-')));
      };
      check('c1', await take(it1, 5));
      check('c2', await second);
      check('c2', await take(it2, 5));
      const sorted = (c: C) => c.assignment().map((tp) => `${tp.topic}-${tp.partition}`);
      expect(sorted(c1)).toEqual(['a-0', 'b-0']);
      expect(sorted(c2)).toEqual(['a-1', 'b-1']);
    },
  );
});
