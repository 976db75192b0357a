/**
 * A cleaning pass and the log's other work in the same process: appends and
 * reads go on while it runs, a second pass waits for the first, and
 * retention, truncation or close cut a pass short without losing anything.
 */
import { describe, expect, it } from 'vitest';
import { Log, decodeBatches } from '../src/log/index.js';
import { plain, readAll, rec } from './support/records.js';
import { tempDir } from './support/temp.js';
import { cleanerTestHooks } from '../src/log/cleaner/cleaner.js';
import {
  type ModelRecord,
  TestClock,
  applyPass,
  compacted,
  expectContiguous,
  stripModel,
  temporaryFiles,
} from './cleaner-support.js';

describe('a pass and the rest of the log', () => {
  /** 3000 batches in segments of 16 KiB, or with `oneGroup` in rolled segments that merge into one. */
  async function bigLog(clock: TestClock, oneGroup = false) {
    const dir = tempDir('samsa-cleaner-busy-');
    const segmentBytes = oneGroup ? 64 * 1024 * 1024 : 16 * 1024;
    const config = compacted({ 'segment.bytes': segmentBytes, 'index.interval.bytes': 512 });
    const log = await Log.open(dir, config, { clock: clock.read });
    const history: ModelRecord[] = [];
    const append = () => {
      const records = [0, 1, 2].map((i) => rec(`k${(log.logEndOffset + i) % 50}`, `v${i}`));
      const { baseOffset } = log.append(records);
      records.forEach((r, i) =>
        history.push({
          offset: baseOffset + i,
          timestamp: clock.now,
          key: r.key!.toString('hex'),
          value: r.value!.toString('hex'),
        }),
      );
    };
    for (let i = 0; i < 3000; i++) {
      append();
      if (oneGroup && i % 500 === 499) log.roll();
    }
    log.roll();
    return { dir, config, log, history, append };
  }

  it('lets appends and reads go on while it runs, and still cleans by the rule', async () => {
    const clock = new TestClock();
    const { log, history, append } = await bigLog(clock);
    let done = false;
    const pass = log.compact({ force: true });
    void pass.finally(() => (done = true));
    let turns = 0;
    while (!done) {
      append();
      const offset = (turns * 997) % log.logEndOffset;
      for (const batch of decodeBatches(log.read(offset, { maxBytes: 4096 }))) {
        for (const r of batch.records)
          expect(plain(r)).toEqual(stripModel([history[r.offset]!])[0]);
      }
      turns++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    const stats = await pass;
    expect(turns).toBeGreaterThan(5);
    expect(stats.segmentsRead).toBeGreaterThan(1);
    const model = applyPass(history, stats.end, clock.now, 0);
    expect(readAll(log, 0, 64 * 1024)).toEqual(stripModel(model));
    expectContiguous(log);
    await log.close();
  });

  it('runs a second pass asked for meanwhile after the first, not beside it', async () => {
    const { log } = await bigLog(new TestClock());
    const [first, second] = await Promise.all([
      log.compact({ force: true }),
      log.compact({ force: true }),
    ]);
    expect(first.skipped).toBeUndefined();
    expect(second.recordsRead).toBe(first.recordsKept); // it read what the first one left
    expect(second.recordsKept).toBe(second.recordsRead); // nothing left to drop
    await log.close();
  });

  /** What a log must still hold after a pass that the log's other work cut short. */
  function expectNothingLost(log: Log, history: readonly ModelRecord[]) {
    const survivors = readAll(log, log.logStartOffset, 64 * 1024);
    for (const r of survivors) expect(r).toEqual(stripModel([history[r.offset]!])[0]);
    const latest = new Map(history.map((r) => [r.key, r.offset]));
    for (const offset of latest.values()) {
      if (offset >= log.logStartOffset && offset < log.logEndOffset)
        expect(survivors.some((r) => r.offset === offset)).toBe(true);
    }
    expectContiguous(log);
  }

  it('stops when retention deletes the segments it is cleaning', async () => {
    const clock = new TestClock();
    const { dir, config, log, history } = await bigLog(clock, true);
    const target = log.segments[2]!.baseOffset;
    let deletion: Promise<number> | undefined;
    // Deterministic, not a race: right after the first group's files are
    // written, the start offset moves (synchronously) and retention deletes the
    // segments below it (synchronously too), before the swap checks the log.
    cleanerTestHooks.afterStep = (step) => {
      if (step !== 1) return;
      cleanerTestHooks.afterStep = undefined;
      deletion = log.deleteRecordsBefore(target);
      void log.enforceRetention();
    };
    try {
      expect((await log.compact({ force: true })).skipped).toMatch(/changed during the pass/);
    } finally {
      cleanerTestHooks.afterStep = undefined;
    }
    const start = await deletion!;
    expect(start).toBe(target);
    expectNothingLost(log, history);
    await log.close();
    const reopened = await Log.open(dir, config, { clock: clock.read });
    expect(reopened.logStartOffset).toBe(start);
    expectNothingLost(reopened, history);
    expect(temporaryFiles(dir)).toEqual([]);
    await reopened.close();
  });

  it('gives the group up at step 2 when a truncation took its segments', async () => {
    const clock = new TestClock();
    const { dir, config, log, history } = await bigLog(clock, true);
    const cut = log.segments[3]!.baseOffset + 10;
    cleanerTestHooks.afterStep = (step) => {
      if (step === 1) log.truncateTo(cut);
    };
    try {
      expect((await log.compact({ force: true })).skipped).toMatch(/changed during the pass/);
    } finally {
      cleanerTestHooks.afterStep = undefined;
    }
    expect(temporaryFiles(dir)).toEqual([]);
    expect(log.logEndOffset).toBeLessThanOrEqual(cut); // a straddling batch goes whole
    const kept = history.slice(0, log.logEndOffset);
    expectNothingLost(log, kept);
    await log.close();
    const reopened = await Log.open(dir, config, { clock: clock.read });
    expectNothingLost(reopened, kept);
    await reopened.close();
  });

  it('gives up cleanly when the log closes during a pass', async () => {
    const clock = new TestClock();
    const { dir, config, log, history } = await bigLog(clock);
    const pass = log.compact({ force: true });
    await new Promise((resolve) => setImmediate(resolve));
    await log.close();
    const stats = await pass;
    expect(stats.skipped ?? 'stopped early').toMatch(/changed during the pass|stopped early/);
    const reopened = await Log.open(dir, config, { clock: clock.read });
    const survivors = readAll(reopened, 0, 64 * 1024);
    const latest = new Map(history.map((r) => [r.key, r.offset]));
    for (const r of survivors) expect(r).toEqual(stripModel([history[r.offset]!])[0]);
    for (const offset of latest.values())
      expect(survivors.some((r) => r.offset === offset)).toBe(true);
    expect(temporaryFiles(dir)).toEqual([]);
    await reopened.close();
  });
});
