import {
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { Log, decodeBatches, decodeRecords } from '../src/log/index.js';
import { Segment } from '../src/log/segment.js';
import { tempDir } from './support/temp.js';
import { readAll, rec } from './support/records.js';
import { fill, small } from './log-support.js';

describe('Flushing', () => {
  it('shares one fsync among many flush calls made while one runs (group commit)', async () => {
    const log = await Log.open(tempDir());
    const spy = vi.spyOn(Segment.prototype, 'flush');
    const flushes: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) {
      log.append([rec('k', `v${i}`)]);
      flushes.push(log.flush());
    }
    await Promise.all(flushes);
    expect(spy.mock.calls.length).toBeLessThanOrEqual(2);
    expect(log.recoveryPoint).toBe(50);
    spy.mockRestore();
    await log.close();
  });

  it('flushes by itself after flush.messages records, and after flush.ms', async () => {
    const log = await Log.open(tempDir(), { 'flush.messages': 10 });
    fill(log, 3, 3);
    expect(log.recoveryPoint).toBe(0);
    fill(log, 1, 3);
    await vi.waitFor(() => expect(log.recoveryPoint).toBe(12));
    await log.close();
    const timed = await Log.open(tempDir(), { 'flush.ms': 20 });
    fill(timed, 1, 1);
    await vi.waitFor(() => expect(timed.recoveryPoint).toBe(1));
    await timed.close();
  });

  it('records the recovery point and log start offset in a checkpoint file', async () => {
    const dir = tempDir();
    const log = await Log.open(dir, {}, { checkpointIntervalMs: 0 });
    fill(log, 2);
    await log.flush();
    expect(readFileSync(join(dir, 'checkpoint'), 'utf8')).toMatch(
      /^0\nrecovery-point 6\nlog-start-offset 0\ncleaner-offset 0\ncrc [0-9a-f]{8}\n$/,
    );
    await log.close();
  });

  it('rewrites the checkpoint at most every checkpointIntervalMs, and always at close', async () => {
    const dir = tempDir();
    let now = 1000;
    const log = await Log.open(dir, {}, { clock: () => now, checkpointIntervalMs: 60_000 });
    fill(log, 2);
    await log.flush();
    expect(log.recoveryPoint).toBe(6);
    expect(existsSync(join(dir, 'checkpoint'))).toBe(false);
    now += 60_000;
    fill(log, 1);
    await log.flush();
    expect(readFileSync(join(dir, 'checkpoint'), 'utf8')).toContain('recovery-point 9\n');
    fill(log, 1);
    await log.close();
    expect(readFileSync(join(dir, 'checkpoint'), 'utf8')).toContain('recovery-point 12\n');
  });

  it('ignores a checkpoint whose CRC fails, and recovers everything from offset 0', async () => {
    const dir = tempDir();
    let log = await Log.open(dir, small);
    fill(log, 10);
    await log.close();
    const path = join(dir, 'checkpoint');
    writeFileSync(
      path,
      readFileSync(path, 'utf8').replace('log-start-offset 0', 'log-start-offset 1'),
    );
    log = await Log.open(dir, small);
    expect([log.logStartOffset, log.logEndOffset]).toEqual([0, 30]);
    await log.close();
  });
});

describe('Open and recovery housekeeping', () => {
  it('rebuilds missing or garbage indexes from the log', async () => {
    const dir = tempDir();
    let log = await Log.open(dir, small);
    fill(log, 40);
    const before = readAll(log, 0);
    const entries = log.segments.map((s) => s.indexEntries);
    await log.close();
    const files = readdirSync(dir);
    for (const f of files.filter((n) => n.endsWith('.index'))) rmSync(join(dir, f));
    for (const f of files.filter((n) => n.endsWith('.timeindex')))
      writeFileSync(join(dir, f), Buffer.alloc(36, 0xab));
    log = await Log.open(dir, small);
    expect(readAll(log, 0)).toEqual(before);
    expect(log.offsetForTimestamp(1200)).toBe(60);
    for (let o = 0; o < 120; o += 7)
      expect(decodeRecords(log.read(o, { maxBytes: 1 })).at(-1)!.offset).toBeGreaterThanOrEqual(o);
    await log.close();
    log = await Log.open(dir, small);
    expect(log.segments.map((s) => s.indexEntries)).toEqual(entries);
    await log.close();
  });

  it('rebuilds a deleted or shortened index of a flushed segment, final time entries included', async () => {
    const dir = tempDir();
    let log = await Log.open(dir, small);
    fill(log, 40);
    await log.close();
    log = await Log.open(dir, small);
    const before = log.segments.map((s) => [s.indexEntries, s.timeIndexEntries]);
    await log.close();
    const names = readdirSync(dir);
    rmSync(
      join(
        dir,
        names.find((n) => n.endsWith('.index'))!,
      ),
    );
    const timeIndex = join(dir, names.filter((n) => n.endsWith('.timeindex'))[1]!);
    truncateSync(timeIndex, 12);
    log = await Log.open(dir, small);
    expect(log.segments.map((s) => [s.indexEntries, s.timeIndexEntries])).toEqual(before);
    await log.close();
  });

  it('removes leftover temporary files and orphan indexes', async () => {
    const dir = tempDir();
    let log = await Log.open(dir);
    fill(log, 1);
    await log.close();
    for (const name of [
      '00000000000000000000.log.deleted',
      'x.cleaned',
      'checkpoint.tmp',
      '00000000000000000099.index',
    ]) {
      writeFileSync(join(dir, name), 'junk');
    }
    log = await Log.open(dir);
    expect(readdirSync(dir).sort()).toEqual([
      '00000000000000000000.index',
      '00000000000000000000.log',
      '00000000000000000000.timeindex',
      'checkpoint',
      'leader-epoch-checkpoint', // rebuilt from the batch headers (none stamped: no epochs)
    ]);
    expect(log.logEndOffset).toBe(3);
    await log.close();
  });

  it('says in plain words where recovery cut the log, naming the byte in the file', async () => {
    const dir = tempDir();
    let log = await Log.open(dir);
    fill(log, 5);
    const path = log.segments[0]!.path;
    log.abandon();
    const third = decodeBatches(readFileSync(path))[2]!;
    const bytes = readFileSync(path);
    bytes[third.position + 40]! ^= 0x10;
    writeFileSync(path, bytes);
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (m: string) => warnings.push(m) };
    log = await Log.open(dir, {}, { logger });
    expect(log.logEndOffset).toBe(6);
    expect(warnings.join('\n')).toContain(`batch at byte ${third.position} fails its CRC`);
    await log.close();
  });

  it('a torn tail in the active segment is cut and appends continue after it', async () => {
    const dir = tempDir();
    let log = await Log.open(dir);
    fill(log, 5);
    const path = log.segments[0]!.path;
    log.abandon();
    truncateSync(path, readFileSync(path).length - 5);
    log = await Log.open(dir);
    expect(log.logEndOffset).toBe(12);
    expect(log.append([rec('a', 'b')]).baseOffset).toBe(12);
    await log.close();
    expect(existsSync(path)).toBe(true);
  });
});
