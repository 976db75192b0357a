/**
 * Consumer groups end to end, against the embedded broker's coordinator:
 * two members split a topic and hand over cleanly when one leaves; commits
 * give at-least-once delivery (processed and committed: never again;
 * processed, not committed: again); auto-commit on close; where a new group
 * starts (autoOffsetReset).
 */
import { describe, expect, it } from 'vitest';
import {
  type GroupTestBed,
  groupTestBed,
  names,
  reader,
  take,
  until,
} from './client-group-support.js';

describe.each(['range', 'roundrobin'] as const)('two members, %s', (assignor) => {
  it('split a 4-partition topic; when one leaves the other takes over from its commits', async () => {
    const bed: GroupTestBed = await groupTestBed();
    await bed.topic('orders', 4);
    const group = `split-${assignor}`;
    const options = { partitionAssignmentStrategy: [assignor], autoCommitIntervalMs: 50 };
    const c1 = bed.consumer(group, options);
    const c2 = bed.consumer(group, options);
    c1.subscribe(['orders']);
    c2.subscribe(['orders']);
    const r1 = reader(c1);
    const r2 = reader(c2, (seen) => seen.length === 3); // processes 3 records, then closes
    await until(() => c1.assignment().length === 2 && c2.assignment().length === 2, 'a 2+2 split');
    const split = [...names(c1.assignment()), ...names(c2.assignment())].sort();
    expect(split).toEqual(['orders-0', 'orders-1', 'orders-2', 'orders-3']);
    // range: contiguous; roundrobin: every other partition (member ids sort as the members do).
    const expected =
      assignor === 'range'
        ? [
            [0, 1],
            [2, 3],
          ]
        : [
            [0, 2],
            [1, 3],
          ];
    const parts = [c1, c2].map((c) =>
      c
        .assignment()
        .map((tp) => tp.partition)
        .sort(),
    );
    expect(parts.sort()).toEqual(expected);
    // Kafka's default client.id, so members are told apart in `groups describe`.
    const [described] = await bed.admin.describeGroups([group]);
    for (const m of described!.members) {
      expect(m.clientId).toMatch(new RegExp(`^consumer-${group}-\\d+$`));
      expect(m.memberId.startsWith(`${m.clientId}-`)).toBe(true);
    }

    await bed.produce('orders', [0, 1, 2, 3], 0, 10);
    await r2.done; // closed: its positions committed, the group left
    await until(() => c1.assignment().length === 4, 'c1 takes all four');
    await until(() => r1.seen.length + r2.seen.length >= 40, 'all 40 records');
    const all = [...r1.seen, ...r2.seen].map((s) => s.value).sort();
    expect(all).toHaveLength(40); // none twice: c1 started at c2's committed offsets
    expect(new Set(all).size).toBe(40);
    await c1.close();
    await r1.done;
    const committed = await bed
      .consumer(group)
      .committed([0, 1, 2, 3].map((partition) => ({ topic: 'orders', partition })));
    expect(committed.map((c) => c.offset)).toEqual([10, 10, 10, 10]);
  });
});

describe('delivery', () => {
  it('at-least-once: processed and committed is not redelivered; processed, not committed is', async () => {
    const bed = await groupTestBed();
    await bed.topic('payments', 1, 10);
    const first = bed.consumer('billing', { enableAutoCommit: false });
    first.subscribe(['payments']);
    const it = first[Symbol.asyncIterator]();
    expect(await take(it, 3)).toEqual(['0:0', '0:1', '0:2']);
    await first.commit(); // after processing 0..2
    expect(await take(it, 2)).toEqual(['0:3', '0:4']); // processed, then a crash before the commit
    await first.close(); // no auto-commit: nothing more is committed
    const second = bed.consumer('billing', { enableAutoCommit: false });
    second.subscribe(['payments']);
    expect(await take(second[Symbol.asyncIterator](), 2)).toEqual(['0:3', '0:4']);
  });

  it('close: commits (auto), then onPartitionsRevoked may still commit and read positions', async () => {
    const bed = await groupTestBed();
    await bed.topic('closing', 1, 10);
    const seen: string[] = [];
    const c = bed.consumer('closers', {
      onPartitionsRevoked: async (tps) => {
        const [committed] = await c.committed(tps);
        seen.push(`revoked at ${await c.position(tps[0]!)}, committed ${committed!.offset}`);
        await c.commit([{ ...tps[0]!, offset: 1 }]); // e.g. redo all but the first
      },
    });
    c.subscribe(['closing']);
    await take(c[Symbol.asyncIterator](), 3);
    await c.close();
    expect(seen).toEqual(['revoked at 3, committed 3']);
    const [after] = await bed.consumer('closers').committed([{ topic: 'closing', partition: 0 }]);
    expect(after!.offset).toBe(1);
    expect(() => c.assignment()).not.toThrow();
    expect(() => c.subscribe(['closing'])).toThrow(/closed/);
  });

  it('auto-commit commits the position on close', async () => {
    const bed = await groupTestBed();
    await bed.topic('events', 1, 10);
    const first = bed.consumer('audit', { autoCommitIntervalMs: 60_000 });
    first.subscribe(['events']);
    let n = 0;
    for await (const r of first) {
      expect(r.value).toBe(`0:${n}`);
      if (++n === 4) break; // leaving the loop closes the consumer, which commits 4
    }
    const [committed] = await bed.consumer('audit').committed([{ topic: 'events', partition: 0 }]);
    expect(committed!.offset).toBe(4);
    const second = bed.consumer('audit');
    second.subscribe(['events']);
    expect(await take(second[Symbol.asyncIterator](), 1)).toEqual(['0:4']);
  });

  it("autoOffsetReset: 'earliest' from the start, 'latest' from the end, 'none' fails naming the partition", async () => {
    const bed = await groupTestBed();
    await bed.topic('resets', 1, 5);
    const earliest = bed.consumer('from-start', { autoOffsetReset: 'earliest' });
    earliest.subscribe(['resets']);
    expect(await take(earliest[Symbol.asyncIterator](), 1)).toEqual(['0:0']);

    let assigned = false;
    const latest = bed.consumer('from-end', {
      autoOffsetReset: 'latest',
      onPartitionsAssigned: () => void (assigned = true),
    });
    latest.subscribe(['resets']);
    const it = latest[Symbol.asyncIterator]();
    const next = take(it, 1);
    await until(() => assigned && latest['group']!.positionsPending === false);
    expect(await latest.position({ topic: 'resets', partition: 0 })).toBe(5);
    await bed.produce('resets', [0], 5, 1);
    expect(await next).toEqual(['0:5']);

    const none = bed.consumer('nowhere', { autoOffsetReset: 'none' });
    none.subscribe(['resets']);
    await expect(take(none[Symbol.asyncIterator](), 1)).rejects.toMatchObject({
      code: 'CLIENT_NO_OFFSET',
      message: expect.stringContaining("resets-0 has no committed offset in group 'nowhere'"),
    });
  });
});
