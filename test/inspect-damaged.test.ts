import { createHash } from 'node:crypto';
import {
  copyFileSync,
  readFileSync,
  readdirSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectLog, inspectSegment, segmentFileName } from '../src/log/index.js';
import { buildLog, dir, logFile } from './inspect-support.js';

function patch(path: string, position: number, bytes: Buffer): void {
  const buf = readFileSync(path);
  bytes.copy(buf, position);
  writeFileSync(path, buf);
}

function snapshot(): Map<string, string> {
  const files = new Map<string, string>();
  for (const name of readdirSync(dir).sort()) {
    files.set(
      name,
      createHash('sha256')
        .update(readFileSync(join(dir, name)))
        .digest('hex'),
    );
  }
  return files;
}

describe('inspectLog on a damaged log', () => {
  it('reports a flipped byte as a CRC failure and keeps walking', async () => {
    await buildLog();
    const before = inspectSegment(logFile(0)).batches;
    const victim = before[2]!;
    const path = logFile(0);
    const buf = readFileSync(path);
    buf[victim.position + victim.size - 5]! ^= 0xff;
    writeFileSync(path, buf);

    const segment = inspectSegment(path);
    expect(segment.batches.length).toBe(before.length);
    expect(segment.batches.map((b) => b.crcOk)).toEqual(before.map((_, i) => i !== 2));
    expect(segment.problems).toContainEqual(
      expect.stringMatching(new RegExp(`^batch at byte ${victim.position} fails its CRC`)),
    );
    const report = inspectLog(dir);
    expect(report.problems).toContainEqual(expect.stringContaining(`${path}: batch at byte`));
  });

  it('reports a file cut mid-batch as a torn batch at its byte position', async () => {
    const appended = await buildLog();
    const report = inspectLog(dir);
    const segment = report.segments[1]!;
    const cut = segment.batches[2]!;
    truncateSync(segment.path, cut.position + 30);

    const after = inspectSegment(segment.path);
    expect(after.batches).toEqual(segment.batches.slice(0, 2));
    expect(after.validBytes).toBe(cut.position);
    expect(after.problems[0]).toMatch(
      new RegExp(`^torn batch at byte ${cut.position}: it claims ${cut.size} bytes but only 30`),
    );
    // The later segments are still read: the inspector reports, it does not truncate.
    const whole = inspectLog(dir);
    const lastSeen = whole.segments.flatMap((s) => s.batches).at(-1)!;
    expect(lastSeen.lastOffset).toBe(appended.at(-1)!.lastOffset);
    expect(whole.problems.some((p) => p.startsWith(`${segment.path}: torn batch at byte`))).toBe(
      true,
    );
  });

  it('reports a few stray bytes and an impossible length as torn batches', async () => {
    await buildLog(10);
    const path = logFile(0);
    const size = inspectSegment(path).size;
    writeFileSync(path, Buffer.concat([readFileSync(path), Buffer.alloc(5)]));
    expect(inspectSegment(path).problems[0]).toMatch(
      new RegExp(`^torn batch at byte ${size}: only 5 bytes remain`),
    );
    const second = inspectSegment(path).batches[1]!;
    const length = Buffer.alloc(4);
    length.writeInt32BE(3);
    patch(path, second.position + 8, length);
    const report = inspectSegment(path);
    expect(report.batches.length).toBe(1);
    expect(report.problems[0]).toMatch(
      new RegExp(`^torn batch at byte ${second.position}: its length field says 3`),
    );
  });

  it('flags an offset index entry that names the wrong batch', async () => {
    await buildLog();
    const path = logFile(0);
    const entry = inspectSegment(path).index.entries[0]!;
    const wrong = Buffer.alloc(4);
    wrong.writeUInt32BE(entry.position + 1);
    patch(join(dir, segmentFileName(0, '.index')), 4, wrong);

    const segment = inspectSegment(path);
    expect(segment.index.entries[0]).toMatchObject({ offset: entry.offset, agrees: false });
    expect(segment.index.entries.slice(1).every((e) => e.agrees)).toBe(true);
    expect(segment.problems).toContainEqual(
      expect.stringContaining(
        `00000000000000000000.index entry 0 (offset ${entry.offset} at byte ${entry.position + 1})`,
      ),
    );
  });

  it('flags an offset index entry whose offset is not the last of the batch it points at', async () => {
    await buildLog();
    const path = logFile(0);
    const entry = inspectSegment(path).index.entries[1]!;
    const wrong = Buffer.alloc(4);
    wrong.writeUInt32BE(entry.offset - 1); // relative to base offset 0
    patch(join(dir, segmentFileName(0, '.index')), 8, wrong);

    const segment = inspectSegment(path);
    expect(segment.index.entries[1]).toMatchObject({
      offset: entry.offset - 1,
      position: entry.position,
      agrees: false,
    });
    expect(segment.problems).toContainEqual(
      expect.stringContaining(`the batch there ends at offset ${entry.offset}`),
    );
  });

  it('flags a time index entry whose timestamp is not the batch max', async () => {
    await buildLog();
    const path = logFile(0);
    const entries = inspectSegment(path).timeIndex.entries;
    const wrong = Buffer.alloc(8);
    wrong.writeBigInt64BE(BigInt(entries[0]!.timestamp + 1));
    patch(join(dir, segmentFileName(0, '.timeindex')), 0, wrong);

    const segment = inspectSegment(path);
    expect(segment.timeIndex.entries[0]!.agrees).toBe(false);
    expect(segment.timeIndex.entries.slice(1).every((e) => e.agrees)).toBe(true);
    expect(segment.problems.some((p) => p.includes('.timeindex entry 0'))).toBe(true);
  });

  it('flags index entries that do not increase', async () => {
    await buildLog();
    const indexPath = join(dir, segmentFileName(0, '.index'));
    const bytes = readFileSync(indexPath);
    expect(bytes.length).toBeGreaterThanOrEqual(16);
    writeFileSync(indexPath, Buffer.concat([bytes.subarray(8, 16), bytes.subarray(0, 8)]));
    const entries = inspectSegment(logFile(0)).index.entries;
    expect(entries.map((e) => e.increasing)).toEqual([true, false]);
    expect(entries.every((e) => e.agrees)).toBe(true);
  });

  it('reports missing indexes as notes, not problems', async () => {
    await buildLog(10);
    rmSync(join(dir, segmentFileName(0, '.index')));
    rmSync(join(dir, segmentFileName(0, '.timeindex')));
    const report = inspectLog(dir);
    expect(report.problems).toEqual([]);
    expect(report.segments[0]!.index).toMatchObject({ exists: false, entries: [] });
    expect(report.segments[0]!.timeIndex.exists).toBe(false);
    expect(report.notes.filter((n) => n.includes('missing')).length).toBe(2);
  });

  it('reports offsets that go backwards inside a segment', async () => {
    await buildLog();
    const path = logFile(0);
    const [first, second] = inspectSegment(path).batches;
    // baseOffset lies outside the CRC: the batch still checks, its offsets do not.
    const offset = Buffer.alloc(8);
    offset.writeBigInt64BE(BigInt(first!.baseOffset));
    patch(path, second!.position, offset);
    const segment = inspectSegment(path);
    expect(segment.batches[1]!.crcOk).toBe(true);
    expect(segment.problems).toContainEqual(
      expect.stringMatching(new RegExp(`^offsets go backwards at byte ${second!.position}`)),
    );
  });

  it('reports a segment that starts inside the one before it', async () => {
    await buildLog();
    const [first, second] = inspectLog(dir).segments;
    copyFileSync(second!.path, logFile(first!.lastOffset!));
    const report = inspectLog(dir);
    expect(report.problems).toContainEqual(
      expect.stringMatching(
        new RegExp(`segment starts at offset ${first!.lastOffset}, but .* ends at offset`),
      ),
    );
  });

  it('reports a checkpoint that vouches for offsets the log no longer holds', async () => {
    await buildLog();
    const segments = inspectLog(dir).segments;
    const last = segments.at(-1)!;
    truncateSync(last.path, last.batches[0]!.size);
    const report = inspectLog(dir);
    expect(report.logEndOffset).toBe(last.batches[0]!.lastOffset + 1);
    expect(report.problems).toContainEqual(expect.stringContaining('the recovery point'));
  });

  it('lists leftover temporary files', async () => {
    await buildLog(5);
    writeFileSync(join(dir, segmentFileName(0, '.log.cleaned')), '');
    writeFileSync(join(dir, 'checkpoint.tmp'), '');
    const report = inspectLog(dir);
    expect(report.temporaryFiles).toEqual([segmentFileName(0, '.log.cleaned'), 'checkpoint.tmp']);
  });

  it('changes nothing on disk, even when the log is damaged', async () => {
    await buildLog();
    const segments = inspectLog(dir).segments;
    truncateSync(segments[1]!.path, segments[1]!.batches[1]!.position + 7);
    rmSync(join(dir, segmentFileName(segments[0]!.baseOffset, '.index')));
    writeFileSync(join(dir, segmentFileName(0, '.log.swap')), 'half');
    const before = snapshot();
    inspectLog(dir, { records: true });
    inspectSegment(segments[1]!.path, { records: true });
    expect(snapshot()).toEqual(before);
  });
});
