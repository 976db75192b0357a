/**
 * The log against a tiny in-memory model: random sequences of append, read,
 * roll, close-and-reopen, crash-and-reopen, truncateTo and offsetForTimestamp,
 * with every answer compared to the model's.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Log, decodeBatches } from '../src/log/index.js';
import { type Plain, plain, readAll } from './support/records.js';
import { tempDir } from './support/temp.js';

interface ModelBatch {
  baseOffset: number;
  records: Plain[];
}

/** The oracle: a list of batches with dense offsets. */
class Model {
  batches: ModelBatch[] = [];
  logEndOffset = 0;

  append(records: { key: Buffer | null; value: Buffer | null; timestamp: number }[]): void {
    const baseOffset = this.logEndOffset;
    this.batches.push({
      baseOffset,
      records: records.map((r, i) => ({
        offset: baseOffset + i,
        timestamp: r.timestamp,
        key: r.key === null ? null : r.key.toString('hex'),
        value: r.value === null ? null : r.value.toString('hex'),
      })),
    });
    this.logEndOffset += records.length;
  }

  truncateTo(offset: number): void {
    if (offset >= this.logEndOffset) return;
    const keep = this.batches.filter((b) => b.baseOffset + b.records.length - 1 < offset);
    const firstRemoved = this.batches[keep.length]!;
    this.batches = keep;
    this.logEndOffset = Math.min(offset, firstRemoved.baseOffset);
  }

  all(): Plain[] {
    return this.batches.flatMap((b) => b.records);
  }

  batchHolding(offset: number): ModelBatch | undefined {
    return this.batches.find(
      (b) => b.baseOffset <= offset && offset < b.baseOffset + b.records.length,
    );
  }

  offsetForTimestamp(ts: number): number | undefined {
    return this.all().find((r) => r.timestamp >= ts)?.offset;
  }
}

const recordArb = fc.record({
  key: fc.option(
    fc.uint8Array({ maxLength: 12 }).map((a) => Buffer.from(a)),
    { nil: null },
  ),
  value: fc.option(
    fc.uint8Array({ maxLength: 80 }).map((a) => Buffer.from(a)),
    { nil: null },
  ),
  timestamp: fc.integer({ min: 0, max: 5000 }),
});

const op = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('append' as const),
      records: fc.array(recordArb, { minLength: 1, maxLength: 6 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('read' as const),
      at: fc.nat(),
      maxBytes: fc.integer({ min: 1, max: 600 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('roll' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reopen' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('crash' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('flush' as const) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('truncate' as const),
      at: fc.nat(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('time' as const),
      ts: fc.integer({ min: -10, max: 5100 }),
    }),
  },
);

const configArb = fc.record({
  'segment.bytes': fc.integer({ min: 100, max: 3000 }),
  'index.interval.bytes': fc.integer({ min: 0, max: 600 }),
  'segment.index.bytes': fc.integer({ min: 32, max: 400 }),
});

describe('Log against a model', () => {
  it('every read, offset and timestamp lookup equals the model', async () => {
    await fc.assert(
      fc.asyncProperty(configArb, fc.array(op, { maxLength: 60 }), async (config, ops) => {
        const dir = tempDir('samsa-model-');
        const model = new Model();
        let log = await Log.open(dir, config);
        try {
          for (const o of ops) {
            switch (o.kind) {
              case 'append': {
                const result = log.append(o.records);
                expect(result.baseOffset).toBe(model.logEndOffset);
                model.append(o.records);
                expect(result.lastOffset).toBe(model.logEndOffset - 1);
                break;
              }
              case 'read': {
                const offset = o.at % (model.logEndOffset + 1);
                const batches = decodeBatches(log.read(offset, { maxBytes: o.maxBytes }));
                if (offset === model.logEndOffset) {
                  expect(batches).toEqual([]);
                  break;
                }
                expect(batches.length).toBeGreaterThan(0);
                expect(batches[0]!.baseOffset).toBe(model.batchHolding(offset)!.baseOffset);
                const got = batches.flatMap((b) => b.records.map(plain));
                const want = model.all().filter((r) => r.offset >= batches[0]!.baseOffset);
                expect(got).toEqual(want.slice(0, got.length));
                break;
              }
              case 'roll':
                log.roll();
                break;
              case 'flush':
                await log.flush();
                expect(log.recoveryPoint).toBe(model.logEndOffset);
                break;
              case 'reopen':
                await log.close();
                log = await Log.open(dir, config);
                break;
              case 'crash':
                log.abandon();
                log = await Log.open(dir, config);
                break;
              case 'truncate': {
                const offset = o.at % (model.logEndOffset + 1);
                log.truncateTo(offset);
                model.truncateTo(offset);
                break;
              }
              case 'time':
                expect(log.offsetForTimestamp(o.ts)).toBe(model.offsetForTimestamp(o.ts));
                break;
            }
            expect(log.logEndOffset).toBe(model.logEndOffset);
          }
          expect(readAll(log, 0)).toEqual(model.all());
          for (const s of log.segments)
            expect(s.lastOffset).toBeGreaterThanOrEqual(s.baseOffset - 1);
        } finally {
          if (!log.isClosed) await log.close();
        }
      }),
      { numRuns: 150 },
    );
  });
});
