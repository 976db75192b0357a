/**
 * Committed offsets and groups across restarts: replay of
 * `__consumer_offsets`, compaction of it, and the expiry of old offsets on
 * the manual schedule.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  type GroupTestBroker,
  SESSION_MS,
  commitBody,
  fetchOffsets,
  openGroupBroker,
  settle,
  stableSingle,
  sync,
  withTopic,
} from './broker-group-support.js';
import { OFFSETS_TOPIC } from '../src/broker/index.js';

let t: GroupTestBroker | undefined;
afterEach(async () => {
  await t?.broker.close();
  t = undefined;
});

const G = 'billing';
const DAY = 24 * 60 * 60 * 1000;

describe('persistence', () => {
  it('keeps offsets and groups across a restart, and restored members get fresh sessions', async () => {
    const first = await withTopic();
    const a = await stableSingle(first.broker, G);
    await first.broker.call(
      'OffsetCommit',
      commitBody(G, a.generationId, a.memberId, [
        ['payments', 0, 11],
        ['payments', 1, 12],
      ]),
    );
    await first.broker.call(
      'OffsetCommit',
      commitBody(G, a.generationId, a.memberId, [['payments', 0, 13]]),
    );
    await first.broker.call('OffsetCommit', commitBody('tool', -1, '', [['payments', 2, 99]]));
    await first.broker.close();
    t = await openGroupBroker({ dataDir: first.dataDir });
    const { broker } = t;
    expect(
      t.lines.some((l) =>
        /loaded 2 group\(s\) and 3 offset\(s\) from __consumer_offsets \(\d+ record\(s\)\) in \d+ ms/.test(
          l,
        ),
      ),
    ).toBe(true);
    const offsets = await fetchOffsets(broker, G, null);
    expect(offsets.topics[0]!.partitions.map((p) => [p.partitionIndex, p.committedOffset])).toEqual(
      [
        [0, 13],
        [1, 12],
      ],
    );
    expect(
      (await fetchOffsets(broker, 'tool', null)).topics[0]!.partitions[0]!.committedOffset,
    ).toBe(99);
    expect(broker.groups.inspect(G)).toMatchObject({
      state: 'Stable',
      generationId: 1,
      leaderId: a.memberId,
      members: [a.memberId],
    });
    const described = await broker.call('DescribeGroups', { groups: [G] });
    expect(described.groups[0]!.members[0]!.memberAssignment).toEqual(Buffer.from('all'));
    // The restored member's session runs from the restart: it still syncs, then expires without heartbeats.
    expect((await sync(broker, G, 1, a.memberId)).assignment).toEqual(Buffer.from('all'));
    t.scheduler.advance(SESSION_MS);
    expect(broker.groups.inspect(G)?.state).toBe('Empty');
  });

  it('keeps the same offsets after __consumer_offsets is compacted and the broker restarts', async () => {
    const first = await withTopic();
    for (let i = 0; i < 20; i++)
      await first.broker.call('OffsetCommit', commitBody(G, -1, '', [['payments', i % 3, i]]));
    await first.broker.call('OffsetCommit', commitBody('gone', -1, '', [['payments', 0, 1]]));
    expect(
      (await first.broker.call('DeleteGroups', { groupsNames: ['gone'] })).results[0]!.errorCode,
    ).toBe(0);
    const before = await fetchOffsets(first.broker, G, null);
    let read = 0;
    let kept = 0;
    for (const p of first.broker.topics.get(OFFSETS_TOPIC)!.partitions) {
      p.log.roll(); // the active segment is never cleaned
      const stats = await p.log.compact({ force: true });
      read += stats.recordsRead;
      kept += stats.recordsKept;
    }
    expect(read).toBeGreaterThan(kept);
    await first.broker.close();
    t = await openGroupBroker({ dataDir: first.dataDir });
    expect(await fetchOffsets(t.broker, G, null)).toEqual(before);
    expect(t.broker.groups.inspect('gone')).toBeUndefined();
    expect((await fetchOffsets(t.broker, 'gone', null)).topics).toEqual([]);
  });
});

describe('expiry', () => {
  it('expires the offsets of an empty group offsets.retention.ms after it emptied, on the check schedule', async () => {
    const first = await withTopic();
    await first.broker.call('CreateTopics', {
      topics: [
        { name: 'other', numPartitions: 1, replicationFactor: -1, assignments: [], configs: [] },
      ],
      timeoutMs: 1000,
      validateOnly: false,
    });
    const a = await stableSingle(first.broker, G);
    await first.broker.call(
      'OffsetCommit',
      commitBody(G, a.generationId, a.memberId, [['payments', 0, 5]]),
    );
    await first.broker.call('LeaveGroup', { groupId: G, members: [{ memberId: a.memberId }] });
    expect(first.broker.groups.inspect(G)?.state).toBe('Empty');
    first.scheduler.advance(DAY);
    await first.broker.call('OffsetCommit', commitBody('simple', -1, '', [['other', 0, 3]]));
    first.scheduler.advance(6 * DAY); // 7 days since billing emptied; the check runs every 10 minutes
    await settle();
    expect((await fetchOffsets(first.broker, G, null)).topics).toEqual([]);
    expect(first.broker.groups.inspect(G)).toBeUndefined();
    expect(
      first.lines.some((l) => l.includes('removed 1 expired offset(s) and 1 empty group(s)')),
    ).toBe(true);
    // The simple committer's offset counts from its commit, a day later.
    expect((await fetchOffsets(first.broker, 'simple', null)).topics).toHaveLength(1);
    first.scheduler.advance(DAY);
    await settle();
    expect((await fetchOffsets(first.broker, 'simple', null)).topics).toEqual([]);
    await first.broker.close();
    t = await openGroupBroker({ dataDir: first.dataDir });
    expect(t.broker.groups.inspect(G)).toBeUndefined();
    expect((await fetchOffsets(t.broker, G, null)).topics).toEqual([]);
  });

  it('never expires the offsets of a group with members', async () => {
    t = await openGroupBroker({ config: { 'offsets.retention.ms': 60_000 } });
    const { broker, scheduler } = t;
    await broker.call('CreateTopics', {
      topics: [
        { name: 'payments', numPartitions: 1, replicationFactor: -1, assignments: [], configs: [] },
      ],
      timeoutMs: 1000,
      validateOnly: false,
    });
    const a = await stableSingle(broker, G, 'app', { sessionTimeoutMs: 30 * 60_000 });
    await broker.call(
      'OffsetCommit',
      commitBody(G, a.generationId, a.memberId, [['payments', 0, 5]]),
    );
    for (let i = 0; i < 6; i++) {
      scheduler.advance(20 * 60_000);
      await settle();
      expect(
        await broker.call('Heartbeat', { groupId: G, generationId: 1, memberId: a.memberId }),
      ).toEqual({ errorCode: 0 });
    }
    expect((await fetchOffsets(broker, G, null)).topics[0]!.partitions[0]!.committedOffset).toBe(5);
    expect(await broker.groups.expireOffsets()).toEqual({ offsets: 0, groups: 0 });
  });
});
