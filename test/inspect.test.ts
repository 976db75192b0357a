import { createHash } from 'node:crypto';
import {
  copyFileSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type AppendRecord,
  type BatchReport,
  Log,
  encodeBatch,
  inspectLog,
  inspectSegment,
  segmentFileName,
} from '../src/log/index.js';
import { rawBatch } from './support/raw-batch.js';

const CONFIG = { 'segment.bytes': 1024, 'index.interval.bytes': 200 };
const START = 1_700_000_000_000;

interface Appended {
  baseOffset: number;
  lastOffset: number;
  records: AppendRecord[];
}

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'samsa-inspect-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Appends `count` batches of 1–3 records (some tombstones) and closes the log. */
async function buildLog(count = 40): Promise<Appended[]> {
  const log = await Log.open(dir, CONFIG);
  const appended: Appended[] = [];
  for (let i = 0; i < count; i++) {
    const records: AppendRecord[] = Array.from({ length: 1 + (i % 3) }, (_, j) => ({
      key: Buffer.from(`key-${i}-${j}`),
      value: i % 7 === 3 && j === 0 ? null : Buffer.from(`value-${i}-${j}`),
      headers: j === 1 ? [{ key: 'h', value: Buffer.from(`hv-${i}`) }] : [],
      timestamp: START + i,
    }));
    const { baseOffset, lastOffset } = log.append(records);
    appended.push({ baseOffset, lastOffset, records });
  }
  await log.close();
  return appended;
}

function allBatches(): BatchReport[] {
  return inspectLog(dir).segments.flatMap((s) => s.batches);
}

function logFile(base: number): string {
  return join(dir, segmentFileName(base, '.log'));
}

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

describe('inspectLog on a healthy log', () => {
  it('finds every batch, in order, exactly as appended', async () => {
    const appended = await buildLog();
    const report = inspectLog(dir, { records: true });
    expect(report.problems).toEqual([]);
    expect(report.segments.length).toBeGreaterThanOrEqual(3);
    const batches = report.segments.flatMap((s) => s.batches);
    expect(batches.map((b) => [b.baseOffset, b.lastOffset])).toEqual(
      appended.map((a) => [a.baseOffset, a.lastOffset]),
    );
    batches.forEach((batch, i) => {
      const sent = appended[i]!.records;
      expect(batch.crcOk).toBe(true);
      expect(batch.recordCount).toBe(sent.length);
      expect(batch.firstTimestamp).toBe(START + i);
      expect(batch.producerId).toBe(-1);
      expect(batch.records!.map((r) => r.key?.toString())).toEqual(
        sent.map((r) => r.key?.toString()),
      );
      expect(batch.records!.map((r) => r.value?.toString() ?? null)).toEqual(
        sent.map((r) => r.value?.toString() ?? null),
      );
      expect(batch.records!.map((r) => r.headers.map((h) => h.value?.toString()))).toEqual(
        sent.map((r) => (r.headers ?? []).map((h) => h.value?.toString())),
      );
    });
    for (const segment of report.segments) {
      expect(segment.baseOffset).toBe(segment.batches[0]?.baseOffset ?? segment.baseOffset);
      expect(segment.validBytes).toBe(segment.size);
      let position = 0;
      for (const batch of segment.batches) {
        expect(batch.position).toBe(position);
        position += batch.size;
      }
    }
    const lastOffset = appended[appended.length - 1]!.lastOffset;
    expect(report.logEndOffset).toBe(lastOffset + 1);
    expect(report.checkpoint).toEqual({
      exists: true,
      recoveryPoint: lastOffset + 1,
      logStartOffset: 0,
      cleanerOffset: 0,
    });
    expect(report.logStartOffset).toBe(0);
    expect(report.cleanerCheckpoint).toBe(0);
    expect(report.emptyBatches).toBe(0);
    const tombstones = appended.flatMap((a) => a.records).filter((r) => r.value === null);
    expect(report.tombstones).toBe(tombstones.length);
    expect(report.offsetGaps).toEqual([]);
    expect(report.temporaryFiles).toEqual([]);
  });

  it('leaves records out unless asked', async () => {
    await buildLog(5);
    expect(allBatches().every((b) => b.records === undefined)).toBe(true);
  });

  it('finds index and time index entries that all agree with the log', async () => {
    await buildLog();
    const segments = inspectLog(dir).segments;
    const entries = segments.flatMap((s) => s.index.entries);
    const timeEntries = segments.flatMap((s) => s.timeIndex.entries);
    expect(entries.length).toBeGreaterThan(segments.length);
    expect(timeEntries.length).toBeGreaterThan(segments.length);
    expect(entries.every((e) => e.agrees && e.increasing)).toBe(true);
    expect(timeEntries.every((e) => e.agrees && e.increasing)).toBe(true);
  });

  it('reports the header fields of transactional, compressed and control batches', async () => {
    const log = await Log.open(dir, CONFIG);
    const options = { producerId: 7, producerEpoch: 2, baseSequence: 5, transactional: true };
    log.append([{ key: Buffer.from('a'), value: Buffer.from('1'), timestamp: START }], {
      ...options,
      compression: 'gzip',
      partitionLeaderEpoch: 4,
    });
    log.append([{ key: Buffer.alloc(4), value: Buffer.alloc(6), timestamp: START }], {
      ...options,
      control: true,
    });
    await log.close();
    const [data, marker] = inspectSegment(logFile(0), { records: true }).batches;
    expect(data).toMatchObject({
      producerId: 7,
      producerEpoch: 2,
      baseSequence: 5,
      partitionLeaderEpoch: 4,
      isTransactional: true,
      isControl: false,
      compression: 1,
      crcOk: true,
    });
    expect(data!.records![0]!.value!.toString()).toBe('1');
    expect(marker).toMatchObject({ isTransactional: true, isControl: true, compression: 0 });
  });

  it('lists offset gaps as information, not problems', async () => {
    const log = await Log.open(dir, CONFIG);
    log.append([{ value: Buffer.from('a') }, { value: Buffer.from('b') }, { value: null }]);
    log.appendBatch(encodeBatch([{ value: Buffer.from('c') }], { baseOffset: 10 }), {
      assignOffsets: false,
    });
    await log.close();
    const report = inspectLog(dir);
    expect(report.problems).toEqual([]);
    expect(report.offsetGaps).toEqual([
      { after: 2, next: 10, missing: 7, path: logFile(0), position: expect.any(Number) },
    ]);
    expect(report.tombstones).toBe(1);
  });
});

describe('inspectLog on a cleaned log', () => {
  const HORIZON = START + 86_400_000;

  /** A segment as the cleaner leaves one: gaps inside a batch, a delete horizon, an empty batch. */
  function writeCleanedSegment(): void {
    const whole = encodeBatch(
      [0, 1, 2].map((i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`) })),
      { baseOffset: 0, timestamp: START },
    );
    const filtered = rawBatch({
      baseOffset: 3,
      lastOffsetDelta: 6,
      firstTimestamp: HORIZON,
      maxTimestamp: START + 9,
      deleteHorizon: true,
      records: [
        { offsetDelta: 0, key: 'k3', value: 'v3' },
        { offsetDelta: 4, key: 'k7', value: null },
      ],
    });
    const empty = rawBatch({ baseOffset: 10, lastOffsetDelta: 0, firstTimestamp: -1, records: [] });
    writeFileSync(logFile(0), Buffer.concat([whole, filtered, empty]));
  }

  it('lists gaps inside a batch, shows the delete horizon, and counts empty batches plainly', () => {
    writeCleanedSegment();
    const segment = inspectSegment(logFile(0), { records: true });
    expect(segment.problems).toEqual([]);
    const [, filtered, empty] = segment.batches;
    expect(filtered).toMatchObject({ baseOffset: 3, lastOffset: 9, recordCount: 2, crcOk: true });
    expect(filtered!.deleteHorizon).toBe(HORIZON);
    expect(filtered!.tombstones).toBe(1);
    expect(filtered!.records!.map((r) => r.offset)).toEqual([3, 7]);
    expect(segment.batches[0]!.deleteHorizon).toBeNull();
    expect(empty).toMatchObject({ baseOffset: 10, lastOffset: 10, recordCount: 0, crcOk: true });
    expect(segment.emptyBatches).toBe(1);
    // Offsets 4..6 have no record (inside the batch); 8..10 have none either, but no record
    // follows them in this segment, so there is no gap to report yet.
    expect(segment.offsetGaps).toEqual([
      { after: 3, next: 7, missing: 3, path: logFile(0), position: filtered!.position },
    ]);
    expect(segment.firstRecordOffset).toBe(0);
    expect(segment.lastRecordOffset).toBe(7);
    expect(segment.lastOffset).toBe(10);

    const report = inspectLog(dir);
    expect(report.problems).toEqual([]);
    expect(report.emptyBatches).toBe(1);
    expect(report.tombstones).toBe(1);
    expect(report.offsetGaps).toEqual(segment.offsetGaps);
    expect(report.logEndOffset).toBe(11);
  });

  it('lists a gap across segments from the last record, past an empty batch', () => {
    writeCleanedSegment();
    writeFileSync(
      logFile(11),
      encodeBatch([{ key: Buffer.from('k'), value: Buffer.from('v') }], { baseOffset: 12 }),
    );
    const report = inspectLog(dir);
    expect(report.problems).toEqual([]);
    expect(report.offsetGaps.map((g) => [g.after, g.next, g.missing, g.path])).toEqual([
      [3, 7, 3, logFile(0)],
      [7, 12, 4, logFile(11)],
    ]);
  });

  it('reads the log start offset and the cleaner offset from the checkpoint', async () => {
    const log = await Log.open(dir, CONFIG);
    for (let i = 0; i < 10; i++)
      log.append([{ key: Buffer.from(`k${i}`), value: Buffer.from('v') }]);
    await log.deleteRecordsBefore(4);
    await log.close();
    const report = inspectLog(dir);
    expect(report.checkpoint).toMatchObject({ logStartOffset: 4, cleanerOffset: 4 });
    expect(report.logStartOffset).toBe(4);
    expect(report.cleanerCheckpoint).toBe(4);
    expect(report.problems).toEqual([]);
    expect(report.notes).toContainEqual(
      expect.stringContaining('offsets 0..3 lie below the log start offset 4'),
    );
  });
});

describe('inspectLog across segments', () => {
  it('lists a gap between segments and warns that opening the log would drop the later one', async () => {
    // Three segments of one batch each; removing the middle one leaves a hole.
    const log = await Log.open(dir, { 'segment.bytes': 150 });
    for (let i = 0; i < 3; i++) log.append([{ value: Buffer.alloc(100) }]);
    await log.close();
    for (const suffix of ['.log', '.index', '.timeindex']) {
      rmSync(join(dir, String(1).padStart(20, '0') + suffix));
    }
    const report = inspectLog(dir);
    expect(report.segments.map((s) => s.baseOffset)).toEqual([0, 2]);
    expect(report.problems).toEqual([]);
    expect(report.offsetGaps).toEqual([
      { after: 0, next: 2, missing: 1, path: logFile(2), position: 0 },
    ]);
    expect(report.notes).toContainEqual(expect.stringContaining('drops this segment'));
  });
});

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
