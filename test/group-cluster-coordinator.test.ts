/**
 * The group coordinator in a cluster (Kafka's GroupMetadataManager): it
 * serves the groups of the offsets partitions it leads, as the
 * ReplicaManager tells it. Loading on leadership (only that partition's
 * groups and offsets, COORDINATOR_LOAD_IN_PROGRESS meanwhile), unloading
 * (NOT_COORDINATOR, parked requests answered, timers cancelled), leadership
 * regained (what was written meanwhile is loaded), stale epochs, commits
 * checked against the image and, when the cluster can wait, acks=all.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { GroupState, OFFSETS_TOPIC } from '../src/broker/group/index.js';
import { ErrorCode } from '../src/protocol/index.js';
import {
  type ClusterCoordinator,
  SESSION_MS,
  appendGroup,
  appendOffsets,
  commitBody,
  committed,
  groupOn,
  joinBody,
  openClusterCoordinator,
  settle,
  stableGroupValue,
} from './group-cluster-support.js';

let t: ClusterCoordinator | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const A = groupOn(0, 'billing'); // offsets partition 0
const B = groupOn(1, 'audit'); // offsets partition 1
const caller = { clientId: 'app', clientHost: '/10.0.0.1' };

/** The error code of every partition of a commit's answer. */
const codes = (r: { topics: { partitions: { errorCode: number }[] }[] }) =>
  r.topics.flatMap((x) => x.partitions.map((p) => p.errorCode));

/** A member alone in a fresh group on an owned partition, Stable. */
async function stableSingle(c: ClusterCoordinator, groupId: string) {
  const first = await c.coordinator.joinGroup(joinBody(groupId, ''), caller);
  expect(first.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
  const joined = await c.coordinator.joinGroup(joinBody(groupId, first.memberId), caller);
  expect(joined.errorCode).toBe(0);
  const synced = await c.coordinator.syncGroup({
    groupId,
    generationId: joined.generationId,
    memberId: first.memberId,
    protocolType: null,
    protocolName: null,
    assignments: [{ memberId: first.memberId, assignment: Buffer.from('all') }],
  });
  expect(synced.errorCode).toBe(0);
  return { memberId: first.memberId, generationId: joined.generationId };
}

describe('a coordinator in a cluster', () => {
  it('serves no group before the ReplicaManager says it leads a partition', async () => {
    t = await openClusterCoordinator();
    const { coordinator } = t;
    expect(coordinator.ownedPartitions()).toEqual([]);
    expect((await coordinator.joinGroup(joinBody(A, ''), caller)).errorCode).toBe(
      ErrorCode.NOT_COORDINATOR,
    );
    expect(codes(await coordinator.commitOffsets(commitBody(A, [['payments', 0, 5]])))).toEqual([
      ErrorCode.NOT_COORDINATOR,
    ]);
    expect(committed(t, A)).toBe(ErrorCode.NOT_COORDINATOR);
    expect(coordinator.heartbeat({ groupId: A, generationId: 1, memberId: 'm' })).toBe(
      ErrorCode.NOT_COORDINATOR,
    );
    expect(coordinator.leaveGroup({ groupId: A, members: [{ memberId: 'm' }] })).toEqual({
      errorCode: ErrorCode.NOT_COORDINATOR,
      members: [],
    });
    expect(coordinator.describeGroups({ groups: [A] }).groups[0]).toMatchObject({
      errorCode: ErrorCode.NOT_COORDINATOR,
      groupState: '',
    });
    expect((await coordinator.deleteGroups({ groupsNames: [A] })).results).toEqual([
      { groupId: A, errorCode: ErrorCode.NOT_COORDINATOR },
    ]);
    expect(coordinator.listGroups({ statesFilter: undefined })).toEqual({
      errorCode: 0,
      groups: [],
    });
    // The empty group id is refused as before, whoever coordinates.
    expect((await coordinator.joinGroup(joinBody('', ''), caller)).errorCode).toBe(
      ErrorCode.INVALID_GROUP_ID,
    );
  });

  it('loads the groups and offsets of a partition it comes to lead, and only those', async () => {
    t = await openClusterCoordinator();
    const { coordinator } = t;
    const now = t.scheduler.now();
    appendGroup(t, 0, A, stableGroupValue('m-a', now));
    appendOffsets(t, 0, [
      [A, 'payments', 0, 7],
      [A, 'payments', 1, 8],
      [A, 'payments', 0, 9], // the last record of a key wins
    ]);
    appendOffsets(t, 1, [[B, 'payments', 0, 40]]);

    const loading = coordinator.onLeadershipChange(0, true, 1);
    // While it loads: clients wait and ask again; a heartbeat is answered blindly (Kafka's rule).
    expect(committed(t, A)).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    expect((await coordinator.joinGroup(joinBody(A, 'm-a'), caller)).errorCode).toBe(
      ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
    );
    expect(
      (
        await coordinator.syncGroup({
          groupId: A,
          generationId: 3,
          memberId: 'm-a',
          protocolType: null,
          protocolName: null,
          assignments: [],
        })
      ).errorCode,
    ).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(coordinator.heartbeat({ groupId: A, generationId: 3, memberId: 'm-a' })).toBe(0);
    expect(coordinator.listGroups({ statesFilter: undefined })).toEqual({
      errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
      groups: [],
    });
    await loading;

    expect(coordinator.ownedPartitions()).toEqual([0]);
    expect(committed(t, A)).toEqual([
      ['payments', 0, 9],
      ['payments', 1, 8],
    ]);
    expect(coordinator.inspect(A)).toMatchObject({
      state: GroupState.STABLE,
      generationId: 3,
      leaderId: 'm-a',
      members: ['m-a'],
    });
    expect(coordinator.heartbeat({ groupId: A, generationId: 3, memberId: 'm-a' })).toBe(0);
    // Partition 1 is another broker's: its group is not here.
    expect(committed(t, B)).toBe(ErrorCode.NOT_COORDINATOR);
    expect(coordinator.inspect(B)).toBeUndefined();
    expect(coordinator.listGroups({ statesFilter: undefined })).toEqual({
      errorCode: 0,
      groups: [{ groupId: A, protocolType: 'consumer', groupState: GroupState.STABLE }],
    });
    expect(
      t.lines.some((l) =>
        /now coordinator of the groups of __consumer_offsets-0 \(leader epoch 1\): loaded 1 group\(s\) and 2 offset\(s\) \(4 record\(s\)\)/.test(
          l,
        ),
      ),
    ).toBe(true);
    // A restored member has a fresh session: silent, it expires.
    t.scheduler.advance(SESSION_MS);
    expect(coordinator.inspect(A)?.members).toEqual([]);
  });

  it('serves a group it leads as a broker alone would: join, commit, fetch', async () => {
    t = await openClusterCoordinator();
    const { coordinator } = t;
    await coordinator.onLeadershipChange(0, true, 0);
    const a = await stableSingle(t, A);
    await settle();
    expect(coordinator.inspect(A)?.state).toBe(GroupState.STABLE);
    const r = await coordinator.commitOffsets(
      commitBody(A, [['payments', 1, 12]], a.generationId, a.memberId),
    );
    expect(codes(r)).toEqual([0]);
    expect(committed(t, A)).toEqual([['payments', 1, 12]]);
    // The records went to the group's own partition.
    expect(t.topics.partition(OFFSETS_TOPIC, 0)!.logEndOffset).toBe(2);
    expect(t.topics.partition(OFFSETS_TOPIC, 1)!.logEndOffset).toBe(0);
  });

  it('unloads a partition it stops leading: NOT_COORDINATOR, parked joins answered, timers cancelled', async () => {
    t = await openClusterCoordinator();
    const { coordinator, scheduler } = t;
    await coordinator.onLeadershipChange(0, true, 1);
    const a = await stableSingle(t, A);
    await settle();
    await coordinator.commitOffsets(
      commitBody(A, [['payments', 0, 3]], a.generationId, a.memberId),
    );
    // A second member joins: its JoinGroup waits for the first to rejoin.
    const idB = (await coordinator.joinGroup(joinBody(A, ''), caller)).memberId;
    const parked = coordinator.joinGroup(joinBody(A, idB), caller);
    await settle();
    expect(coordinator.inspect(A)?.state).toBe(GroupState.PREPARING_REBALANCE);
    expect(scheduler.pending).toBeGreaterThan(1);

    await coordinator.onLeadershipChange(0, false, 2);
    expect((await parked).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    expect(scheduler.pending).toBe(1); // only the offsets expiry schedule is left
    expect(coordinator.inspect(A)).toBeUndefined();
    expect(coordinator.ownedPartitions()).toEqual([]);
    expect(coordinator.heartbeat({ groupId: A, ...a })).toBe(ErrorCode.NOT_COORDINATOR);
    expect(committed(t, A)).toBe(ErrorCode.NOT_COORDINATOR);
    expect(
      codes(
        await coordinator.commitOffsets(
          commitBody(A, [['payments', 0, 4]], a.generationId, a.memberId),
        ),
      ),
    ).toEqual([ErrorCode.NOT_COORDINATOR]);
    // Nothing fires later: no member expires on a broker that no longer holds the group.
    scheduler.advance(10 * SESSION_MS);
    expect(t.lines.some((l) => l.includes('expired'))).toBe(false);
    expect(t.lines).toContain(
      'info no longer coordinator of the groups of __consumer_offsets-0 (leader epoch 2): unloaded 1 group(s)',
    );
  });

  it('reloads, when it leads again, what another leader committed meanwhile', async () => {
    t = await openClusterCoordinator();
    const { coordinator } = t;
    await coordinator.onLeadershipChange(0, true, 1);
    await coordinator.commitOffsets(commitBody(A, [['payments', 0, 5]]));
    expect(committed(t, A)).toEqual([['payments', 0, 5]]);
    await coordinator.onLeadershipChange(0, false, 2);
    // Broker 1 led at epoch 2; its commits reached this broker's log as a follower's copy.
    appendOffsets(t, 0, [
      [A, 'payments', 0, 9],
      [A, 'payments', 1, 2],
    ]);
    await coordinator.onLeadershipChange(0, true, 3);
    expect(committed(t, A)).toEqual([
      ['payments', 0, 9],
      ['payments', 1, 2],
    ]);
  });

  it('ignores changes with an older epoch, and a second election while it leads', async () => {
    t = await openClusterCoordinator();
    const { coordinator } = t;
    await coordinator.onLeadershipChange(0, true, 4);
    await coordinator.commitOffsets(commitBody(A, [['payments', 0, 5]]));
    await coordinator.onLeadershipChange(0, false, 3); // an image older than the one it leads by
    expect(coordinator.ownedPartitions()).toEqual([0]);
    appendOffsets(t, 0, [[A, 'payments', 0, 99]]);
    await coordinator.onLeadershipChange(0, true, 5); // still leader: nothing to load again
    expect(committed(t, A)).toEqual([['payments', 0, 5]]);
  });

  it('drops a load overtaken by a resignation before it ends', async () => {
    t = await openClusterCoordinator();
    const { coordinator } = t;
    appendOffsets(t, 0, [[A, 'payments', 0, 7]]);
    const loading = coordinator.onLeadershipChange(0, true, 1);
    await coordinator.onLeadershipChange(0, false, 2);
    await loading;
    expect(coordinator.ownedPartitions()).toEqual([]);
    expect(coordinator.inspect(A)).toBeUndefined();
    expect(committed(t, A)).toBe(ErrorCode.NOT_COORDINATOR);
  });

  it('refuses a commit whose partition moved away while it waited to be written', async () => {
    t = await openClusterCoordinator();
    const { coordinator } = t;
    await coordinator.onLeadershipChange(0, true, 1);
    const pending = coordinator.commitOffsets(commitBody(A, [['payments', 0, 5]]));
    await coordinator.onLeadershipChange(0, false, 2);
    expect(codes(await pending)).toEqual([ErrorCode.NOT_COORDINATOR]);
    expect(t.topics.partition(OFFSETS_TOPIC, 0)!.logEndOffset).toBe(0);
    await coordinator.onLeadershipChange(0, true, 3);
    expect(committed(t, A)).toEqual([]);
    expect(coordinator.inspect(A)).toBeUndefined();
  });

  it('checks committed partitions against the cluster image, not the local replicas', async () => {
    t = await openClusterCoordinator();
    const { coordinator } = t;
    await t.topics.create('local-only', 1, {});
    await coordinator.onLeadershipChange(0, true, 1);
    t.image = {
      ...t.image,
      topics: { ...t.image.topics, elsewhere: { ...t.image.topics.payments!, name: 'elsewhere' } },
    };
    const r = await coordinator.commitOffsets(
      commitBody(A, [
        ['elsewhere', 1, 3],
        ['local-only', 0, 4],
      ]),
    );
    expect(r.topics.map((x) => [x.name, x.partitions[0]!.errorCode])).toEqual([
      ['elsewhere', 0],
      ['local-only', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ]);
  });

  it('writes commits with acks=all: answered once the in-sync replicas have them', async () => {
    t = await openClusterCoordinator();
    const { coordinator, scheduler } = t;
    const p0 = t.topics.partition(OFFSETS_TOPIC, 0)!;
    // As the ReplicaManager makes it: leader at epoch 1, broker 1 an in-sync follower.
    p0.becomeLeader(1, { replicas: [0, 1], isr: [0, 1], partitionEpoch: 1 }, scheduler.now());
    await coordinator.onLeadershipChange(0, true, 1);
    const appended = async (end: number) => {
      for (let i = 0; i < 10 && p0.logEndOffset < end; i++) await settle();
      expect(p0.logEndOffset).toBe(end);
    };

    let answered = false;
    const first = coordinator.commitOffsets(commitBody(A, [['payments', 0, 5]])).then((r) => {
      answered = true;
      return r;
    });
    await appended(1);
    await settle();
    expect(answered).toBe(false);
    expect(committed(t, A)).toEqual([]); // memory follows the log only once replicated
    p0.followerFetched(1, { fetchOffset: 1, logStartOffset: 0 }, scheduler.now());
    expect(codes(await first)).toEqual([0]);
    expect(committed(t, A)).toEqual([['payments', 0, 5]]);

    // The follower stops fetching: the commit gives up after offsets.commit.timeout.ms.
    const slow = coordinator.commitOffsets(commitBody(A, [['payments', 0, 6]]));
    await appended(2);
    scheduler.advance(5_000);
    expect(codes(await slow)).toEqual([ErrorCode.COORDINATOR_NOT_AVAILABLE]);

    // Fewer in-sync replicas than min.insync.replicas: refused before the append.
    p0.minInsyncReplicas = 3;
    const few = await coordinator.commitOffsets(commitBody(A, [['payments', 0, 7]]));
    expect(codes(few)).toEqual([ErrorCode.COORDINATOR_NOT_AVAILABLE]);
    expect(p0.logEndOffset).toBe(2);
    p0.minInsyncReplicas = 1;

    // Leadership moves while a commit waits: the member is sent to the new coordinator.
    const lost = coordinator.commitOffsets(commitBody(A, [['payments', 0, 8]]));
    await appended(3);
    p0.becomeFollower(2, 1);
    expect(codes(await lost)).toEqual([ErrorCode.NOT_COORDINATOR]);
    expect(committed(t, A)).toEqual([['payments', 0, 5]]);
  });
});
