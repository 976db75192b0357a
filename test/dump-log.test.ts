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
import { Log, inspectLog, segmentFileName } from '../src/log/index.js';

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
        `Segment ${segment.path}: base offset ${segment.baseOffset}, ${segment.size} bytes`,
      );
    const batchLines = stdout.split('\n').filter((l) => l.startsWith('baseOffset: '));
    expect(batchLines.length).toBe(20);
    expect(batchLines[0]).toMatch(
      /^baseOffset: 0 lastOffset: 1 count: 2 position: 0 size: \d+ createTime: 1700000000000 \(2023-11-14T22:13:20.000Z\) .* crc: ok$/,
    );
    expect(stdout).toContain('checkpoint: recovery point 40, log start offset 0');
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
