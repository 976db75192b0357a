/**
 * Retention: the pure planner against a tiny model, then the log's behaviour
 * with an injected clock: by time, by size, by DeleteRecords, under an upper
 * bound, across restarts and crashes.
 */
import { readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Log, planRetention } from '../src/log/index.js';
import { readAll, rec } from './support/records.js';
import { tempDir } from './support/temp.js';

const DAY = 24 * 60 * 60 * 1000;

describe('planRetention', () => {
  const segmentArb = fc.record({
    records: fc.integer({ min: 1, max: 50 }),
    size: fc.integer({ min: 1, max: 1000 }),
    maxTimestamp: fc.integer({ min: 0, max: 100 }),
  });
  const inputArb = fc.record({
    segments: fc.array(segmentArb, { minLength: 1, maxLength: 12 }),
    retentionMs: fc.integer({ min: -1, max: 100 }),
    retentionBytes: fc.integer({ min: -1, max: 5000 }),
    policy: fc.constantFrom('delete', 'compact', 'compact,delete'),
    now: fc.integer({ min: 0, max: 200 }),
    startChoice: fc.nat(),
    boundChoice: fc.nat(),
  });

  it('deletes a prefix of whole, inactive segments, each for a reason that holds, and no more than it may', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        let base = 0;
        const segments = input.segments.map((s) => {
          const segment = {
            baseOffset: base,
            nextOffset: base + s.records,
            size: s.size,
            maxTimestamp: s.maxTimestamp,
          };
          base += s.records;
          return segment;
        });
        const logEnd = base;
        const logStartOffset = input.startChoice % (logEnd + 1);
        const upperBound = input.boundChoice % (logEnd + 1);
        const config = {
          'retention.ms': input.retentionMs,
          'retention.bytes': input.retentionBytes,
          'cleanup.policy': input.policy,
        };
        const plan = planRetention({
          segments,
          config,
          now: input.now,
          logStartOffset,
          upperBound,
        });

        // The model: walk oldest first, stop at the first segment that must stay.
        const deletes = input.policy.includes('delete');
        let remaining = segments.reduce((n, s) => n + s.size, 0);
        let expected = 0;
        for (const s of segments.slice(0, -1)) {
          if (s.nextOffset > upperBound) break;
          const byStart = s.nextOffset <= logStartOffset;
          const bySize =
            deletes && input.retentionBytes >= 0 && remaining - s.size >= input.retentionBytes;
          const byTime =
            deletes && input.retentionMs >= 0 && input.now - s.maxTimestamp > input.retentionMs;
          if (!byStart && !bySize && !byTime) break;
          remaining -= s.size;
          expected++;
        }
        expect(plan.count).toBe(expected);
        expect(plan.reasons).toHaveLength(plan.count);
        expect(plan.count).toBeLessThan(segments.length); // never the active segment
        for (let i = 0; i < plan.count; i++)
          expect(segments[i]!.nextOffset).toBeLessThanOrEqual(upperBound);
        if (!deletes) expect(plan.reasons.every((r) => r === 'log-start-offset')).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

/** A log with one segment per "day" of records, the clock at `now`. */
async function dailyLog(dir: string, days: number, config: Record<string, unknown> = {}) {
  const clock = { now: 0 };
  const log = await Log.open(
    dir,
    { 'segment.bytes': 1 << 20, ...config },
    { clock: () => clock.now },
  );
  for (let d = 0; d < days; d++) {
    log.append([rec(`k${d}a`, `day ${d}`, d * DAY), rec(`k${d}b`, `day ${d}`, d * DAY + 1)]);
    log.roll();
  }
  clock.now = days * DAY;
  return { log, clock };
}

describe('Log retention', () => {
  it('deletes whole segments older than retention.ms, oldest first, never the active one', async () => {
    const dir = tempDir();
    const { log, clock } = await dailyLog(dir, 5, { 'retention.ms': 2 * DAY });
    clock.now = 5 * DAY - 10; // day 3 (offsets 6, 7) is 2 days minus 11 ms old: it stays
    const result = await log.enforceRetention();
    expect(result.deleted.map((s) => [s.baseOffset, s.reason])).toEqual([
      [0, 'retention.ms'],
      [2, 'retention.ms'],
      [4, 'retention.ms'],
    ]);
    expect(log.logStartOffset).toBe(6);
    expect(log.segments.map((s) => s.baseOffset)).toEqual([6, 8, 10]);
    expect(readdirSync(dir).filter((n) => n.endsWith('.log'))).toHaveLength(3);
    expect(() => log.read(5)).toThrow(expect.objectContaining({ code: 'LOG_OFFSET_OUT_OF_RANGE' }));
    expect(readAll(log, 6).map((r) => r.offset)).toEqual([6, 7, 8, 9]);
    clock.now = 100 * DAY;
    expect((await log.enforceRetention()).deleted).toHaveLength(2);
    expect(log.segments).toHaveLength(1); // the active one stays, even empty and old
    await log.close();
  });

  it('deletes the oldest segments while the log is larger than retention.bytes', async () => {
    const { log } = await dailyLog(tempDir(), 6);
    const sizes = log.segments.map((s) => s.size);
    const total = sizes.reduce((a, b) => a + b, 0);
    await log.close();
    const dir2 = tempDir();
    const again = await dailyLog(dir2, 6, { 'retention.bytes': total - sizes[0]! - sizes[1]! });
    const result = await again.log.enforceRetention();
    expect(result.deleted.map((s) => s.reason)).toEqual(['retention.bytes', 'retention.bytes']);
    expect(again.log.size).toBeLessThanOrEqual(total - sizes[0]! - sizes[1]!);
    await again.log.close();
  });

  it('never deletes a segment holding an offset at or above the upper bound', async () => {
    const { log, clock } = await dailyLog(tempDir(), 5, { 'retention.ms': 0 });
    clock.now = 1000 * DAY;
    const result = await log.enforceRetention({ upperBound: 5 });
    expect(result.deleted.map((s) => s.baseOffset)).toEqual([0, 2]); // [4, 5] holds 5
    expect(log.logStartOffset).toBe(4);
    await log.close();
  });

  it('a compacted log keeps its data: time and size do not apply, DeleteRecords does', async () => {
    const { log, clock } = await dailyLog(tempDir(), 4, {
      'cleanup.policy': 'compact',
      'retention.ms': 0,
      'retention.bytes': 0,
    });
    clock.now = 1000 * DAY;
    expect((await log.enforceRetention()).deleted).toEqual([]);
    expect(await log.deleteRecordsBefore(4)).toBe(4);
    expect(log.segments.map((s) => s.baseOffset)).toEqual([4, 6, 8]);
    await log.close();
  });

  it('DeleteRecords moves the start inside a segment, which goes only when wholly below; both survive a restart', async () => {
    const dir = tempDir();
    const { log } = await dailyLog(dir, 4);
    expect(await log.deleteRecordsBefore(3)).toBe(3);
    expect(log.segments.map((s) => s.baseOffset)).toEqual([2, 4, 6, 8]);
    expect(() => log.read(2)).toThrow(expect.objectContaining({ code: 'LOG_OFFSET_OUT_OF_RANGE' }));
    expect(readAll(log, 3)[0]!.offset).toBe(3);
    expect(await log.deleteRecordsBefore(1)).toBe(3); // never backwards
    await expect(log.deleteRecordsBefore(99)).rejects.toThrow(
      expect.objectContaining({ code: 'LOG_OFFSET_OUT_OF_RANGE' }),
    );
    log.abandon(); // a crash: the start offset was checkpointed when it moved
    const reopened = await Log.open(dir, { 'segment.bytes': 1 << 20 });
    expect(reopened.logStartOffset).toBe(3);
    expect(readAll(reopened, 3).map((r) => r.offset)).toEqual([3, 4, 5, 6, 7]);
    await reopened.close();
  });

  it('checkpoint writes that overlap all land, the last one winning', async () => {
    const dir = tempDir();
    const { log } = await dailyLog(dir, 4);
    await Promise.all([
      log.deleteRecordsBefore(2),
      log.deleteRecordsBefore(5),
      log.enforceRetention(),
    ]);
    expect(log.logStartOffset).toBe(5);
    log.abandon();
    const reopened = await Log.open(dir);
    expect(reopened.logStartOffset).toBe(5);
    expect(readdirSync(dir).some((n) => n.endsWith('.tmp'))).toBe(false);
    await reopened.close();
  });

  it('finishes a deletion that a crash interrupted (files renamed .deleted)', async () => {
    const dir = tempDir();
    const { log } = await dailyLog(dir, 3);
    log.abandon();
    for (const name of readdirSync(dir).filter((n) => n.startsWith('00000000000000000000.'))) {
      renameSync(join(dir, name), join(dir, name + '.deleted'));
    }
    writeFileSync(join(dir, 'checkpoint'), 'garbage');
    const reopened = await Log.open(dir);
    expect(reopened.logStartOffset).toBe(2);
    expect(readdirSync(dir).some((n) => n.endsWith('.deleted'))).toBe(false);
    expect(readAll(reopened, 2).map((r) => r.offset)).toEqual([2, 3, 4, 5]);
    await reopened.close();
  });
});
