/**
 * Rebalances end to end, against the embedded broker's coordinator: the
 * callbacks' order (commit, then revoked, then assigned), max.poll.interval.ms
 * exceeded (the member leaves, says so, its commit fails, it rejoins), and a
 * member fenced by its session timeout (driven by the coordinator's manual
 * scheduler: no waiting for the session to run out).
 */
import { describe, expect, it } from 'vitest';
import { ManualScheduler } from '../src/broker/group/index.js';
import type { TopicPartition } from '../src/index.js';
import { groupTestBed, names, quietLogger, reader, take, until } from './client-group-support.js';

describe('rebalance callbacks', () => {
  it('commit before revoke, revoked before assigned; no record of a revoked partition afterwards', async () => {
    const bed = await groupTestBed();
    await bed.topic('jobs', 2, 10);
    const events: string[] = [];
    const owned = new Set<string>();
    const c1 = bed.consumer('workers', {
      autoCommitIntervalMs: 60_000, // only the commit before revoking
      onPartitionsAssigned: (tps) => {
        events.push(`assigned ${names(tps).join(',')}`);
        for (const n of names(tps)) owned.add(n);
      },
      onPartitionsRevoked: async (tps: TopicPartition[]) => {
        const committed = await c1.committed(tps);
        const positions = await Promise.all(tps.map((tp) => c1.position(tp)));
        const same = committed.every((c, i) => c.offset === positions[i]);
        events.push(`revoked ${names(tps).join(',')} ${same ? 'after committing' : 'UNCOMMITTED'}`);
        owned.clear();
      },
    });
    c1.subscribe(['jobs']);
    const it = c1[Symbol.asyncIterator]();
    await take(it, 5);
    const c2 = bed.consumer('workers');
    c2.subscribe(['jobs']);
    const r2 = reader(c2);
    await until(() => c1['group']!.membership.rejoinNeeded, 'c1 learns of the rebalance');
    const after = await take(it, 3); // the next poll rebalances, then hands out records
    expect(events).toEqual([
      'assigned jobs-0,jobs-1',
      'revoked jobs-0,jobs-1 after committing',
      `assigned ${names(c1.assignment()).join(',')}`,
    ]);
    expect(c1.assignment()).toHaveLength(1);
    for (const v of after) expect(owned).toContain(`jobs-${v.split(':')[0]}`);
    await c2.close();
    await r2.done;
  });
});

describe('while the application works', () => {
  it('heartbeats keep the member in the group past its session timeout', async () => {
    const bed = await groupTestBed();
    await bed.topic('long', 1, 10);
    const c = bed.consumer('patient', { sessionTimeoutMs: 100, heartbeatIntervalMs: 10 });
    c.subscribe(['long']);
    const it = c[Symbol.asyncIterator]();
    await take(it, 1);
    const before = c.groupMetadata();
    await new Promise((r) => setTimeout(r, 400)); // "processing" for four session timeouts
    await c.commit();
    expect(c.groupMetadata()).toEqual(before);
    expect(await take(it, 1)).toEqual(['0:1']);
  });

  it('position, seek, pause and resume work on the partitions the group assigned', async () => {
    const bed = await groupTestBed();
    await bed.topic('two', 2, 5);
    const c = bed.consumer('pausers');
    c.subscribe(['two']);
    const it = c[Symbol.asyncIterator]();
    await take(it, 1);
    const [p0, p1] = [0, 1].map((partition) => ({ topic: 'two', partition }));
    c.pause([p0!]);
    expect(c.paused()).toEqual([p0]);
    const got = await take(it, 3);
    expect(got.every((v) => v.startsWith('1:'))).toBe(true);
    c.resume([p0!]);
    c.seek(p1!, 4);
    expect(await c.position(p1!)).toBe(4);
    const rest = await take(it, 1 + (5 - (await c.position(p0!))));
    expect(rest.filter((v) => v.startsWith('1:'))).toEqual(['1:4']);
  });
});

describe('max.poll.interval.ms', () => {
  it('a stalled application: the member leaves and says so, its commit fails, it rejoins', async () => {
    const bed = await groupTestBed();
    await bed.topic('slow', 1, 10);
    const logger = quietLogger();
    const events: string[] = [];
    const c = bed.consumer('stalled', {
      maxPollIntervalMs: 150,
      enableAutoCommit: false,
      logger,
      onPartitionsLost: (tps) => void events.push(`lost ${names(tps).join(',')}`),
      onPartitionsRevoked: () => void events.push('revoked'),
    });
    c.subscribe(['slow']);
    const it = c[Symbol.asyncIterator]();
    expect(await take(it, 1)).toEqual(['0:0']);
    await c.commit();
    expect(await take(it, 1)).toEqual(['0:1']);
    // The application now "processes" 0:1 for longer than maxPollIntervalMs.
    await until(() => logger.warnings.length > 0, 'the warning');
    expect(logger.warnings[0]).toMatch(/max\.poll\.interval\.ms \(maxPollIntervalMs = 150\)/);
    expect(c.groupMetadata()).toMatchObject({ generationId: -1, memberId: '' });
    await expect(c.commit()).rejects.toMatchObject({
      code: 'CLIENT_COMMIT_FAILED',
      message: expect.stringContaining('max.poll.interval.ms'),
    });
    expect(await take(it, 1)).toEqual(['0:1']); // rejoined: from the last commit, so 0:1 again
    expect(events).toEqual(['lost slow-0']);
    expect(c.groupMetadata().generationId).toBeGreaterThan(0);
  });
});

describe('fencing', () => {
  it('a member whose session expired: UNKNOWN_MEMBER_ID, commit fails, partitions lost, rejoins', async () => {
    const scheduler = new ManualScheduler();
    const bed = await groupTestBed({ scheduler });
    await bed.topic('fenced', 1, 10);
    const events: string[] = [];
    const c = bed.consumer('sessions', {
      enableAutoCommit: false,
      onPartitionsLost: () => void events.push('lost'),
      onPartitionsRevoked: () => void events.push('revoked'),
    });
    c.subscribe(['fenced']);
    const it = c[Symbol.asyncIterator]();
    expect(await take(it, 2)).toEqual(['0:0', '0:1']);
    await c.commit();
    const { memberId } = c.groupMetadata();
    scheduler.advance(2001); // the session runs out on the coordinator's clock
    await until(() => c.groupMetadata().memberId === '', 'the heartbeat learns it');
    await expect(c.commit()).rejects.toMatchObject({ code: 'CLIENT_COMMIT_FAILED' });
    expect(await take(it, 1)).toEqual(['0:2']);
    expect(events).toEqual(['lost']);
    expect(c.groupMetadata().memberId).not.toBe(memberId);
    expect(c.groupMetadata().memberId).not.toBe('');
  });
});
