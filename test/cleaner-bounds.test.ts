/**
 * What the cleaner never touches (segments at or above the upper bound, the
 * active segment, segments newer than min.compaction.lag.ms, logs whose
 * policy has no compact, logs not dirty enough), and what it keeps of each
 * batch it rewrites: header fields, CRC, compression, indexes, contiguity.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  Attributes,
  type LogConfig,
  Log,
  type RecordBatch,
  readBatchHeader,
} from '../src/log/index.js';
import { readAll, rec } from './support/records.js';
import { tempDir } from './support/temp.js';
import {
  T0,
  TestClock,
  allBatches,
  compacted,
  expectContiguous,
  filesEndingWith,
} from './cleaner-support.js';

const hex = (s: string) => Buffer.from(s).toString('hex');

describe('what the cleaner never touches', () => {
  async function logWithSegments(config: Partial<LogConfig>, clock = new TestClock()) {
    const dir = tempDir('samsa-cleaner-bound-');
    const log = await Log.open(dir, compacted(config), { clock: clock.read });
    for (let s = 0; s < 4; s++) {
      for (let i = 0; i < 3; i++) log.append([rec('k', `v${s}-${i}`), rec(`u${s}`, 'x')]);
      log.roll();
    }
    log.append([rec('k', 'active')]);
    return { dir, log, clock };
  }

  it('leaves segments at or above the upper bound, and the active one, byte for byte', async () => {
    const { dir, log } = await logWithSegments({});
    const before = filesEndingWith(dir, '.log');
    const bound = log.segments[2]!.baseOffset + 1; // inside the third segment
    const end = log.segments[2]!.baseOffset;
    const stats = await log.compact({ force: true, upperBound: bound });
    expect(stats).toMatchObject({ start: 0, end, segmentsRead: 2, segmentsWritten: 1 });
    const after = filesEndingWith(dir, '.log');
    const names = [...before.keys()];
    expect(after.get(names[0]!)!.length).toBeLessThan(before.get(names[0]!)!.length);
    for (const name of names.slice(2)) expect(after.get(name)).toEqual(before.get(name));
    expect(readAll(log, end).filter((r) => r.key === hex('k'))).toHaveLength(7);
    await log.close();
  });

  it('leaves segments from the first one newer than min.compaction.lag.ms on', async () => {
    const clock = new TestClock();
    const dir = tempDir('samsa-cleaner-lag-');
    const log = await Log.open(dir, compacted({ 'min.compaction.lag.ms': 1000 }), {
      clock: clock.read,
    });
    log.append([rec('k', '1'), rec('k', '2')]);
    log.roll();
    log.append([rec('k', '3'), rec('k', '4')], { timestamp: T0 + 4500 });
    log.roll();
    log.append([rec('k', '5'), rec('k', '6')], { timestamp: T0 + 100 });
    log.roll();
    log.append([rec('k', 'active')]);
    const before = filesEndingWith(dir, '.log');
    clock.now = T0 + 5000;
    const stats = await log.compact({ force: true });
    expect(stats).toMatchObject({ start: 0, end: 2, segmentsRead: 1 });
    const after = filesEndingWith(dir, '.log');
    for (const name of [...before.keys()].slice(1))
      expect(after.get(name)).toEqual(before.get(name));
    expect(readAll(log, 0).map((r) => r.offset)).toEqual([1, 2, 3, 4, 5, 6]);
    await log.close();
  });

  it('skips a log whose dirty ratio is below min.cleanable.dirty.ratio unless forced', async () => {
    const { log } = await logWithSegments({ 'min.cleanable.dirty.ratio': 0.5 });
    const first = await log.compact();
    expect(first.skipped).toBeUndefined();
    expect(log.segments.length).toBe(2);
    log.append([rec('k', 'more')]);
    log.roll();
    const second = await log.compact();
    expect(second.skipped).toMatch(/^dirty ratio 0\.\d+ is below min.cleanable.dirty.ratio 0.5/);
    const forced = await log.compact({ force: true });
    expect(forced.skipped).toBeUndefined();
    expect(forced.recordsRead).toBeGreaterThan(forced.recordsKept);
    await log.close();
  });

  it('skips a log whose cleanup.policy has no compact, and one with nothing but the active segment', async () => {
    const dir = tempDir('samsa-cleaner-policy-');
    const log = await Log.open(dir, { 'cleanup.policy': 'delete' });
    log.append([rec('k', '1')]);
    log.roll();
    log.append([rec('k', '2')]);
    const before = filesEndingWith(dir, '.log');
    expect((await log.compact({ force: true })).skipped).toBe('cleanup.policy has no compact');
    expect(filesEndingWith(dir, '.log')).toEqual(before);
    await log.close();

    const only = await Log.open(tempDir('samsa-cleaner-active-'), compacted());
    only.append([rec('k', '1'), rec('k', '2')]);
    expect((await only.compact({ force: true })).skipped).toBe('nothing to clean');
    expect(() => only.compact({ upperBound: 1.5 })).toThrow(TypeError);
    await only.close();
  });
});

describe('batches the cleaner rewrites', () => {
  it('keep their header fields, a valid CRC, and their compression', async () => {
    const dir = tempDir('samsa-cleaner-fields-');
    const log = await Log.open(dir, compacted());
    const producer = { producerId: 42, producerEpoch: 3, baseSequence: 7, partitionLeaderEpoch: 5 };
    log.append([rec('a', '1'), rec('b', '1'), rec('a', '2'), rec('c', '1')], producer);
    log.append([rec('c', '1'), rec('x', 'gz'), rec('c', '2')], { compression: 'gzip' });
    log.append([rec('t', 'txn'), rec('b', '2')], { transactional: true, producerId: 9 });
    log.append([rec('m', 'marker')], { control: true, producerId: 9 });
    log.append([rec('m', 'marker')], { control: true, producerId: 9 });
    log.roll();
    log.append([rec('c', '3')]);
    const original = allBatches(log);

    await log.compact({ force: true });
    const cleaned = allBatches(log); // CRCs checked here
    expect(cleaned.map((b) => b.baseOffset)).toEqual(original.map((b) => b.baseOffset));
    // Everything but the records, their count, the length and the CRC stays.
    const fields = (b: RecordBatch) =>
      [
        b.baseOffset,
        b.lastOffset,
        b.partitionLeaderEpoch,
        b.magic,
        b.attributes,
        b.firstTimestamp,
        b.maxTimestamp,
        b.producerId,
        b.producerEpoch,
        b.baseSequence,
        b.isTransactional,
        b.isControl,
        b.compression,
      ].join(' ');
    expect(cleaned.map(fields)).toEqual(original.map(fields));
    const offsets = (i: number) => cleaned[i]!.records.map((r) => r.offset);
    expect(offsets(0)).toEqual([2]); // a, b and c have later records; lastOffsetDelta stays 3
    expect(cleaned[0]!.lastOffset).toBe(3);
    expect(cleaned[0]!.producerId).toBe(42);
    expect(offsets(1)).toEqual([5, 6]);
    expect(cleaned[1]!.compression).toBe(1);
    expect(offsets(2)).toEqual([7, 8]);
    expect(cleaned[2]!.isTransactional).toBe(true);
    expect(offsets(3)).toEqual([9]); // control batches are never cleaned by key
    expect(offsets(4)).toEqual([10]);
    expect(cleaned[5]!.records.map((r) => r.value!.toString())).toEqual(['3']);
    await log.close();
  });

  it('are indexed exactly as a rebuild from the log would index them', async () => {
    const dir = tempDir('samsa-cleaner-index-');
    const config = compacted({ 'index.interval.bytes': 100, 'segment.bytes': 6000 });
    const log = await Log.open(dir, config);
    for (let i = 0; i < 200; i++) {
      const timestamp = T0 + ((i * 37) % 500); // not in order: the time index only grows
      log.append([rec(`k${i % 7}`, `v${i}`), rec(`u${i}`, 'x')], { timestamp });
      if (i % 50 === 49) log.roll();
    }
    log.append([rec('k0', 'active')]);
    await log.compact({ force: true });
    await log.close();
    const written = filesEndingWith(dir, 'index'); // .index and .timeindex
    expect(written.size).toBeGreaterThan(4); // several cleaned segments
    for (const name of written.keys()) rmSync(join(dir, name));
    await (await Log.open(dir, config)).close(); // rebuilds them from the batch headers
    expect(filesEndingWith(dir, 'index')).toEqual(written);
  });

  it('keep the segment contiguous when its last batch empties out', async () => {
    const dir = tempDir('samsa-cleaner-empty-');
    const built = await Log.open(dir, compacted());
    built.append([rec('a', '1')]);
    built.append([rec('b', '1'), rec('b', '2')], { compression: 'gzip' });
    built.roll();
    built.append([rec('a', '2'), rec('b', '3')]);
    built.roll();
    built.append([rec('z', 'active')]);
    const first = built.segments[0]!.size;
    await built.close();
    // Small enough that the two segments are cleaned apart, each into its own.
    const log = await Log.open(dir, compacted({ 'segment.bytes': first + 1 }));
    await log.compact({ force: true });
    const batches = allBatches(log);
    expect(batches.map((b) => [b.baseOffset, b.lastOffset, b.recordCount])).toEqual([
      [1, 2, 0],
      [3, 4, 2],
      [5, 5, 1],
    ]);
    expect(readBatchHeader(log.read(1)).attributes & Attributes.COMPRESSION_MASK).toBe(1);
    expectContiguous(log);
    await log.close();
    const reopened = await Log.open(dir, compacted());
    expect(reopened.segments.map((s) => [s.baseOffset, s.lastOffset])).toEqual([
      [0, 2],
      [3, 4],
      [5, 5],
    ]);
    expect(readAll(reopened, 0).map((r) => r.offset)).toEqual([3, 4, 5]);
    await reopened.close();
  });
});
