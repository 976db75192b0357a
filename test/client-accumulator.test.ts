/** The accumulator counts a batch's exact encoded size, so batches fill to batch.size. */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import type { AppendRecord } from '../src/log/index.js';
import { RecordAccumulator, SendTracker, recordSize } from '../src/client/accumulator.js';

const buffer = fc.oneof(
  fc.constant(null),
  fc.nat(200).map((n) => Buffer.alloc(n, 7)),
  fc.constantFrom(63, 64, 8191, 8192).map((n) => Buffer.alloc(n, 1)),
);
const record: fc.Arbitrary<AppendRecord> = fc
  .record({
    key: buffer,
    value: buffer,
    headers: fc.option(
      fc.array(fc.record({ key: fc.string({ maxLength: 8 }), value: buffer }), { maxLength: 3 }),
      { nil: undefined },
    ),
    timestamp: fc.option(fc.integer({ min: 0, max: 2 ** 40 }), { nil: undefined }),
  })
  .map((r) => {
    const out: AppendRecord = { key: r.key, value: r.value };
    if (r.headers !== undefined) out.headers = r.headers;
    if (r.timestamp !== undefined) out.timestamp = r.timestamp;
    return out;
  });

describe('the record accumulator', () => {
  it("counts each batch's size exactly as encoded", () => {
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 300 }), (records) => {
        const accumulator = new RecordAccumulator({ batchSize: 16_384, lingerMs: 0 });
        const tracker = new SendTracker(
          records.length,
          () => {},
          () => {},
        );
        records.forEach((r, i) => accumulator.append('t', 0, r, recordSize(r), tracker, i, 1_000));
        const batches = [...accumulator.queues.values()][0]!.batches;
        for (const batch of batches) {
          expect(batch.bytes('none').length).toBe(batch.size);
          if (batch.records.length > 1) expect(batch.size).toBeLessThanOrEqual(16_384);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('fills a 16 KiB batch with 148 records of 100 bytes (not 134)', () => {
    const accumulator = new RecordAccumulator({ batchSize: 16_384, lingerMs: 0 });
    const tracker = new SendTracker(
      1000,
      () => {},
      () => {},
    );
    for (let i = 0; i < 1000; i++) {
      const r = { key: Buffer.alloc(10), value: Buffer.alloc(90) };
      accumulator.append('t', 0, r, recordSize(r), tracker, i, 1_000);
    }
    const first = [...accumulator.queues.values()][0]!.batches[0]!;
    expect(first.records.length).toBe(148);
    expect(first.bytes('none').length).toBeLessThanOrEqual(16_384);
  });
});
