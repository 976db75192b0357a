/**
 * `samsa log compact` and `samsa log retention`, run as a user runs them: the
 * compiled bin in a child process (`npm test` runs tsc first, so dist/ is
 * there), on logs built here with the Log API, checked against what is left
 * on disk (inspectLog) and against `samsa dump-log` afterwards.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppendRecord, Log, inspectLog, segmentFileName } from '../src/log/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'dist', 'bin', 'samsa.js');
const START = 1_700_000_000_000;
const HOUR = 60 * 60 * 1000;

let work: string;
/** 40 batches of one 100-byte record, 4 per segment: 10 segments, timestamps START + i hours. */
let plain: string;
/** A compacted log: 'hot' rewritten at every even offset, a unique key at every odd one. */
let keyed: string;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function samsa(...args: string[]): Run {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function copyOf(source: string, name: string): string {
  const dir = join(work, name);
  cpSync(source, dir, { recursive: true });
  return dir;
}

function json<T = Record<string, unknown>>(run: Run): T {
  expect(run.stdout.trim().split('\n')).toHaveLength(1);
  return JSON.parse(run.stdout) as T;
}

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run tsc (npm test does) first`);
  work = mkdtempSync(join(tmpdir(), 'samsa-cli-log-'));

  plain = join(work, 'plain');
  // Each batch is 172 or 173 bytes: four fit in 720.
  const log = await Log.open(plain, { 'segment.bytes': 720 });
  for (let i = 0; i < 40; i++)
    log.append([{ key: Buffer.from(`k${i}`), value: Buffer.alloc(100, i) }], {
      timestamp: START + i * HOUR,
    });
  await log.close();

  keyed = join(work, 'keyed');
  const compacted = await Log.open(keyed, { 'segment.bytes': 1024, 'cleanup.policy': 'compact' });
  for (let i = 0; i < 60; i++) {
    const record: AppendRecord =
      i % 2 === 0
        ? { key: Buffer.from('hot'), value: Buffer.from(`hot-${i}`) }
        : { key: Buffer.from(`u${i}`), value: Buffer.from(`unique-${i}`) };
    compacted.append([record], { timestamp: START + i });
  }
  // A tombstone for u1, then one more record so the tombstone is not in the active segment.
  compacted.append([{ key: Buffer.from('u1'), value: null }], { timestamp: START + 60 });
  compacted.roll();
  compacted.append([{ key: Buffer.from('last'), value: Buffer.from('x') }], {
    timestamp: START + 61,
  });
  await compacted.close();
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('samsa log', () => {
  it('groups compact and retention under one command', () => {
    const top = samsa('--help');
    expect(top.status).toBe(0);
    expect(top.stdout).toMatch(/^ {2}log\b/m);
    const help = samsa('log', '--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^ {2}compact \[options\] <dir>/m);
    expect(help.stdout).toMatch(/^ {2}retention \[options\] <dir>/m);
    expect(samsa('log', 'retention', '--help').stdout).toContain('--delete-before <offset>');
    expect(samsa('log', 'compact', '--help').stdout).toContain('--force');
  });

  it('exits 2 on usage errors, before opening (or creating) anything', () => {
    expect(samsa('log').status).toBe(2);
    expect(samsa('log', 'retention').status).toBe(2);
    expect(samsa('log', 'no-such-pass', plain).status).toBe(2);

    const syntax = samsa('log', 'retention', plain, '--config', 'retention.bytes');
    expect(syntax.status).toBe(2);
    expect(syntax.stderr).toContain(
      "--config wants key=value (for example retention.ms=60000), got 'retention.bytes'",
    );

    const unknown = samsa('log', 'compact', plain, '--config', 'retention.bites=5');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain(
      "unknown log config key 'retention.bites' (LOG_INVALID_CONFIG)",
    );

    const value = samsa('log', 'retention', plain, '--config', 'retention.bytes=lots');
    expect(value.status).toBe(2);
    expect(value.stderr).toContain("'retention.bytes' must be a number");

    const range = samsa('log', 'compact', plain, '--config', 'min.cleanable.dirty.ratio=2');
    expect(range.status).toBe(2);
    expect(range.stderr).toContain('LOG_INVALID_CONFIG');

    const missing = join(work, 'no-such-log');
    const gone = samsa('log', 'retention', missing);
    expect(gone.status).toBe(2);
    expect(gone.stderr.trim()).toBe(`samsa: ${missing} does not exist`);
    expect(existsSync(missing)).toBe(false);
    expect(samsa('log', 'compact', work).stderr).toContain('holds no segment files');

    expect(samsa('log', 'retention', plain, '--now', 'yesterday').status).toBe(2);
    expect(samsa('log', 'retention', plain, '--delete-before', '-1').status).toBe(2);
    for (const run of [syntax, unknown, gone]) expect(run.stdout).toBe('');
    // None of that touched the log.
    expect(inspectLog(plain).segments).toHaveLength(10);
  });

  it('exits 1 when the log refuses the pass', () => {
    const dir = copyOf(plain, 'refused');
    const run = samsa('log', 'retention', dir, '--delete-before', '1000');
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('log retention failed: offset 1000 is out of range');
    expect(run.stderr).toContain('LOG_OFFSET_OUT_OF_RANGE');
    expect(inspectLog(dir).segments).toHaveLength(10);
  });
});

describe('samsa log retention', () => {
  it('deletes the oldest segments while the log is over retention.bytes, and says so', () => {
    const dir = copyOf(plain, 'by-bytes');
    const before = inspectLog(dir).segments;
    const total = before.reduce((n, s) => n + s.size, 0);
    // Three segments must go, a fourth may not.
    const limit = total - before.slice(0, 3).reduce((n, s) => n + s.size, 0);
    const run = samsa(
      'log',
      'retention',
      dir,
      '--config',
      `retention.bytes=${limit}`,
      '--config',
      'retention.ms=-1',
    );
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(
      `(cleanup.policy delete, retention.ms -1 (none), retention.bytes ${limit})`,
    );
    expect(run.stdout).toContain('deleted 3 segments,');
    for (const s of before.slice(0, 3))
      expect(run.stdout).toMatch(
        new RegExp(
          `^ {2}${segmentFileName(s.baseOffset, '.log')} +offsets ${s.baseOffset}\\.\\.${s.lastOffset} +${s.size} bytes +retention\\.bytes: `,
          'm',
        ),
      );
    expect(run.stdout).toContain('log start offset: 0 → 12');
    // The log's own lines go to stderr, in plain words.
    expect(run.stderr).toContain('INFO  retention deleted 3 segment(s)');

    const after = inspectLog(dir);
    expect(after.segments.map((s) => s.baseOffset)).toEqual(
      before.slice(3).map((s) => s.baseOffset),
    );
    expect(after.logStartOffset).toBe(12);

    // Run again: nothing more may go, and it says why in figures.
    const again = samsa(
      'log',
      'retention',
      dir,
      '--config',
      `retention.bytes=${limit}`,
      '--config',
      'retention.ms=-1',
    );
    expect(again.status).toBe(0);
    expect(again.stdout).toContain(
      'nothing to delete: retention.ms is -1 (no time limit); the log is',
    );
    expect(again.stdout).toContain(`below retention.bytes ${limit}`);
    expect(again.stdout).toContain('log start offset: 12 (unchanged)');
  });

  it('deletes by retention.ms at the time given with --now', () => {
    const dir = copyOf(plain, 'by-time');
    // At START + 50 h with retention.ms 20 h, segments whose newest record is before START + 30 h
    // go: the newest records of the first segments are at START + 3 h, 7 h, ... 27 h (7 segments).
    const now = new Date(START + 50 * HOUR).toISOString();
    const run = samsa(
      'log',
      'retention',
      dir,
      '--now',
      now,
      '--config',
      `retention.ms=${20 * HOUR}`,
    );
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`Retention pass on ${dir} at ${now}`);
    expect(run.stdout).toContain('deleted 7 segments,');
    expect(run.stdout).toContain(
      'retention.ms: its newest record is 1 d 23 h old, over retention.ms 20 h',
    );
    expect(run.stdout).toContain('log start offset: 0 → 28');
    expect(run.stdout).toMatch(
      /^oldest segment now: 00000000000000000028\.log, .* newest record 19 h old$/m,
    );
  });

  it('says why nothing went, with the limits in force and the oldest segment', () => {
    const run = samsa('log', 'retention', plain, '--now', String(START + 40 * HOUR));
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('retention.ms 7 d, retention.bytes -1 (none)');
    expect(run.stdout).toContain(
      "nothing to delete: the oldest segment's newest record is 1 d 13 h old, within retention.ms 7 d (604800000); retention.bytes is -1 (no size limit)",
    );
    expect(run.stdout).toMatch(
      /^oldest segment now: 00000000000000000000\.log, offsets 0\.\.3, \d+ bytes/m,
    );
    const compacted = samsa('log', 'retention', plain, '--config', 'cleanup.policy=compact');
    expect(compacted.stdout).toContain('nothing to delete: cleanup.policy is compact');
    expect(inspectLog(plain).segments).toHaveLength(10);
  });

  it('moves the log start offset with --delete-before and reports it as JSON', () => {
    const dir = copyOf(plain, 'delete-before');
    const run = samsa(
      'log',
      'retention',
      dir,
      '--delete-before',
      '10',
      '--config',
      'retention.ms=-1',
      '--json',
    );
    expect(run.status).toBe(0);
    const report = json<{
      command: string;
      deleteBefore: number;
      deleted: { baseOffset: number; lastOffset: number; reason: string; size: number }[];
      deletedBytes: number;
      logStartOffset: { before: number; after: number };
      nothingToDelete: string | null;
      log: { logStartOffset: number; logEndOffset: number; segments: number };
    }>(run);
    expect(report.command).toBe('log retention');
    expect(report.deleteBefore).toBe(10);
    expect(report.deleted.map((s) => [s.baseOffset, s.lastOffset, s.reason])).toEqual([
      [0, 3, 'log-start-offset'],
      [4, 7, 'log-start-offset'],
    ]);
    expect(report.deletedBytes).toBe(report.deleted.reduce((n, s) => n + s.size, 0));
    expect(report.logStartOffset).toEqual({ before: 0, after: 10 });
    expect(report.nothingToDelete).toBeNull();
    expect(report.log).toMatchObject({ logStartOffset: 10, logEndOffset: 40, segments: 8 });

    // dump-log sees the new start, and the records of segment 8 below it.
    const dump = samsa('dump-log', dir);
    expect(dump.status).toBe(0);
    expect(dump.stdout).toContain('  log start offset: 10\n');
    expect(dump.stdout).toContain('offsets 8..9 lie below the log start offset 10');
  });
});

describe('samsa log compact', () => {
  it('keeps the latest record of each key and reports what it read, kept and removed', () => {
    const dir = copyOf(keyed, 'compacted');
    const before = inspectLog(dir);
    const cleanable = before.segments.slice(0, -1);
    const recordsBefore = cleanable.reduce((n, s) => n + s.records, 0);
    expect(recordsBefore).toBe(61);

    const run = samsa('log', 'compact', dir, '--config', 'delete.retention.ms=0');
    expect(run.status).toBe(0);
    // Of 61 records: 30 'hot' (1 kept), 30 unique (u1 shadowed by its tombstone), 1 tombstone
    // (kept this time: the cleaner stamps its delete horizon, delete.retention.ms from now).
    expect(run.stdout).toContain(`Compacted ${dir}: offsets 0..60 cleaned in `);
    expect(run.stdout).toContain('records:    61 read, 31 kept, 30 removed');
    expect(run.stdout).toContain('tombstones: 0 removed');
    expect(run.stdout).toContain('segments:   5 read → 1 written');
    expect(run.stdout).toMatch(/^ {2}bytes: {6}\d+ → \d+ in the log \(-\d+\.\d%\)/m);
    expect(run.stdout).toContain('cleaner checkpoint: 0 → 61');
    expect(run.stderr).toContain('INFO  cleaner kept');

    // dump-log afterwards: the cleaner checkpoint, and a gap at every removed 'hot'.
    const dump = samsa('dump-log', dir);
    expect(dump.status).toBe(0);
    expect(dump.stdout).toContain(
      '  cleaner checkpoint: 61 (offsets below it have been compacted at least once)',
    );
    expect(dump.stdout).toContain('cleaner offset 61');
    expect(dump.stdout).toMatch(/^ {2}offset gaps: \d+, \d+ offsets without a record/m);
    expect(dump.stdout).toContain('  offset gap: 1 offset missing between 3 and 5');
    expect(dump.stdout).toContain('more offset gaps (--json lists them all)');
    expect(dump.stdout).toContain('problems: none');
    const after = inspectLog(dir);
    expect(after.problems).toEqual([]);
    expect(after.cleanerCheckpoint).toBe(61);
    expect(after.offsetGaps.length).toBeGreaterThan(20);
    const horizon = after.segments[0]!.batches.at(-1)!;
    expect(horizon).toMatchObject({ baseOffset: 60, tombstones: 1 });
    expect(horizon.deleteHorizon).toEqual(expect.any(Number));

    // Past the horizon a forced pass removes the tombstone, leaving an empty batch for offset 60.
    const second = samsa('log', 'compact', dir, '--force', '--config', 'delete.retention.ms=0');
    expect(second.status).toBe(0);
    expect(second.stdout).toContain('records:    31 read, 30 kept, 1 removed');
    expect(second.stdout).toContain('tombstones: 1 removed');
    expect(second.stdout).toContain('cleaner checkpoint: 61 (unchanged)');
    const emptied = samsa('dump-log', dir);
    expect(emptied.stdout).toMatch(/^baseOffset: 60 lastOffset: 60 count: 0 \(empty\) /m);
    expect(emptied.stdout).toContain('  empty batches: 1 (no records;');
    expect(emptied.stdout).toContain('problems: none');
  });

  it('reports as one JSON object, and says why a second pass skips', () => {
    const dir = copyOf(keyed, 'compacted-json');
    const first = samsa('log', 'compact', dir, '--json');
    expect(first.status).toBe(0);
    const stats = json(first);
    expect(stats).toMatchObject({
      command: 'log compact',
      skipped: null,
      start: 0,
      end: 61,
      recordsRead: 61,
      recordsKept: expect.any(Number),
      tombstonesRemoved: expect.any(Number),
      segmentsWritten: expect.any(Number),
      config: { 'cleanup.policy': 'compact' },
      cleanerCheckpoint: { before: 0, after: 61 },
    });
    expect(stats['recordsKept']).toBeLessThanOrEqual(31);

    const second = samsa('log', 'compact', dir);
    expect(second.status).toBe(0);
    expect(second.stdout).toMatch(/^Nothing compacted in .*: dirty ratio 0\.00 is below/m);
    expect(second.stdout).toContain('(--force cleans even below min.cleanable.dirty.ratio)');
    expect(second.stdout).toContain('cleaner checkpoint: 61 (unchanged)');

    const forced = json(samsa('log', 'compact', dir, '--force', '--json'));
    expect(forced['skipped']).toBeNull();
    expect(forced['force']).toBe(true);

    const policy = samsa('log', 'compact', dir, '--config', 'cleanup.policy=delete');
    expect(policy.status).toBe(0);
    expect(policy.stdout).toContain('Nothing compacted in');
    expect(policy.stdout).toContain('cleanup.policy delete');
  });
});
