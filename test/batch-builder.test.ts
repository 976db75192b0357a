/** The batch builder writes, record by record, exactly what encodeBatch writes at once. */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { BatchBuilder, bytesFieldSize, headersSize } from '../src/log/batch-builder.js';
import { BATCH_HEADER_SIZE } from '../src/log/batch-header.js';
import { type AppendRecord, decodeRecords, encodeBatch } from '../src/log/record-batch.js';

const NOW = 1_700_000_000_000;

const bytes = fc.oneof(
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 100 }).map((a) => Buffer.from(a)) },
  { weight: 1, arbitrary: fc.constantFrom(63, 64, 8191, 8192).map((n) => Buffer.alloc(n, 3)) },
);
const record: fc.Arbitrary<AppendRecord> = fc
  .record({
    key: bytes,
    value: bytes,
    headers: fc.option(
      fc.array(fc.record({ key: fc.string({ maxLength: 8 }), value: bytes }), { maxLength: 3 }),
      { nil: undefined },
    ),
    timestamp: fc.option(fc.integer({ min: -(2 ** 45), max: 2 ** 45 }), { nil: undefined }),
  })
  .map((r) => {
    const out: AppendRecord = { key: r.key, value: r.value };
    if (r.headers !== undefined) out.headers = r.headers;
    if (r.timestamp !== undefined) out.timestamp = r.timestamp;
    return out;
  });

function build(records: AppendRecord[], capacity: number, compression: 'none' | 'gzip' = 'none') {
  const builder = new BatchBuilder(Buffer.alloc(capacity, 0xee), compression);
  for (const r of records) {
    const key = r.key ?? null;
    const payload = bytesFieldSize(key) + bytesFieldSize(r.value) + headersSize(r.headers);
    const timestamp = r.timestamp ?? NOW;
    const before = builder.size;
    const expected = builder.sizeOfNext(timestamp, payload);
    builder.append(timestamp, key, r.value, r.headers, payload);
    expect(builder.size - before).toBe(expected);
  }
  return builder;
}

describe('BatchBuilder', () => {
  it('builds the bytes encodeBatch encodes, byte for byte (any records, any buffer size)', () => {
    fc.assert(
      fc.property(
        fc.array(record, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: BATCH_HEADER_SIZE, max: 20_000 }),
        (records, capacity) => {
          const built = build(records, capacity).build();
          expect(built.toString('hex')).toBe(
            encodeBatch(records, { timestamp: NOW }).toString('hex'),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('with gzip, builds a batch that decodes to the same records as encodeBatch', () => {
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 20 }), (records) => {
        const built = build(records, 4096, 'gzip').build();
        const encoded = encodeBatch(records, { timestamp: NOW, compression: 'gzip' });
        expect(built.subarray(0, 17)).toEqual(encoded.subarray(0, 17)); // up to the CRC
        expect(decodeRecords(built)).toEqual(decodeRecords(encoded));
      }),
      { numRuns: 50 },
    );
  });

  it('writes into the buffer it is given, and returns the same bytes when built again', () => {
    const buffer = Buffer.alloc(16_384);
    const b = new BatchBuilder(buffer);
    b.append(NOW, Buffer.from('k'), Buffer.from('v'), undefined, 4);
    const out = b.build();
    expect(out.buffer).toBe(buffer.buffer);
    expect(b.build()).toBe(out);
    expect(() => b.append(NOW, null, null, undefined, 2)).toThrow(TypeError);
  });

  it('refuses an empty batch and a timestamp delta beyond 2^53', () => {
    const b = new BatchBuilder(Buffer.alloc(100));
    expect(() => b.build()).toThrow(TypeError);
    b.append(-(2 ** 52), null, null, undefined, 2);
    expect(() => b.append(2 ** 52, null, null, undefined, 2)).toThrow(TypeError);
    expect(() => new BatchBuilder(Buffer.alloc(10))).toThrow(RangeError);
  });
});
