/**
 * A cleaning pass stopped at each step of its swap (a test hook throws there,
 * then the log is abandoned as a killed process would leave it) must reopen
 * as the state before the swap or the state after it, never a mix, never a
 * loss: before the commit point (steps 1 and 2) exactly the state before,
 * from it on (steps 3 to 7) exactly the state after. Then the same with
 * SIGKILL at random moments of a child process that appends and compacts.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type LogConfig, Log, silentLogger } from '../src/log/index.js';
import { type SwapStep, cleanerTestHooks } from '../src/log/cleaner/cleaner.js';
import { type Plain, readAll, rec } from './support/records.js';
import { tempDir } from './support/temp.js';
import { TestClock, allBatches, expectContiguous, temporaryFiles } from './cleaner-support.js';

const STEPS: SwapStep[] = [1, 2, 3, 4, 5, 6, 7];

afterEach(() => {
  cleanerTestHooks.afterStep = undefined;
});

function configFor(segmentBytes: number): Partial<LogConfig> {
  return {
    'cleanup.policy': 'compact',
    'segment.bytes': segmentBytes,
    'index.interval.bytes': 128,
    'delete.retention.ms': 500,
  };
}

/**
 * The same log every time: keys k0..k5, some tombstones, some gzip batches,
 * a segment rolled every ten batches, and a first pass halfway whose
 * tombstone horizons have passed by the time the pass under test runs.
 */
async function build(dir: string, config: Partial<LogConfig>): Promise<Log> {
  const clock = new TestClock();
  const log = await Log.open(dir, config, { clock: clock.read });
  for (let b = 0; b < 60; b++) {
    const records = [];
    for (let i = 0; i <= b % 4; i++) {
      const n = b * 7 + i;
      records.push(rec(`k${n % 6}`, n % 9 === 0 ? null : `value-${n}`));
    }
    log.append(records, { compression: b % 5 === 0 ? 'gzip' : 'none' });
    if (b % 10 === 9) log.roll();
    if (b === 29) {
      await log.compact({ force: true });
      clock.now += 600;
    }
  }
  log.append([rec('k0', 'active')]);
  return log;
}

const crash = new Error('simulated crash');

/** The temporary files a stop right after each step leaves: what recovery has to finish or undo. */
const LEFT_AFTER: Record<SwapStep, RegExp[]> = {
  1: [/\.log\.cleaned$/, /\.index\.cleaned$/, /\.timeindex\.cleaned$/],
  2: [/\.log\.cleaned$/, /\.index\.cleaned$/, /\.timeindex\.cleaned$/],
  3: [/\.log\.swap$/, /\.index\.swap$/, /\.timeindex\.swap$/],
  4: [/\.log\.swap$/, /\.log\.deleted$/],
  5: [/\.log\.deleted$/],
  6: [/\.log\.deleted$/],
  7: [],
};

/** Abandons the log as a crash would, reopens it, and returns what it holds. */
async function reopenAfterCrash(
  log: Log,
  dir: string,
  config: Partial<LogConfig>,
  step?: SwapStep,
) {
  log.abandon();
  const left = temporaryFiles(dir);
  if (step !== undefined) {
    for (const pattern of LEFT_AFTER[step]) expect(left.some((n) => pattern.test(n))).toBe(true);
    if (step === 7) expect(left).toEqual([]);
  }
  const said: string[] = [];
  const logger = { ...silentLogger, info: (line: string) => said.push(line) };
  const reopened = await Log.open(dir, config, { logger });
  if (step === 3)
    expect(said.join('\n')).toMatch(/finished an interrupted cleaner swap .* replaces /);
  if (step === 4) expect(said.join('\n')).toMatch(/finished an interrupted .* already set aside/);
  if (step !== undefined && step <= 2) expect(said.join('\n')).toMatch(/\.log\.cleaned/);
  try {
    expect(temporaryFiles(dir)).toEqual([]);
    expectContiguous(reopened);
    return readAll(reopened, reopened.logStartOffset, 4096);
  } finally {
    await reopened.close();
  }
}

/** The state after the pass stopped right after step 7 of group g (-1: before the pass), per g. */
async function statesByGroup(config: Partial<LogConfig>) {
  const dir = tempDir('samsa-cleaner-ref-');
  const log = await build(dir, config);
  const before = readAll(log, 0, 4096);
  const groups: number[] = [];
  cleanerTestHooks.afterStep = (step, base) => {
    if (step === 1) groups.push(base);
  };
  await log.compact({ force: true });
  cleanerTestHooks.afterStep = undefined;
  const after = readAll(log, 0, 4096);
  await log.close();
  const states: Plain[][] = [before];
  for (let g = 0; g < groups.length - 1; g++) {
    const partial = tempDir('samsa-cleaner-ref-');
    const stopped = await build(partial, config);
    cleanerTestHooks.afterStep = (step, base) => {
      if (step === 7 && base === groups[g]) throw crash;
    };
    await expect(stopped.compact({ force: true })).rejects.toBe(crash);
    cleanerTestHooks.afterStep = undefined;
    states.push(await reopenAfterCrash(stopped, partial, config));
  }
  states.push(after);
  cleanerTestHooks.afterStep = undefined;
  return { groups, states };
}

describe('a pass stopped at each step of its swap', () => {
  for (const [name, segmentBytes] of [
    ['one group', 1024 * 1024],
    ['several groups', 700],
  ] as const) {
    it(`reopens as before or after the swap (${name})`, async () => {
      const config = configFor(segmentBytes);
      const { groups, states } = await statesByGroup(config);
      if (name === 'one group') expect(groups).toHaveLength(1);
      else expect(groups.length).toBeGreaterThan(2);
      expect(states[0]).not.toEqual(states[states.length - 1]);
      for (const g of [0, 1, groups.length - 1].slice(0, groups.length)) {
        for (const step of STEPS) {
          const dir = tempDir('samsa-cleaner-crash-');
          const log = await build(dir, config);
          cleanerTestHooks.afterStep = (at, base) => {
            if (at === step && base === groups[g]) throw crash;
          };
          await expect(log.compact({ force: true })).rejects.toBe(crash);
          cleanerTestHooks.afterStep = undefined;
          const survived = await reopenAfterCrash(log, dir, config, step);
          // states[g] is the state before group g's swap, states[g + 1] the one after it.
          expect(survived, `group ${g}, step ${step}`).toEqual(states[step < 3 ? g : g + 1]);
        }
      }
    });
  }
});

const writer = join(import.meta.dirname, 'fixtures', 'cleaner-writer.mjs');

/** What the writer's record at `offset` holds (see the fixture). */
function expected(offset: number) {
  const value = offset % 11 === 0 ? null : Buffer.from(`value-${offset}`).toString('hex');
  return { key: Buffer.from(`k${offset % 13}`).toString('hex'), value };
}

interface Kill {
  /** Kill right after this step of a swap of the `passes`-th pass (the writer stalls there)... */
  step?: SwapStep;
  /** ...or this many ms after the `passes`-th pass starts. */
  delayMs?: number;
  passes: number;
}

/** Runs the writer and kills it as `kill` says; returns the log end offset it had reached. */
function runAndKill(dir: string, kill: Kill): Promise<number> {
  return new Promise((resolve, reject) => {
    const args = kill.step === undefined ? [] : [String(kill.step), String(kill.passes)];
    const child = spawn(process.execPath, [writer, dir, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let started = 0;
    let appended = 0;
    let stderr = '';
    let overdue = false;
    const guard = setTimeout(() => {
      overdue = true; // the kill never came: do not leave the writer running
      child.kill('SIGKILL');
    }, 20_000);
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n')) {
        const m = /^appended (\d+)$/.exec(line);
        if (m) {
          appended = Number(m[1]);
          if (++started === kill.passes && kill.delayMs !== undefined)
            setTimeout(() => child.kill('SIGKILL'), kill.delayMs);
        } else if (line === 'stalled') {
          child.kill('SIGKILL');
        }
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      if (overdue) reject(new Error(`the writer never reached ${JSON.stringify(kill)}`));
      else if (signal === 'SIGKILL') resolve(appended);
      else reject(new Error(`writer exited with ${code}: ${stderr}`));
    });
  });
}

describe('kill -9 during compaction', () => {
  it('reopens with every record either kept by the rule or never dropped, in order', async () => {
    const dir = tempDir('samsa-cleaner-kill-');
    const config = { 'cleanup.policy': 'compact', 'segment.bytes': 4096 };
    let seed = 7;
    const random = (n: number) => (seed = (seed * 48271) % 2147483647) % n;
    const kills: Kill[] = STEPS.map((step) => ({ step, passes: 1 + random(3) }));
    for (let i = 0; i < 4; i++) kills.push({ passes: 1 + random(3), delayMs: random(12) });
    for (const kill of kills) {
      const appended = await runAndKill(dir, kill);
      const log = await Log.open(dir, config);
      try {
        expect(log.logEndOffset).toBeGreaterThanOrEqual(appended);
        expectContiguous(log);
        const survivors = allBatches(log).flatMap((b) => b.records);
        let previous = -1;
        for (const r of survivors) {
          expect(r.offset).toBeGreaterThan(previous);
          previous = r.offset;
          expect({
            key: r.key!.toString('hex'),
            value: r.value && r.value.toString('hex'),
          }).toEqual(expected(r.offset));
        }
        // No loss: the latest record of every key is still there (tombstones last a day).
        const held = new Set(survivors.map((r) => r.offset));
        for (let key = 0; key < 13; key++) {
          let latest = log.logEndOffset - 1;
          while (latest >= 0 && latest % 13 !== key) latest--;
          if (latest >= 0)
            expect(held.has(latest), `latest offset ${latest} of k${key}`).toBe(true);
        }
        expect(temporaryFiles(dir)).toEqual([]);
      } finally {
        await log.close();
      }
    }
  });
});
