/** The accumulator counts a batch's exact encoded size, so batches fill to batch.size. */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import type { AppendRecord } from '../src/log/index.js';
import { RecordAccumulator, SendTracker, recordSize } from '../src/client/accumulator.js';
import { bytesFieldSize, headersSize } from '../src/log/batch-builder.js';
import { decodeRecords } from '../src/log/record-batch.js';

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

function append(
  accumulator: RecordAccumulator,
  r: AppendRecord,
  tracker: SendTracker,
  i: number,
): void {
  const key = r.key ?? null;
  const payload = bytesFieldSize(key) + bytesFieldSize(r.value) + headersSize(r.headers);
  const reserved = recordSize(key, r.value, r.headers);
  accumulator.append(
    't',
    0,
    key,
    r.value,
    r.headers,
    r.timestamp,
    payload,
    reserved,
    tracker,
    i,
    1_000,
  );
}

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
        records.forEach((r, i) => append(accumulator, r, tracker, i));
        const batches = [...accumulator.queues.values()][0]!.batches;
        const decoded = [];
        for (const batch of batches) {
          expect(batch.bytes().length).toBe(batch.size);
          if (batch.recordCount > 1) expect(batch.size).toBeLessThanOrEqual(16_384);
          decoded.push(...decodeRecords(batch.bytes()));
        }
        expect(decoded.map((r) => r.value)).toEqual(records.map((r) => r.value));
        expect(decoded.map((r) => r.timestamp)).toEqual(records.map((r) => r.timestamp ?? 1_000));
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
      append(accumulator, { key: Buffer.alloc(10), value: Buffer.alloc(90) }, tracker, i);
    }
    const first = [...accumulator.queues.values()][0]!.batches[0]!;
    expect(first.recordCount).toBe(148);
    expect(first.bytes().length).toBeLessThanOrEqual(16_384);
  });

  it("resolves each send's records to their offsets and timestamps across batches", async () => {
    const accumulator = new RecordAccumulator({ batchSize: 1_000, lingerMs: 0 });
    const sends = [0, 1].map(() => {
      let resolve!: (r: unknown) => void;
      const promise = new Promise((r) => (resolve = r));
      return { tracker: new SendTracker(30, resolve, () => {}), promise };
    });
    for (let i = 0; i < 30; i++) {
      for (const send of sends) {
        const r = { value: Buffer.alloc(40), timestamp: i % 7 === 0 ? 5_000 + i : undefined };
        append(accumulator, r, send.tracker, i);
      }
    }
    const batches = [...accumulator.queues.values()][0]!.batches;
    expect(batches.length).toBeGreaterThan(1);
    let offset = 100;
    for (const batch of batches) {
      batch.bytes();
      batch.complete(offset);
      offset += batch.recordCount;
    }
    const [a, b] = (await Promise.all(sends.map((s) => s.promise))) as {
      offset: number;
      timestamp: number;
    }[][];
    for (let i = 0; i < 30; i++) {
      expect(a![i]!.offset).toBe(100 + 2 * i);
      expect(b![i]!.offset).toBe(101 + 2 * i);
      expect(a![i]!.timestamp).toBe(i % 7 === 0 ? 5_000 + i : 1_000);
    }
  });

  it('reuses the buffer of an acknowledged batch', () => {
    const accumulator = new RecordAccumulator({ batchSize: 500, lingerMs: 0 });
    const tracker = new SendTracker(
      20,
      () => {},
      () => {},
    );
    for (let i = 0; i < 10; i++) append(accumulator, { value: Buffer.alloc(90, i) }, tracker, i);
    const queue = [...accumulator.queues.values()][0]!;
    const first = queue.batches.shift()!;
    const bytes = first.bytes();
    first.complete(0);
    accumulator.recycle(first);
    for (let i = 10; i < 20; i++) append(accumulator, { value: Buffer.alloc(90, i) }, tracker, i);
    const reused = queue.batches.find((b) => b.buffer === first.buffer);
    expect(reused).toBeDefined();
    expect(decodeRecords(reused!.bytes())[0]!.value![0]).toBeGreaterThanOrEqual(10);
    expect(bytes.buffer).toBe(reused!.bytes().buffer);
  });
});

describe("a send's metadata, made lazily", () => {
  const tracked = () => {
    let resolve!: (r: unknown) => void;
    const promise = new Promise((r) => (resolve = r));
    return { tracker: new SendTracker(5, resolve, () => {}), promise };
  };
  const expected = [
    { topic: 'a', partition: 1, offset: 10, timestamp: 7 },
    { topic: 'a', partition: 1, offset: 11, timestamp: 7 },
    { topic: 'b', partition: 0, offset: -1, timestamp: 8 },
    { topic: 'a', partition: 1, offset: 20, timestamp: 31 },
    { topic: 'a', partition: 1, offset: 21, timestamp: 32 },
  ];
  const complete = (tracker: SendTracker) => {
    // Runs complete out of order, as batches of different partitions do.
    tracker.done({ topic: 'a', partition: 1, start: 3, length: 2, offset: 20, timestamp: 0, timestamps: [30, 31, 32], timestampsFrom: 1 }); // prettier-ignore
    tracker.done({ topic: 'b', partition: 0, start: 2, length: 1, offset: -1, timestamp: 8, timestamps: undefined, timestampsFrom: 0 }); // prettier-ignore
    tracker.done({ topic: 'a', partition: 1, start: 0, length: 2, offset: 10, timestamp: 7, timestamps: undefined, timestampsFrom: 4 }); // prettier-ignore
  };

  it('resolves only once every run is done, to an array that reads like a plain one', async () => {
    const { tracker, promise } = tracked();
    let resolved = false;
    void promise.then(() => (resolved = true));
    tracker.done({ topic: 'b', partition: 0, start: 2, length: 1, offset: -1, timestamp: 8, timestamps: undefined, timestampsFrom: 0 }); // prettier-ignore
    await Promise.resolve();
    expect(resolved).toBe(false);
    tracker.done({ topic: 'a', partition: 1, start: 3, length: 2, offset: 20, timestamp: 0, timestamps: [30, 31, 32], timestampsFrom: 1 }); // prettier-ignore
    tracker.done({ topic: 'a', partition: 1, start: 0, length: 2, offset: 10, timestamp: 7, timestamps: undefined, timestampsFrom: 4 }); // prettier-ignore
    const results = (await promise) as unknown[];
    expect(Array.isArray(results)).toBe(true);
    expect(results.length).toBe(5);
    expect(results).toEqual(expected);
    expect(results[3]).toEqual(expected[3]);
    expect(results[3]).toBe(results[3]); // one object per record, made once
  });

  it.each([
    ['index', (r: unknown[]) => r[0]],
    ['spread', (r: unknown[]) => [...r]],
    ['map', (r: unknown[]) => r.map((m) => m)],
    ['destructuring', (r: unknown[]) => (([a, b, c, d, e]) => [a, b, c, d, e])(r)],
    ['JSON', (r: unknown[]) => JSON.parse(JSON.stringify(r)) as unknown],
    ['Object.keys', (r: unknown[]) => Object.keys(r)],
    ['in', (r: unknown[]) => 4 in r],
    ['Object.entries', (r: unknown[]) => Object.entries(r)],
  ])('gives every element on first use by %s', async (_, use) => {
    const { tracker, promise } = tracked();
    complete(tracker);
    const results = (await promise) as unknown[];
    use(results);
    expect(Object.keys(results)).toEqual(['0', '1', '2', '3', '4']);
    expect([...results]).toEqual(expected);
    expect(JSON.stringify(results)).toBe(JSON.stringify(expected));
  });

  it('can be changed like any array', async () => {
    const { tracker, promise } = tracked();
    complete(tracker);
    const results = (await promise) as unknown[];
    results[5] = 'x';
    results.push('y');
    expect(results.length).toBe(7);
    expect(results.slice(4)).toEqual([expected[4], 'x', 'y']);
    results.length = 1;
    expect(results).toEqual([expected[0]]);
  });
});
