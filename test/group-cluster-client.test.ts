/**
 * The consumer when the coordinator is a cluster's (against fake
 * coordinators, client-fake-group-broker): a coordinator that moved
 * (NOT_COORDINATOR) is looked up again with FindCoordinator and the member
 * follows it to the new broker; a coordinator still loading
 * (COORDINATOR_LOAD_IN_PROGRESS) is asked again after the backoff, without
 * a new lookup, as Kafka's consumer does.
 */
import { describe, expect, it } from 'vitest';
import type { Request } from '../src/protocol/index.js';
import type { FakeGroupBroker } from './client-fake-group-broker.js';
import { fakeGroupBroker, fakeGroupConsumer, take, until } from './client-group-support.js';
import type { FakeAnswer } from './client-fake-broker.js';

const NOT_COORDINATOR = 16;
const LOAD_IN_PROGRESS = 14;

const fake = fakeGroupBroker;

function consumer(f: FakeGroupBroker) {
  return fakeGroupConsumer(f, { enableAutoCommit: false });
}

/** The answer of a group API carrying only `errorCode`, in that API's shape; undefined for others. */
function refusal(request: Request, errorCode: number): FakeAnswer | undefined {
  const empty = { protocolType: null, protocolName: null };
  switch (request.api) {
    case 'JoinGroup':
      return {
        body: { errorCode, generationId: -1, ...empty, leader: '', memberId: '', members: [] },
      };
    case 'SyncGroup':
      return { body: { errorCode, ...empty, assignment: Buffer.alloc(0) } };
    case 'Heartbeat':
      return { body: { errorCode } };
    case 'LeaveGroup':
      return { body: { errorCode, members: [] } };
    case 'OffsetFetch':
      return { body: { errorCode, topics: [] } };
    case 'OffsetCommit':
      return {
        body: {
          topics: request.body.topics.map((t) => ({
            name: t.name,
            partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })),
          })),
        },
      };
    default:
      return undefined;
  }
}

describe('a consumer whose coordinator is in a cluster', () => {
  it('follows the coordinator to another broker when the old one says NOT_COORDINATOR', async () => {
    const a = await fake({ t: [6] });
    const b = await fake({ t: [6] });
    const c = consumer(a);
    c.subscribe(['t']);
    const it = c[Symbol.asyncIterator]();
    expect(await take(it, 3)).toEqual(['t-0-0', 't-0-1', 't-0-2']);
    await c.commit();
    expect(a.committed.get('t-0')).toBe(3);

    // Leadership of the group's offsets partition moves to b, which loaded the commits.
    b.committed = new Map(a.committed);
    a.intercept = (r) =>
      r.api === 'FindCoordinator'
        ? {
            body: {
              errorCode: 0,
              errorMessage: null,
              nodeId: 1,
              host: b.broker.host,
              port: b.broker.port,
            },
          }
        : refusal(r, NOT_COORDINATOR);
    expect(await take(it, 3)).toEqual(['t-0-3', 't-0-4', 't-0-5']);
    // Waiting for more, the member hears NOT_COORDINATOR, finds b, and rejoins there (b does not know it).
    const next = it.next();
    await until(() => b.state === 'Stable' && b.members.size === 1);
    expect(a.requests('FindCoordinator').length).toBeGreaterThanOrEqual(2);
    // b resumes the group from the offsets it holds: at-least-once, from 3.
    expect((await next).value?.value).toBe('t-0-3');
    await c.commit();
    expect(b.committed.get('t-0')).toBe(4);
    expect(a.committed.get('t-0')).toBe(3);
  });

  it('asks a loading coordinator again after the backoff, without looking it up again', async () => {
    const f = await fake({ t: [4] });
    f.committed.set('t-0', 1);
    const refused = new Map<string, number>([
      ['JoinGroup', 2],
      ['OffsetFetch', 2],
      ['OffsetCommit', 2],
    ]);
    f.intercept = (r) => {
      const left = refused.get(r.api) ?? 0;
      if (left === 0) return undefined;
      refused.set(r.api, left - 1);
      return refusal(r, LOAD_IN_PROGRESS);
    };
    const c = consumer(f);
    c.subscribe(['t']);
    const it = c[Symbol.asyncIterator]();
    expect(await take(it, 3)).toEqual(['t-0-1', 't-0-2', 't-0-3']);
    await c.commit();
    expect(f.committed.get('t-0')).toBe(4);
    expect([...refused.values()]).toEqual([0, 0, 0]);
    expect(f.requests('FindCoordinator')).toHaveLength(1);
  });

  it('keeps its generation when a heartbeat says NOT_COORDINATOR, and looks the coordinator up again', async () => {
    const f = await fake({ t: [2] });
    let refusals = 1;
    f.intercept = (r) => {
      if (r.api !== 'Heartbeat' || refusals === 0) return undefined;
      refusals -= 1;
      return refusal(r, NOT_COORDINATOR);
    };
    const c = consumer(f);
    c.subscribe(['t']);
    const it = c[Symbol.asyncIterator]();
    expect(await take(it, 2)).toEqual(['t-0-0', 't-0-1']);
    const generation = c.groupMetadata();
    await until(() => refusals === 0 && f.requests('FindCoordinator').length === 2);
    await until(() => f.requests('Heartbeat').length >= 3);
    expect(c.groupMetadata()).toEqual(generation);
    expect(f.requests('JoinGroup')).toHaveLength(2); // MEMBER_ID_REQUIRED, then the join: no rejoin
  });
});
