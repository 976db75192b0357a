import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type BatchReport,
  Log,
  encodeBatch,
  inspectLog,
  inspectSegment,
} from '../src/log/index.js';
import { rawBatch } from './support/raw-batch.js';
import { CONFIG, START, buildLog, dir, logFile } from './inspect-support.js';

function allBatches(): BatchReport[] {
  return inspectLog(dir).segments.flatMap((s) => s.batches);
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
