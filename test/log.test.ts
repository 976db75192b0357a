import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Log, LogErrorCode, decodeBatches, decodeRecords, encodeBatch } from '../src/log/index.js';
import { tempDir } from './support/temp.js';
import { plain, readAll, rec } from './support/records.js';
import { fill, small } from './log-support.js';

describe('Log basics', () => {
  it('starts empty: one segment, offsets [0, 0), reads at the end are empty', async () => {
    const dir = join(tempDir(), 'fresh');
    const log = await Log.open(dir);
    expect([log.logStartOffset, log.logEndOffset]).toEqual([0, 0]);
    expect(log.segments.map((s) => s.baseOffset)).toEqual([0]);
    expect(log.read(0).length).toBe(0);
    expect(() => log.read(1)).toThrow(
      expect.objectContaining({ code: LogErrorCode.OFFSET_OUT_OF_RANGE }),
    );
    expect(() => log.read(-1)).toThrow(
      expect.objectContaining({ code: LogErrorCode.OFFSET_OUT_OF_RANGE }),
    );
    await log.close();
  });

  it('assigns dense offsets, one batch per append, and reads them back', async () => {
    const log = await Log.open(tempDir());
    expect(log.append([rec('a', '1'), rec('b', '2')])).toMatchObject({
      baseOffset: 0,
      lastOffset: 1,
    });
    expect(log.append([rec('c', '3')])).toMatchObject({ baseOffset: 2, lastOffset: 2 });
    expect(log.logEndOffset).toBe(3);
    const values = decodeRecords(log.read(0)).map((r) => [r.offset, r.value!.toString()]);
    expect(values).toEqual([
      [0, '1'],
      [1, '2'],
      [2, '3'],
    ]);
    // An offset in the middle of a batch returns the batch that holds it.
    expect(decodeBatches(log.read(1))[0]!.baseOffset).toBe(0);
    await log.close();
  });

  it('returns at least one whole batch, then only whole batches within maxBytes', async () => {
    const log = await Log.open(tempDir());
    fill(log, 10, 5);
    const one = decodeBatches(log.read(0, { maxBytes: 1 }));
    expect(one).toHaveLength(1);
    const some = log.read(0, { maxBytes: 400 });
    expect(some.length).toBeLessThanOrEqual(400);
    const batches = decodeBatches(some);
    expect(batches.reduce((n, b) => n + b.size, 0)).toBe(some.length);
    expect(decodeBatches(log.read(0, { maxOffset: 10 })).at(-1)!.lastOffset).toBe(9);
    expect(log.read(10, { maxOffset: 10 }).length).toBe(0);
    await log.close();
  });

  it('keeps everything across close and reopen, and appends continue', async () => {
    const dir = tempDir();
    let log = await Log.open(dir, small);
    fill(log, 40);
    const before = readAll(log, 0);
    await log.close();
    log = await Log.open(dir, small);
    expect(readAll(log, 0)).toEqual(before);
    expect(log.append([rec('x', 'y')]).baseOffset).toBe(120);
    await log.close();
  });
});

describe('Segments', () => {
  it('rolls on segment.bytes, naming files by 20-digit base offset', async () => {
    const dir = tempDir();
    const log = await Log.open(dir, small);
    fill(log, 40);
    const segments = log.segments;
    expect(segments.length).toBeGreaterThan(3);
    for (const s of segments.slice(0, -1)) expect(s.size).toBeLessThanOrEqual(1024);
    for (let i = 1; i < segments.length; i++)
      expect(segments[i]!.baseOffset).toBe(segments[i - 1]!.lastOffset + 1);
    const names = readdirSync(dir).filter((n) => n.endsWith('.log'));
    expect(names).toEqual(segments.map((s) => String(s.baseOffset).padStart(20, '0') + '.log'));
    expect(segments.some((s) => s.indexEntries > 0 && s.timeIndexEntries > 0)).toBe(true);
    await log.close();
  });

  it('rolls when the first batch of the active segment is segment.ms older than a new one', async () => {
    const log = await Log.open(tempDir(), { 'segment.ms': 1000 });
    log.append([rec('a', '1', 10_000)]);
    log.append([rec('a', '2', 10_500)]);
    expect(log.segments).toHaveLength(1);
    log.append([rec('a', '3', 11_000)]);
    expect(log.segments.map((s) => s.baseOffset)).toEqual([0, 2]);
    await log.close();
  });

  it('rolls when the offset index is full', async () => {
    const log = await Log.open(tempDir(), { 'index.interval.bytes': 0, 'segment.index.bytes': 32 });
    fill(log, 12, 1);
    expect(log.segments.length).toBeGreaterThan(2);
    for (const s of log.segments) expect(s.indexEntries).toBeLessThanOrEqual(4);
    await log.close();
  });

  it('roll() starts a new segment at the log end offset, and is a no-op on an empty one', async () => {
    const log = await Log.open(tempDir());
    log.roll();
    expect(log.segments).toHaveLength(1);
    fill(log, 2);
    log.roll();
    log.roll();
    expect(log.segments.map((s) => s.baseOffset)).toEqual([0, 6]);
    await log.close();
  });
});

describe('Reading by timestamp', () => {
  it('finds the first offset whose timestamp is at least the target, across segments', async () => {
    const log = await Log.open(tempDir(), small);
    fill(log, 40); // timestamps 1000 + b*10 + i
    expect(log.offsetForTimestamp(0)).toBe(0);
    expect(log.offsetForTimestamp(1000)).toBe(0);
    expect(log.offsetForTimestamp(1001)).toBe(1);
    expect(log.offsetForTimestamp(1003)).toBe(3); // 1003 is missing: next is 1010 at offset 3
    expect(log.offsetForTimestamp(1392)).toBe(119);
    expect(log.offsetForTimestamp(1393)).toBeUndefined();
    await log.close();
  });

  it('handles timestamps that go backwards inside and across batches', async () => {
    const log = await Log.open(tempDir(), { 'index.interval.bytes': 0 });
    log.append([rec('a', '1', 50), rec('a', '2', 10)]);
    log.append([rec('a', '3', 20), rec('a', '4', 60)]);
    expect(log.offsetForTimestamp(15)).toBe(0);
    expect(log.offsetForTimestamp(55)).toBe(3);
    await log.close();
  });
});

describe('appendBatch', () => {
  it('assigns offsets by patching the header and leaves the records alone', async () => {
    const log = await Log.open(tempDir());
    log.append([rec('a', '1')]);
    const batch = encodeBatch([rec('b', '2', 5), rec('c', '3', 6)]);
    const recordsBefore = Buffer.from(batch.subarray(61));
    expect(log.appendBatch(batch)).toMatchObject({ baseOffset: 1, lastOffset: 2 });
    const stored = log.read(1);
    expect(stored.subarray(61).equals(recordsBefore)).toBe(true);
    expect(
      decodeRecords(stored)
        .map(plain)
        .map((r) => r.offset),
    ).toEqual([1, 2]);
    await log.close();
  });

  it('refuses bad batches with stable codes and stays usable', async () => {
    const log = await Log.open(tempDir(), { 'max.message.bytes': 200 });
    const good = encodeBatch([rec('k', 'v')]);
    const flipped = Buffer.from(good);
    flipped[good.length - 1]! ^= 1;
    const badMagic = Buffer.from(good);
    badMagic[16] = 1;
    const big = encodeBatch([rec('k', 'x'.repeat(300))]);
    expect(() => log.appendBatch('nope' as unknown as Buffer)).toThrow(TypeError);
    expect(() => log.appendBatch(good.subarray(0, 40))).toThrow(
      expect.objectContaining({ code: 'LOG_CORRUPT_BATCH' }),
    );
    expect(() => log.appendBatch(Buffer.concat([good, good]))).toThrow(
      expect.objectContaining({ code: 'LOG_CORRUPT_BATCH' }),
    );
    expect(() => log.appendBatch(flipped)).toThrow(
      expect.objectContaining({ code: 'LOG_CORRUPT_BATCH' }),
    );
    expect(() => log.appendBatch(badMagic)).toThrow(
      expect.objectContaining({ code: 'LOG_CORRUPT_BATCH' }),
    );
    expect(() => log.appendBatch(big)).toThrow(
      expect.objectContaining({ code: 'LOG_RECORD_TOO_LARGE' }),
    );
    expect(log.logEndOffset).toBe(0);
    expect(log.appendBatch(good).baseOffset).toBe(0);
    await log.close();
  });

  it('append() refuses what appendBatch() refuses: no key in a compacted log, too large', async () => {
    const log = await Log.open(tempDir(), {
      'cleanup.policy': 'compact',
      'max.message.bytes': 200,
    });
    expect(() => log.append([rec('k', 'v'), rec(null, 'v')])).toThrow(
      expect.objectContaining({ code: 'LOG_INVALID_RECORD' }),
    );
    expect(() => log.append([rec('k', 'x'.repeat(300))])).toThrow(
      expect.objectContaining({ code: 'LOG_RECORD_TOO_LARGE' }),
    );
    expect(log.logEndOffset).toBe(0);
    await log.close();
  });

  it('a compacted log refuses records without a key', async () => {
    const log = await Log.open(tempDir(), { 'cleanup.policy': 'compact' });
    expect(() => log.appendBatch(encodeBatch([rec(null, 'v')]))).toThrow(
      expect.objectContaining({ code: 'LOG_INVALID_RECORD' }),
    );
    expect(log.appendBatch(encodeBatch([rec('k', null)])).baseOffset).toBe(0);
    await log.close();
  });

  it('a follower batch above the end that rolls a segment survives a reopen', async () => {
    const dir = tempDir();
    let log = await Log.open(dir, { 'segment.bytes': 100 });
    log.append([rec('a', 'b')]);
    const gapped = encodeBatch([rec('a', 'x'.repeat(50))], { baseOffset: 10 });
    log.appendBatch(gapped, { assignOffsets: false });
    expect(log.segments.map((s) => s.baseOffset)).toEqual([0, 1]);
    await log.close();
    log = await Log.open(dir, { 'segment.bytes': 100 });
    expect(log.logEndOffset).toBe(11);
    expect(readAll(log, 0).map((r) => r.offset)).toEqual([0, 10]);
    await log.close();
  });

  it('keeps offsets as given for a follower, and refuses offsets below the end', async () => {
    const log = await Log.open(tempDir());
    expect(
      log.appendBatch(encodeBatch([rec('a', '1')], { baseOffset: 5 }), { assignOffsets: false }),
    ).toMatchObject({
      baseOffset: 5,
    });
    expect(log.logEndOffset).toBe(6);
    expect(() =>
      log.appendBatch(encodeBatch([rec('a', '1')], { baseOffset: 3 }), { assignOffsets: false }),
    ).toThrow(expect.objectContaining({ code: 'LOG_INVALID_RECORD' }));
    await log.close();
  });
});

describe('truncateTo', () => {
  it('drops every batch at or above the offset, whole batches only', async () => {
    const log = await Log.open(tempDir(), small);
    fill(log, 40); // batches of 3
    const all = readAll(log, 0);
    log.truncateTo(60);
    expect(log.logEndOffset).toBe(60);
    expect(readAll(log, 0)).toEqual(all.slice(0, 60));
    log.truncateTo(31); // straddles the batch [30, 32]: it goes whole
    expect(log.logEndOffset).toBe(30);
    expect(log.append([rec('n', 'new')]).baseOffset).toBe(30);
    log.truncateTo(1000);
    expect(log.logEndOffset).toBe(31);
    await log.close();
  });

  it('lowers the cleaner checkpoint with the log end, so rewritten offsets count as dirty', async () => {
    const log = await Log.open(tempDir(), { ...small, 'cleanup.policy': 'compact' });
    fill(log, 40);
    log.roll();
    await log.compact({ force: true });
    expect(log.cleanerCheckpoint).toBe(120);
    log.truncateTo(60);
    expect(log.cleanerCheckpoint).toBe(60);
    await log.close();
  });

  it('survives a reopen, and truncating to the start empties the log', async () => {
    const dir = tempDir();
    let log = await Log.open(dir, small);
    fill(log, 40);
    log.truncateTo(45);
    await log.close();
    log = await Log.open(dir, small);
    expect(log.logEndOffset).toBe(45);
    log.truncateTo(0);
    expect([log.logStartOffset, log.logEndOffset, log.segments.length]).toEqual([0, 0, 1]);
    expect(log.append([rec('a', 'b')]).baseOffset).toBe(0);
    await log.close();
  });
});

describe('Misuse and closed logs', () => {
  it('throws TypeError on wrong argument types and LOG_CLOSED after close', async () => {
    await expect(Log.open('')).rejects.toThrow(TypeError);
    await expect(Log.open(tempDir(), { 'segment.bytes': -1 })).rejects.toThrow(
      expect.objectContaining({ code: 'LOG_INVALID_CONFIG' }),
    );
    await expect(Log.open(tempDir(), { 'no.such.key': 1 } as never)).rejects.toThrow(
      expect.objectContaining({ code: 'LOG_INVALID_CONFIG' }),
    );
    const log = await Log.open(tempDir());
    expect(() => log.read(1.5)).toThrow(TypeError);
    expect(() => log.append([] as never)).toThrow(TypeError);
    await log.close();
    expect(() => log.append([rec('a', 'b')])).toThrow(
      expect.objectContaining({ code: 'LOG_CLOSED' }),
    );
    expect(() => log.read(0)).toThrow(expect.objectContaining({ code: 'LOG_CLOSED' }));
  });
});
