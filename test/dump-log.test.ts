import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Log, encodeBatch, inspectLog, segmentFileName } from '../src/log/index.js';
import { rawBatch } from './support/raw-batch.js';

// The compiled bin: `npm test` runs tsc first, so dist/ is there.
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'dist', 'bin', 'samsa.js');
const START = 1_700_000_000_000;

let work: string;
let clean: string;

function samsa(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A copy of the clean log to damage. */
function copyOfLog(name: string): string {
  const dir = join(work, name);
  cpSync(clean, dir, { recursive: true });
  return dir;
}

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run tsc (npm test does) first`);
  work = mkdtempSync(join(tmpdir(), 'samsa-dump-log-'));
  clean = join(work, 'clean');
  const log = await Log.open(clean, { 'segment.bytes': 512, 'index.interval.bytes': 150 });
  for (let i = 0; i < 20; i++) {
    log.append(
      [
        { key: Buffer.from(`user-${i}`), value: Buffer.from(`hello ${i}`) },
        { key: Buffer.from(`bin-${i}`), value: i === 4 ? null : Buffer.from([0, 0xff, i]) },
      ],
      { timestamp: START + i },
    );
  }
  await log.close();
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('samsa', () => {
  it('prints its help and version', () => {
    const help = samsa('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('dump-log');
    const version = samsa('--version');
    expect(version.status).toBe(0);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(version.stdout.trim()).toBe(pkg.version);
  });

  it('exits 2 on usage errors', () => {
    expect(samsa().status).toBe(2);
    expect(samsa('no-such-command').status).toBe(2);
    expect(samsa('dump-log').status).toBe(2);
    const unknown = samsa('dump-log', clean, '--no-such-option');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('--no-such-option');
  });
});

describe('samsa dump-log', () => {
  it('describes a clean log and exits 0', () => {
    const { status, stdout, stderr } = samsa('dump-log', clean);
    expect(status).toBe(0);
    expect(stderr).toBe('');
    const segments = inspectLog(clean).segments;
    expect(segments.length).toBeGreaterThanOrEqual(3);
    for (const segment of segments)
      expect(stdout).toContain(
        `Segment ${segment.path}: base offset ${segment.baseOffset}, ` +
          `offsets ${segment.firstOffset}..${segment.lastOffset}, ${segment.size} bytes`,
      );
    const batchLines = stdout.split('\n').filter((l) => l.startsWith('baseOffset: '));
    expect(batchLines.length).toBe(20);
    expect(batchLines[0]).toMatch(
      /^baseOffset: 0 lastOffset: 1 count: 2 position: 0 size: \d+ createTime: 1700000000000 \(2023-11-14T22:13:20.000Z\) .* crc: ok$/,
    );
    expect(stdout).toContain('checkpoint: recovery point 40, log start offset 0, cleaner offset 0');
    expect(stdout).toContain('  log start offset: 0\n');
    expect(stdout).toContain('  log end offset: 40\n');
    expect(stdout).toContain(
      '  cleaner checkpoint: 0 (nothing compacted past the log start offset)',
    );
    expect(stdout).toContain('offset gaps: none');
    expect(stdout).not.toContain('empty batches');
    expect(stdout).toContain('1 tombstone');
    expect(stdout).toContain('problems: none');
    expect(stdout).not.toContain('| offset:');
  });

  it('shows keys and values with --records', () => {
    const { status, stdout } = samsa('dump-log', clean, '--records');
    expect(status).toBe(0);
    expect(stdout).toContain('| offset: 0 timestamp: 1700000000000 key: "user-0" value: "hello 0"');
    expect(stdout).toContain('key: "bin-3" value: 0x00ff03');
    expect(stdout).toContain('key: "bin-4" value: null (tombstone)');
    expect(stdout).toMatch(/^baseOffset: 8 lastOffset: 9 .* tombstones: 1 crc: ok$/m);
  });

  it('shows index entries and whether they agree with --index', () => {
    const { status, stdout } = samsa('dump-log', clean, '--index');
    expect(status).toBe(0);
    expect(stdout).toMatch(/ {4}offset: \d+ position: \d+ agrees: yes/);
    expect(stdout).toMatch(/ {4}timestamp: \d+ \(.*\) offset: \d+ agrees: yes/);
    expect(stdout).not.toContain('agrees: NO');
  });

  it('prints one parseable JSON object per line with --json', () => {
    const { status, stdout } = samsa('dump-log', clean, '--json', '--records', '--index');
    expect(status).toBe(0);
    const lines = stdout.trim().split('\n');
    const objects = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const ofType = (type: string) => objects.filter((o) => o['type'] === type);
    expect(ofType('batch').length).toBe(20);
    expect(ofType('index-entry').length).toBeGreaterThan(0);
    expect(ofType('index-entry').every((e) => e['agrees'] === true)).toBe(true);
    expect(ofType('timeindex-entry').every((e) => e['agrees'] === true)).toBe(true);
    const first = ofType('batch')[0] as { records: Record<string, unknown>[]; crcOk: boolean };
    expect(first.crcOk).toBe(true);
    expect(first.records[0]).toMatchObject({
      offset: 0,
      key: { utf8: 'user-0' },
      value: { utf8: 'hello 0' },
      tombstone: false,
    });
    expect(first.records[1]).toMatchObject({
      value: { base64: Buffer.from([0, 255, 0]).toString('base64') },
    });
    const summary = objects.at(-1)!;
    expect(summary).toMatchObject({
      type: 'summary',
      clean: true,
      batches: 20,
      records: 40,
      tombstones: 1,
      emptyBatches: 0,
      logStartOffset: 0,
      logEndOffset: 40,
      cleanerCheckpoint: 0,
      checkpoint: { exists: true, recoveryPoint: 40, logStartOffset: 0, cleanerOffset: 0 },
      offsetGaps: [],
    });
    expect(first).toMatchObject({ deleteHorizon: null, tombstones: 0 });
  });

  it('shows what the cleaner leaves plainly: gaps, empty batches, delete horizons', () => {
    const dir = mkdtempSync(join(work, 'cleaned-'));
    const horizon = START + 86_400_000;
    const batches = [
      encodeBatch(
        [0, 1, 2].map((i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`) })),
        { baseOffset: 0, timestamp: START },
      ),
      rawBatch({
        baseOffset: 3,
        lastOffsetDelta: 6,
        firstTimestamp: horizon,
        maxTimestamp: START + 9,
        deleteHorizon: true,
        records: [
          { offsetDelta: 0, key: 'k3', value: 'v3' },
          { offsetDelta: 4, key: 'k7', value: null },
        ],
      }),
      rawBatch({ baseOffset: 10, lastOffsetDelta: 0, firstTimestamp: -1, records: [] }),
    ];
    writeFileSync(join(dir, segmentFileName(0, '.log')), Buffer.concat(batches));

    const { status, stdout } = samsa('dump-log', dir, '--records');
    expect(status).toBe(0);
    expect(stdout).toContain(': base offset 0, offsets 0..10, ');
    expect(stdout).toMatch(
      /^baseOffset: 3 lastOffset: 9 count: 2 .* deleteHorizon: 1700086400000 \(2023-11-15T22:13:20.000Z\) /m,
    );
    expect(stdout).toContain(
      'key: "k7" value: null (tombstone, removable after 2023-11-15T22:13:20.000Z)',
    );
    expect(stdout).toMatch(/^baseOffset: 10 lastOffset: 10 count: 0 \(empty\) /m);
    expect(stdout).toContain('  empty batches: 1 (no records;');
    expect(stdout).toContain('  offset gaps: 1, 3 offsets without a record');
    expect(stdout).toContain('  offset gap: 3 offsets missing between 3 and 7');
    expect(stdout).toContain('problems: none');

    const json = samsa('dump-log', dir, '--json');
    expect(json.status).toBe(0);
    const objects = json.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const batchObjects = objects.filter((o) => o['type'] === 'batch');
    expect(batchObjects[1]).toMatchObject({ deleteHorizon: horizon, tombstones: 1 });
    expect(batchObjects[2]).toMatchObject({ recordCount: 0, deleteHorizon: null });
    expect(objects.at(-1)).toMatchObject({
      type: 'summary',
      clean: true,
      emptyBatches: 1,
      offsetGaps: [{ after: 3, next: 7, missing: 3 }],
    });
  });

  it('reads one segment, given its .log or its .index', () => {
    const path = join(clean, segmentFileName(0, '.log'));
    const byLog = samsa('dump-log', path, '--index');
    expect(byLog.status).toBe(0);
    expect(byLog.stdout).toContain(`Segment ${path}`);
    expect(byLog.stdout).not.toContain('Log directory');
    const byIndex = samsa('dump-log', join(clean, segmentFileName(0, '.index')));
    expect(byIndex.status).toBe(0);
    expect(byIndex.stdout).toContain(`Segment ${path}`);
  });

  it('exits 1 and says where when a batch fails its CRC', () => {
    const dir = copyOfLog('flipped');
    const path = join(dir, segmentFileName(0, '.log'));
    const batch = inspectLog(dir).segments[0]!.batches[1]!;
    const bytes = readFileSync(path);
    bytes[batch.position + batch.size - 3]! ^= 0x01;
    writeFileSync(path, bytes);
    const { status, stdout, stderr } = samsa('dump-log', dir);
    expect(status).toBe(1);
    expect(stdout).toContain('crc: NOT OK');
    expect(stderr).toContain(`${path}: batch at byte ${batch.position} fails its CRC`);
  });

  it('exits 1 and names the byte where a batch is torn', () => {
    const dir = copyOfLog('torn');
    const segment = inspectLog(dir).segments[1]!;
    const batch = segment.batches[1]!;
    truncateSync(segment.path, batch.position + 20);
    const { status, stdout, stderr } = samsa('dump-log', dir, '--json');
    expect(status).toBe(1);
    expect(stderr).toContain(`${segment.path}: torn batch at byte ${batch.position}`);
    const summary = JSON.parse(stdout.trim().split('\n').at(-1)!) as { clean: boolean };
    expect(summary.clean).toBe(false);
  });

  it('exits 2 with a plain message for a path that does not exist', () => {
    const missing = join(work, 'nothing-here');
    const { status, stdout, stderr } = samsa('dump-log', missing);
    expect(status).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trim()).toBe(`samsa: ${missing} does not exist`);
  });

  it('exits 2 for a directory without segments or a file that is not one', () => {
    const empty = mkdtempSync(join(work, 'empty-'));
    expect(samsa('dump-log', empty).stderr).toContain('holds no segment files');
    expect(samsa('dump-log', empty).status).toBe(2);
    const other = join(empty, 'notes.txt');
    writeFileSync(other, 'hi');
    const result = samsa('dump-log', other);
    expect(result.status).toBe(2);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
