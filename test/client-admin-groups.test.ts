/**
 * The admin client's group calls against an embedded broker: list, describe
 * (members' subscriptions and assignments decoded), committed offsets listed
 * and altered (only while the group is empty), groups deleted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Admin,
  Consumer,
  type ConsumerRecord,
  Producer,
  type RunningBroker,
  startBroker,
} from '../src/index.js';

let broker: RunningBroker;
let admin: Admin;
let brokers: string;

beforeAll(async () => {
  broker = await startBroker({ port: 0 });
  brokers = `${broker.host}:${broker.port}`;
  admin = new Admin({ brokers });
  await admin.createTopics([{ name: 'pay', numPartitions: 3 }]);
  const producer = new Producer({ brokers });
  await producer.send(
    'pay',
    Array.from({ length: 30 }, (_, i) => ({ partition: i % 3, value: Buffer.from(`v${i}`) })),
  );
  await producer.close();
});

afterAll(async () => {
  await admin?.close();
  await broker?.close();
});

function member(groupId: string, clientId: string): Consumer {
  const consumer = new Consumer({
    brokers,
    clientId,
    groupId,
    autoOffsetReset: 'earliest',
    sessionTimeoutMs: 1000,
    heartbeatIntervalMs: 100,
    fetchMaxWaitMs: 50,
  });
  consumer.subscribe(['pay']);
  return consumer;
}

/** Reads `n` records, keeping the iterator (and so the membership) going in the background. */
function reading(consumer: Consumer) {
  const seen: ConsumerRecord<Buffer | null, Buffer | null>[] = [];
  const loop = (async () => {
    for await (const r of consumer) seen.push(r);
  })();
  return { seen, loop };
}

async function until(ready: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('Admin: consumer groups', () => {
  it('lists and describes a live group, decoding its members', async () => {
    const a = member('billing', 'app-a');
    const b = member('billing', 'app-b');
    const ra = reading(a);
    const rb = reading(b);
    try {
      await until(async () => {
        const [g] = await admin.describeGroups(['billing']);
        return g!.state === 'Stable' && g!.members.length === 2;
      });
      await until(() => ra.seen.length + rb.seen.length === 30);
      await a.commit();
      await b.commit();

      const listed = await admin.listGroups();
      expect(listed.find((g) => g.groupId === 'billing')).toEqual({
        groupId: 'billing',
        protocolType: 'consumer',
        state: 'Stable',
      });

      const [g] = await admin.describeGroups(['billing']);
      expect(g!.error).toBeUndefined();
      expect(g!.protocolType).toBe('consumer');
      expect(g!.assignor).toBe('range');
      expect(g!.generationId).toBeGreaterThan(0);
      expect(g!.members.map((m) => m.memberId)).toContain(g!.leader);
      expect(g!.members.map((m) => m.clientId).sort()).toEqual(['app-a', 'app-b']);
      for (const m of g!.members) {
        expect(m.subscription).toEqual(['pay']);
        expect(m.host).toMatch(/127\.0\.0\.1/);
      }
      const partitions = g!.members.flatMap((m) => m.assignment.map((tp) => tp.partition));
      expect(partitions.sort()).toEqual([0, 1, 2]);

      const offsets = await admin.listGroupOffsets('billing');
      expect(offsets.map((o) => [o.topic, o.partition, o.offset])).toEqual([
        ['pay', 0, 10],
        ['pay', 1, 10],
        ['pay', 2, 10],
      ]);

      // Not while it has members: the members own the offsets.
      const refused = await admin.alterGroupOffsets('billing', [
        { topic: 'pay', partition: 0, offset: 0 },
      ]);
      expect(refused[0]!.error).toBeDefined();
      const [notDeleted] = await admin.deleteGroups(['billing']);
      expect(notDeleted!.error?.name).toBe('NON_EMPTY_GROUP');
    } finally {
      await Promise.all([a.close(), b.close()]);
      await Promise.all([ra.loop, rb.loop]);
    }
  });

  it('alters the offsets of an empty group, then deletes it', async () => {
    const [empty] = await admin.describeGroups(['billing']);
    expect(empty!.state).toBe('Empty');
    expect(empty!.members).toEqual([]);

    const altered = await admin.alterGroupOffsets('billing', [
      { topic: 'pay', partition: 0, offset: 3 },
      { topic: 'pay', partition: 1, offset: 4, metadata: 'reset by a test' },
    ]);
    expect(altered).toEqual([
      { topic: 'pay', partition: 0 },
      { topic: 'pay', partition: 1 },
    ]);
    const offsets = await admin.listGroupOffsets('billing', [
      { topic: 'pay', partition: 0 },
      { topic: 'pay', partition: 1 },
      { topic: 'pay', partition: 2 },
    ]);
    expect(offsets.map((o) => o.offset)).toEqual([3, 4, 10]);
    expect(offsets[1]!.metadata).toBe('reset by a test');

    // A member that joins now starts where the offsets were moved to.
    const c = member('billing', 'app-c');
    const rc = reading(c);
    await until(() => rc.seen.length === 7 + 6);
    await c.close();
    await rc.loop;
    expect(rc.seen.filter((r) => r.partition === 0)[0]!.offset).toBe(3);

    const [deleted] = await admin.deleteGroups(['billing']);
    expect(deleted).toEqual({ groupId: 'billing' });
    const [again] = await admin.deleteGroups(['billing']);
    expect(again!.error?.name).toBe('GROUP_ID_NOT_FOUND');
    expect((await admin.listGroupOffsets('billing')).every((o) => o.offset === -1)).toBe(true);
  });

  it('knows groups that only commit offsets, and answers Dead for unknown ones', async () => {
    await admin.alterGroupOffsets('tool-only', [{ topic: 'pay', partition: 2, offset: 5 }]);
    const listed = await admin.listGroups();
    expect(listed.find((g) => g.groupId === 'tool-only')).toMatchObject({ protocolType: '' });
    const [unknown] = await admin.describeGroups(['never-seen']);
    expect(unknown).toMatchObject({ state: 'Dead', members: [], generationId: -1 });
    expect(() => admin.describeGroups([''])).toThrow(TypeError);
    await expect(
      admin.alterGroupOffsets('tool-only', [{ topic: 'pay', partition: 0, offset: -2 }]),
    ).rejects.toThrow(TypeError);
  });
});
