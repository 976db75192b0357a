/**
 * The log cleaner against a model of its rule: random appends, rolls, clock
 * moves, passes (some bounded) and reopens, every answer compared with the
 * model's; then tombstone expiry by the delete horizon.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Attributes, Log, decodeBatches } from '../src/log/index.js';
import { type Plain, plain, readAll, rec } from './support/records.js';
import { tempDir } from './support/temp.js';
import {
  type ModelRecord,
  T0,
  TestClock,
  applyPass,
  compacted,
  expectContiguous,
  stripModel,
  temporaryFiles,
} from './cleaner-support.js';

/** Keys compare as bytes: 'é' in latin1 and in UTF-8 are two keys, and the empty key is one. */
const KEYS = [
  Buffer.from('k0'),
  Buffer.from('k1'),
  Buffer.from([0xe9]),
  Buffer.from([0xc3, 0xa9]),
  Buffer.alloc(0),
];
const hex = (s: string) => Buffer.from(s).toString('hex');

const opArb = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('append' as const),
      records: fc.array(
        fc.record({
          key: fc.integer({ min: 0, max: KEYS.length - 1 }),
          tombstone: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
          value: fc.string({ maxLength: 12 }),
        }),
        { minLength: 1, maxLength: 5 },
      ),
      gzip: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'roll' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.nat(600) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('compact' as const),
      bound: fc.option(fc.nat(), { nil: undefined }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
);

/** The first record at or after `offset`, reading one batch at a time. */
function nextRecord(log: Log, offset: number): Plain | undefined {
  let from = offset;
  while (from < log.logEndOffset) {
    const batch = decodeBatches(log.read(from, { maxBytes: 1 }))[0];
    if (!batch) return undefined;
    const found = batch.records.find((r) => r.offset >= offset);
    if (found) return plain(found);
    from = batch.lastOffset + 1;
  }
  return undefined;
}

/** Every read, from any offset, starts with the next record that survived. */
function expectEveryReadFindsTheNextRecord(log: Log, model: readonly ModelRecord[]): void {
  for (let offset = log.logStartOffset; offset <= log.logEndOffset; offset++) {
    const expected = model.find((r) => r.offset >= offset);
    expect(nextRecord(log, offset)).toEqual(expected && stripModel([expected])[0]);
  }
}

describe('the cleaner against a model of its rule', () => {
  it('keeps the latest record of each key at its offset, and everything above the cleaned range', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          segmentBytes: fc.integer({ min: 150, max: 1500 }),
          indexInterval: fc.integer({ min: 0, max: 300 }),
          deleteRetention: fc.integer({ min: 0, max: 1000 }),
          ops: fc.array(opArb, { minLength: 10, maxLength: 60, size: 'large' }),
        }),
        async (s) => {
          const dir = tempDir('samsa-cleaner-model-');
          const clock = new TestClock();
          const config = compacted({
            'segment.bytes': s.segmentBytes,
            'index.interval.bytes': s.indexInterval,
            'delete.retention.ms': s.deleteRetention,
          });
          let log = await Log.open(dir, config, { clock: clock.read });
          let model: ModelRecord[] = [];
          const check = () => {
            expect(readAll(log, log.logStartOffset, 200)).toEqual(stripModel(model));
            expectContiguous(log);
          };
          try {
            for (const op of s.ops) {
              if (op.kind === 'append') {
                const records = op.records.map((r) => ({
                  key: KEYS[r.key]!,
                  value: r.tombstone ? null : Buffer.from(r.value),
                }));
                const { baseOffset } = log.append(records, {
                  compression: op.gzip ? 'gzip' : 'none',
                });
                records.forEach((r, i) =>
                  model.push({
                    offset: baseOffset + i,
                    timestamp: clock.now,
                    key: r.key!.toString('hex'),
                    value: r.value === null ? null : r.value.toString('hex'),
                  }),
                );
              } else if (op.kind === 'roll') {
                log.roll();
              } else if (op.kind === 'tick') {
                clock.now += op.ms;
              } else if (op.kind === 'reopen') {
                await log.close();
                log = await Log.open(dir, config, { clock: clock.read });
                check();
              } else {
                const upperBound =
                  op.bound === undefined ? undefined : op.bound % (log.logEndOffset + 1);
                const stats = await log.compact({ force: true, upperBound });
                if (stats.skipped === undefined) {
                  expect(stats.end).toBeLessThanOrEqual(upperBound ?? log.logEndOffset);
                  model = applyPass(model, stats.end, clock.now, s.deleteRetention);
                  expect(stats.recordsKept).toBeLessThanOrEqual(stats.recordsRead);
                } else {
                  expect(stats.skipped).toMatch(/^nothing to clean/);
                }
                check();
              }
            }
            check();
            expectEveryReadFindsTheNextRecord(log, model);
            await log.close();
            log = await Log.open(dir, config, { clock: clock.read });
            check();
            expect(temporaryFiles(dir)).toEqual([]);
          } finally {
            await log.close();
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('tombstones', () => {
  it('stay until now reaches the delete horizon, and the older values of their key go at once', async () => {
    const dir = tempDir('samsa-cleaner-tomb-');
    const clock = new TestClock();
    const log = await Log.open(dir, compacted({ 'delete.retention.ms': 1000 }), {
      clock: clock.read,
    });
    log.append([rec('a', '1'), rec('b', '2')]);
    log.append([rec('a', null)]);
    log.roll();
    log.append([rec('c', '3')]);

    const first = await log.compact({ force: true });
    expect(first).toMatchObject({ recordsRead: 3, recordsKept: 2, tombstonesRemoved: 0 });
    const kept = readAll(log, 0).map((r) => [r.offset, r.key, r.value]);
    expect(kept).toEqual([
      [1, hex('b'), hex('2')],
      [2, hex('a'), null],
      [3, hex('c'), hex('3')],
    ]);
    const stamped = decodeBatches(log.read(2))[0]!;
    expect(stamped.attributes & Attributes.DELETE_HORIZON).toBe(Attributes.DELETE_HORIZON);
    expect(stamped.firstTimestamp).toBe(T0 + 1000);
    expect(stamped.records[0]!.timestamp).toBe(T0); // the true timestamp survives the stamp

    clock.now = T0 + 999;
    const second = await log.compact({ force: true });
    expect(second.tombstonesRemoved).toBe(0);
    expect(readAll(log, 0).map((r) => r.offset)).toEqual([1, 2, 3]);

    clock.now = T0 + 1000;
    const third = await log.compact({ force: true });
    expect(third.tombstonesRemoved).toBe(1);
    expect(readAll(log, 0).map((r) => r.offset)).toEqual([1, 3]);
    // The emptied batch stays as the segment's last, so the next segment still follows it.
    const empty = decodeBatches(log.read(2))[0]!;
    expect(empty).toMatchObject({ baseOffset: 2, lastOffset: 2, recordCount: 0, records: [] });
    expectContiguous(log);
    await log.close();

    const reopened = await Log.open(dir, compacted({ 'delete.retention.ms': 1000 }));
    expect(readAll(reopened, 0).map((r) => r.offset)).toEqual([1, 3]);
    await reopened.close();
  });
});
