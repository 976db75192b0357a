/**
 * The group coordinator's membership rules, in process, with the group
 * timers on a ManualScheduler: joins, MEMBER_ID_REQUIRED, leader and
 * generation, SyncGroup, leaves, session expiry, the rebalance timeout,
 * joins mid-rebalance, the initial delay, fencing, protocol selection.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { GroupState } from '../src/broker/index.js';
import { Group } from '../src/broker/group/group.js';
import { ErrorCode } from '../src/protocol/index.js';
import {
  type GroupTestBroker,
  REBALANCE_MS,
  SESSION_MS,
  advanceWithHeartbeats,
  heartbeat,
  join,
  joinBody,
  newMemberId,
  openGroupBroker,
  settle,
  stableSingle,
  sync,
} from './broker-group-support.js';

let t: GroupTestBroker;
afterEach(async () => {
  await t?.broker.close();
});

const G = 'billing';

describe('joining', () => {
  it('hands out a member id with MEMBER_ID_REQUIRED, then forms generation 1 with the joiner as leader', async () => {
    t = await openGroupBroker();
    const first = await t.broker.handle({
      api: 'JoinGroup',
      version: 0,
      correlationId: 1,
      clientId: 'billing-app',
      body: joinBody(G, ''),
    });
    const body = first.body as { errorCode: number; memberId: string; generationId: number };
    expect(body.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    expect(body.memberId).toMatch(/^billing-app-[0-9a-f-]{36}$/);
    expect(body.generationId).toBe(-1);
    expect(t.broker.groups.inspect(G)?.state).toBe('Empty');

    const joined = await join(t.broker, G, body.memberId);
    expect(joined).toMatchObject({
      errorCode: 0,
      generationId: 1,
      protocolType: 'consumer',
      protocolName: 'range',
      leader: body.memberId,
      memberId: body.memberId,
    });
    expect(joined.members).toEqual([{ memberId: body.memberId, metadata: Buffer.from('sub') }]);
    expect(t.broker.groups.inspect(G)?.state).toBe('CompletingRebalance');

    const synced = await sync(t.broker, G, 1, body.memberId, [
      { memberId: body.memberId, assignment: Buffer.from('mine') },
    ]);
    expect(synced).toEqual({
      errorCode: 0,
      protocolType: 'consumer',
      protocolName: 'range',
      assignment: Buffer.from('mine'),
    });
    expect(t.broker.groups.inspect(G)?.state).toBe('Stable');
    expect(t.lines).toContain('info group billing: generation 1 stable with 1 member (range)');
    expect(await heartbeat(t.broker, G, 1, body.memberId)).toBe(0);
  });

  it('refuses an empty group id, a session timeout out of range, and an unknown member id', async () => {
    t = await openGroupBroker({ config: { 'group.max.session.timeout.ms': 60_000 } });
    expect((await join(t.broker, '', '')).errorCode).toBe(ErrorCode.INVALID_GROUP_ID);
    expect((await join(t.broker, G, '', { sessionTimeoutMs: 5 })).errorCode).toBe(
      ErrorCode.INVALID_SESSION_TIMEOUT,
    );
    expect((await join(t.broker, G, '', { sessionTimeoutMs: 60_001 })).errorCode).toBe(
      ErrorCode.INVALID_SESSION_TIMEOUT,
    );
    expect((await join(t.broker, G, 'who-1')).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(t.broker.groups.inspect(G)).toBeUndefined();
  });

  it('rebalances when a second member joins: the first hears REBALANCE_IN_PROGRESS and rejoins', async () => {
    t = await openGroupBroker();
    const a = await stableSingle(t.broker, G);
    const b = await newMemberId(t.broker, G);
    const bJoin = join(t.broker, G, b);
    await settle();
    expect(t.broker.groups.inspect(G)?.state).toBe('PreparingRebalance');
    expect(
      t.lines.some((l) => l.includes(`group billing: member ${b} joined (2 members), rebalancing`)),
    ).toBe(true);
    expect(await heartbeat(t.broker, G, 1, a.memberId)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    const aJoin = await join(t.broker, G, a.memberId);
    const bJoined = await bJoin;
    expect(aJoin.generationId).toBe(2);
    expect(bJoined.generationId).toBe(2);
    expect(aJoin.leader).toBe(a.memberId); // the first member stays leader
    expect(aJoin.members.map((m) => m.memberId)).toEqual([a.memberId, b]);
    expect(bJoined.members).toEqual([]);

    // The follower's SyncGroup waits for the leader's.
    const bSync = sync(t.broker, G, 2, b);
    await settle();
    const aSync = await sync(t.broker, G, 2, a.memberId, [
      { memberId: a.memberId, assignment: Buffer.from('A') },
      { memberId: b, assignment: Buffer.from('B') },
    ]);
    expect(aSync.assignment).toEqual(Buffer.from('A'));
    expect((await bSync).assignment).toEqual(Buffer.from('B'));
    expect(t.broker.groups.inspect(G)).toMatchObject({ state: 'Stable', generationId: 2 });
  });

  it('takes a member that joins in the middle of a rebalance into the same generation', async () => {
    t = await openGroupBroker();
    const a = await stableSingle(t.broker, G);
    const b = await newMemberId(t.broker, G);
    const bJoin = join(t.broker, G, b);
    const c = await newMemberId(t.broker, G);
    const cJoin = join(t.broker, G, c);
    await settle();
    expect(t.broker.groups.inspect(G)?.state).toBe('PreparingRebalance');
    const aJoin = await join(t.broker, G, a.memberId);
    expect(aJoin.generationId).toBe(2);
    expect(aJoin.members.map((m) => m.memberId).sort()).toEqual([a.memberId, b, c].sort());
    expect((await bJoin).generationId).toBe(2);
    expect((await cJoin).generationId).toBe(2);
  });

  it('ends the join phase on the rebalance timeout, removing members that did not rejoin', async () => {
    t = await openGroupBroker();
    const a = await stableSingle(t.broker, G, 'app', { sessionTimeoutMs: 60_000 });
    const b = await newMemberId(t.broker, G, 'app', { rebalanceTimeoutMs: 5_000 });
    const bJoin = join(t.broker, G, b, { rebalanceTimeoutMs: 5_000 });
    await settle();
    // a keeps heartbeating but never rejoins; the group's rebalance timeout is the largest: 30 s.
    t.scheduler.advance(REBALANCE_MS - 1);
    expect(t.broker.groups.inspect(G)?.state).toBe('PreparingRebalance');
    expect(await heartbeat(t.broker, G, 1, a.memberId)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    t.scheduler.advance(1);
    const bJoined = await bJoin;
    expect(bJoined).toMatchObject({ errorCode: 0, generationId: 2, leader: b });
    expect(t.broker.groups.inspect(G)?.members).toEqual([b]);
    expect(await heartbeat(t.broker, G, 1, a.memberId)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(t.lines.some((l) => l.includes(`removed ${a.memberId}: not rejoined`))).toBe(true);
  });

  it('waits group.initial.rebalance.delay.ms for more members before an empty group first rebalances', async () => {
    t = await openGroupBroker({ config: { 'group.initial.rebalance.delay.ms': 3_000 } });
    const a = await newMemberId(t.broker, G);
    const aJoin = join(t.broker, G, a);
    await settle();
    t.scheduler.advance(2_000);
    const b = await newMemberId(t.broker, G);
    const bJoin = join(t.broker, G, b);
    await settle();
    t.scheduler.advance(1_000); // the first delay ends, but b arrived: extended by another 3 s
    await settle();
    expect(t.broker.groups.inspect(G)?.state).toBe('PreparingRebalance');
    t.scheduler.advance(3_000);
    const [aj, bj] = await Promise.all([aJoin, bJoin]);
    expect(aj.generationId).toBe(1);
    expect(bj.generationId).toBe(1);
    expect(aj.members).toHaveLength(2);
  });

  it('refuses a member past group.max.size', async () => {
    t = await openGroupBroker({ config: { 'group.max.size': 1 } });
    await stableSingle(t.broker, G);
    const refused = await join(t.broker, G, '');
    expect(refused.errorCode).toBe(ErrorCode.GROUP_MAX_SIZE_REACHED);
  });
});

describe('leaving and expiring', () => {
  it('rebalances when a member leaves, and empties the group when the last one does', async () => {
    t = await openGroupBroker();
    const a = await stableSingle(t.broker, G);
    const b = await newMemberId(t.broker, G);
    const bJoin = join(t.broker, G, b);
    await join(t.broker, G, a.memberId);
    await bJoin;
    const left = await t.broker.call('LeaveGroup', {
      groupId: G,
      members: [{ memberId: b }, { memberId: 'nobody' }],
    });
    expect(left).toEqual({
      errorCode: 0,
      members: [
        { memberId: b, errorCode: 0 },
        { memberId: 'nobody', errorCode: ErrorCode.UNKNOWN_MEMBER_ID },
      ],
    });
    expect(t.broker.groups.inspect(G)?.state).toBe('PreparingRebalance');
    const again = await join(t.broker, G, a.memberId);
    expect(again.generationId).toBe(3);
    await t.broker.call('LeaveGroup', { groupId: G, members: [{ memberId: a.memberId }] });
    expect(t.broker.groups.inspect(G)).toMatchObject({
      state: 'Empty',
      generationId: 4,
      members: [],
    });
  });

  it('removes a member whose session expires without heartbeats, and rebalances the rest', async () => {
    t = await openGroupBroker();
    const a = await stableSingle(t.broker, G);
    const b = await newMemberId(t.broker, G, 'app', { sessionTimeoutMs: 20_000 });
    const bJoin = join(t.broker, G, b, { sessionTimeoutMs: 20_000 });
    await join(t.broker, G, a.memberId);
    const bj = await bJoin;
    await sync(t.broker, G, bj.generationId, a.memberId);
    await sync(t.broker, G, bj.generationId, b);
    // b heartbeats, a does not: a's 10 s session ends.
    t.scheduler.advance(SESSION_MS - 1);
    expect(await heartbeat(t.broker, G, bj.generationId, b)).toBe(0);
    t.scheduler.advance(1);
    expect(t.lines).toContain(
      `info member ${a.memberId} of group billing expired after ${SESSION_MS} ms`,
    );
    expect(t.broker.groups.inspect(G)).toMatchObject({ state: 'PreparingRebalance', members: [b] });
    expect(await heartbeat(t.broker, G, bj.generationId, b)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    const rejoined = await join(t.broker, G, b);
    expect(rejoined).toMatchObject({ generationId: bj.generationId + 1, leader: b });
  });

  it('removes a member that does not send SyncGroup within the rebalance timeout', async () => {
    t = await openGroupBroker();
    const a = await stableSingle(t.broker, G);
    const b = await newMemberId(t.broker, G);
    const bJoin = join(t.broker, G, b);
    const aj = await join(t.broker, G, a.memberId);
    await bJoin;
    const aSync = sync(t.broker, G, aj.generationId, a.memberId, [
      { memberId: a.memberId, assignment: Buffer.from('A') },
    ]);
    expect((await aSync).assignment).toEqual(Buffer.from('A'));
    // b heartbeats (so its session holds) but never syncs.
    const members = [a.memberId, b].map((memberId) => ({
      memberId,
      generationId: aj.generationId,
    }));
    expect(await advanceWithHeartbeats(t, REBALANCE_MS - 1, 5_000, G, members)).toEqual([0, 0]);
    t.scheduler.advance(1);
    expect(t.broker.groups.inspect(G)).toMatchObject({
      state: 'PreparingRebalance',
      members: [a.memberId],
    });
    expect(await heartbeat(t.broker, G, aj.generationId, b)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('forgets a member id handed out by MEMBER_ID_REQUIRED that never rejoins', async () => {
    t = await openGroupBroker();
    const a = await newMemberId(t.broker, G);
    t.scheduler.advance(SESSION_MS);
    expect((await join(t.broker, G, a)).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });
});

describe('fencing', () => {
  it('answers stale generations ILLEGAL_GENERATION and unknown members UNKNOWN_MEMBER_ID', async () => {
    t = await openGroupBroker();
    const a = await stableSingle(t.broker, G);
    expect(await heartbeat(t.broker, G, 0, a.memberId)).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(await heartbeat(t.broker, G, 1, 'ghost')).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(await heartbeat(t.broker, 'other', 1, a.memberId)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect((await sync(t.broker, G, 7, a.memberId)).errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect((await sync(t.broker, G, 1, 'ghost')).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    const wrongName = await t.broker.call('SyncGroup', {
      groupId: G,
      generationId: 1,
      memberId: a.memberId,
      protocolType: 'consumer',
      protocolName: 'roundrobin',
      assignments: [],
    });
    expect(wrongName.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  });

  it('answers a follower rejoining a stable group with the current generation, and the leader with a rebalance', async () => {
    t = await openGroupBroker();
    const a = await stableSingle(t.broker, G);
    const b = await newMemberId(t.broker, G);
    const bJoin = join(t.broker, G, b);
    await join(t.broker, G, a.memberId);
    await bJoin;
    await sync(t.broker, G, 2, a.memberId);
    await sync(t.broker, G, 2, b);
    const follower = await join(t.broker, G, b);
    expect(follower).toMatchObject({ errorCode: 0, generationId: 2, members: [] });
    expect(t.broker.groups.inspect(G)?.state).toBe('Stable');
    const leaderJoin = join(t.broker, G, a.memberId);
    await settle();
    expect(t.broker.groups.inspect(G)?.state).toBe('PreparingRebalance');
    await join(t.broker, G, b);
    expect((await leaderJoin).generationId).toBe(3);
  });
});

describe('protocols', () => {
  it('picks by vote a protocol every member supports', async () => {
    t = await openGroupBroker();
    const meta = Buffer.from('m');
    const both = [
      { name: 'range', metadata: meta },
      { name: 'roundrobin', metadata: meta },
    ];
    const a = await newMemberId(t.broker, G, 'app', { protocols: both });
    const aj = await join(t.broker, G, a, { protocols: both });
    expect(aj.protocolName).toBe('range');
    const rrFirst = [
      { name: 'roundrobin', metadata: meta },
      { name: 'range', metadata: meta },
    ];
    const b = await newMemberId(t.broker, G, 'app', { protocols: rrFirst });
    const bJoin = join(t.broker, G, b, { protocols: rrFirst });
    const c = await newMemberId(t.broker, G, 'app', {
      protocols: [{ name: 'roundrobin', metadata: meta }],
    });
    const cJoin = join(t.broker, G, c, { protocols: [{ name: 'roundrobin', metadata: meta }] });
    const aj2 = await join(t.broker, G, a, { protocols: both });
    expect(aj2.protocolName).toBe('roundrobin'); // only roundrobin is common to all three
    expect((await bJoin).protocolName).toBe('roundrobin');
    expect((await cJoin).protocolName).toBe('roundrobin');
  });

  it('refuses a member with no protocol in common, or another protocol type: INCONSISTENT_GROUP_PROTOCOL', async () => {
    t = await openGroupBroker();
    await stableSingle(t.broker, G);
    const sticky = { protocols: [{ name: 'sticky', metadata: Buffer.alloc(0) }] };
    expect((await join(t.broker, G, '', sticky)).errorCode).toBe(
      ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
    );
    expect((await join(t.broker, G, '', { protocolType: 'connect' })).errorCode).toBe(
      ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
    );
    expect((await join(t.broker, 'fresh', '', { protocols: [] })).errorCode).toBe(
      ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
    );
    expect(t.broker.groups.inspect('fresh')).toBeUndefined();
  });
});

describe('the state machine', () => {
  it('throws on a transition Kafka does not allow', () => {
    const g = new Group('g', 0);
    expect(() => g.transitionTo(GroupState.STABLE, 1)).toThrow(/cannot go from Empty to Stable/);
    g.transitionTo(GroupState.PREPARING_REBALANCE, 1);
    expect(() => g.transitionTo(GroupState.STABLE, 2)).toThrow(/PreparingRebalance to Stable/);
    g.transitionTo(GroupState.COMPLETING_REBALANCE, 2);
    g.transitionTo(GroupState.STABLE, 3);
    g.transitionTo(GroupState.DEAD, 4);
    expect(() => g.transitionTo(GroupState.EMPTY, 5)).toThrow();
  });

  it('answers parked JoinGroup requests with NOT_COORDINATOR when the broker stops', async () => {
    t = await openGroupBroker();
    const a = await stableSingle(t.broker, G);
    const b = await newMemberId(t.broker, G);
    const bJoin = join(t.broker, G, b);
    await settle();
    t.broker.beginShutdown();
    expect((await bJoin).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    expect(a.memberId).toBeTruthy();
  });
});
