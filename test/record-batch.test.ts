import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  ATTRIBUTES_POS,
  CRC_POS,
  MAGIC_POS,
  RECORD_COUNT_POS,
  RECORDS_POS,
  computeBatchCrc,
  patchBaseOffset,
  readBatchHeader,
} from '../src/log/batch-header.js';
import { CorruptBatchError, UnsupportedCompressionError } from '../src/log/errors.js';
import {
  type AppendRecord,
  type EncodeOptions,
  type LogRecord,
  decodeBatches,
  decodeRecords,
  encodeBatch,
} from '../src/log/record-batch.js';

const NOW = 1_700_000_000_000;

const hex = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b).toString('hex'));

/** A decoded record as plain data, so that a failure prints readable hex. */
function plain(r: LogRecord) {
  const { offset, timestamp, key, value } = r;
  const headers = r.headers.map((h) => ({ key: h.key, value: hex(h.value) }));
  return { offset, timestamp, key: hex(key), value: hex(value), headers };
}

/** What decoding `records`, encoded at `NOW` and given `baseOffset`, must give. */
function expected(records: readonly AppendRecord[], baseOffset = 0) {
  return records.map((r, i) => ({
    offset: baseOffset + i,
    timestamp: r.timestamp ?? NOW,
    key: hex(r.key ?? null),
    value: hex(r.value),
    headers: (r.headers ?? []).map((h) => ({ key: h.key, value: hex(h.value) })),
  }));
}

function encodeAt(records: AppendRecord[], baseOffset: number, options: EncodeOptions = {}) {
  const bytes = encodeBatch(records, { timestamp: NOW, ...options });
  patchBaseOffset(bytes, baseOffset);
  return bytes;
}

function recomputeCrc(bytes: Buffer): Buffer {
  bytes.writeUInt32BE(computeBatchCrc(bytes, 0, bytes.length), CRC_POS);
  return bytes;
}

function expectCorrupt(decode: () => unknown): void {
  expect(decode).toThrow(CorruptBatchError);
}

const bytes = fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a));
const nullableBytes = fc.option(bytes, { nil: null, freq: 4 });
const headerKey = fc.string({ unit: 'grapheme', maxLength: 12 });
const recordHeader = fc.record({ key: headerKey, value: nullableBytes });
const timestamp = fc.oneof(
  fc.integer({ min: NOW - 100_000, max: NOW + 100_000 }),
  fc.integer({ min: -(2 ** 40), max: 2 ** 42 }),
);
const appendRecord: fc.Arbitrary<AppendRecord> = fc.record(
  {
    key: nullableBytes,
    value: nullableBytes,
    headers: fc.array(recordHeader, { maxLength: 4 }),
    timestamp,
  },
  { requiredKeys: ['value'] },
);
const recordList = fc.array(appendRecord, { minLength: 1, maxLength: 20 });
const baseOffset = fc.integer({ min: 0, max: 2 ** 50 });
const producer = fc.record({
  partitionLeaderEpoch: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
  producerId: fc.integer({ min: -1, max: 2 ** 50 }),
  producerEpoch: fc.integer({ min: -1, max: 2 ** 15 - 1 }),
  baseSequence: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
});
const compression = fc.constantFrom('none' as const, 'gzip' as const);

describe('round trips', () => {
  it('gives back any records, at the patched offsets, with or without gzip', () => {
    fc.assert(
      fc.property(recordList, baseOffset, producer, compression, (records, base, ids, codec) => {
        const encoded = encodeAt(records, base, { ...ids, compression: codec });
        const batches = decodeBatches(encoded);
        expect(batches).toHaveLength(1);
        const { records: decoded, position, isTransactional, isControl, ...header } = batches[0]!;
        expect(decoded.map(plain)).toEqual(expected(records, base));
        expect(header).toEqual({
          ...readBatchHeader(encoded),
          compression: codec === 'gzip' ? 1 : 0,
        });
        const timestamps = records.map((r) => r.timestamp ?? NOW);
        expect(header).toMatchObject({
          ...ids,
          baseOffset: base,
          lastOffset: base + records.length - 1,
          recordCount: records.length,
          firstTimestamp: timestamps[0],
          maxTimestamp: Math.max(...timestamps),
          size: encoded.length,
          magic: 2,
          attributes: codec === 'gzip' ? 1 : 0,
        });
        expect([position, isTransactional, isControl]).toEqual([0, false, false]);
        expect(decodeRecords(encoded).map(plain)).toEqual(expected(records, base));
      }),
      { numRuns: 300 },
    );
  });

  it('tells empty buffers from null keys and tombstones', () => {
    const records = [
      { key: Buffer.alloc(0), value: Buffer.alloc(0) },
      { key: null, value: null },
      { value: Buffer.from([0, 0xff, 0x80]) },
      { key: Buffer.from('k'), value: null, headers: [{ key: '', value: null }] },
    ];
    const decoded = decodeRecords(encodeBatch(records, { timestamp: NOW })).map(plain);
    expect(decoded.map((r) => [r.key, r.value])).toEqual([
      ['', ''],
      [null, null],
      [null, '00ff80'],
      ['6b', null],
    ]);
    expect(decoded[3]!.headers).toEqual([{ key: '', value: null }]);
  });

  it('keeps unicode header keys and many headers', () => {
    const headers = Array.from({ length: 300 }, (_, i) => ({
      key: `ключ-${i}-🎉-鍵`,
      value: i % 3 === 0 ? null : Buffer.from([i & 0xff, i >> 8]),
    }));
    const records = [{ key: Buffer.from('k'), value: Buffer.from('v'), headers }];
    for (const codec of ['none', 'gzip'] as const) {
      const decoded = decodeRecords(encodeBatch(records, { timestamp: NOW, compression: codec }));
      expect(decoded.map(plain)).toEqual(expected(records));
    }
  });

  it('keeps timestamps that go backwards (negative deltas)', () => {
    const stamps = [1000, 5, -3, 999_999_999, 0, 1000];
    const records = stamps.map((t) => ({ value: Buffer.from([t & 0xff]), timestamp: t }));
    const [batch] = decodeBatches(encodeBatch(records));
    expect(batch!.records.map((r) => r.timestamp)).toEqual(stamps);
    expect(batch).toMatchObject({ firstTimestamp: 1000, maxTimestamp: 999_999_999 });
  });

  it('stamps records without a timestamp with the option, and LogAppendTime with the max', () => {
    const records = [{ value: null, timestamp: 7 }, { value: null }];
    const decoded = decodeRecords(encodeBatch(records, { timestamp: 42 }));
    expect(decoded.map((r) => r.timestamp)).toEqual([7, 42]);
    const appendTime = encodeBatch(records, { timestamp: 42, logAppendTime: true });
    expect(decodeRecords(appendTime).map((r) => r.timestamp)).toEqual([42, 42]);
    expect(decodeBatches(appendTime)[0]!.attributes).toBe(0x08);
  });

  it('carries large values (up to 1 MiB)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1 << 20 }), compression, (size, codec) => {
        const value = Buffer.alloc(size);
        for (let i = 0; i < size; i++) value[i] = (i * 31 + (i >> 8)) & 0xff;
        const records = [{ key: Buffer.from('big'), value }, { value: Buffer.from('after') }];
        const [batch] = decodeBatches(encodeAt(records, 9, { compression: codec }));
        expect(batch!.records[0]!.value!.equals(value)).toBe(true);
        expect(batch!.records.map((r) => r.offset)).toEqual([9, 10]);
        expect(hex(batch!.records[1]!.value)).toBe(hex(Buffer.from('after')));
      }),
      { numRuns: 4 },
    );
  });
});

describe('a buffer of batches', () => {
  const batchLists = fc.array(fc.array(appendRecord, { minLength: 1, maxLength: 5 }), {
    minLength: 1,
    maxLength: 4,
  });

  /** Encodes each list as a batch at consecutive offsets; returns the bytes and the batch ends. */
  function concatenate(lists: AppendRecord[][]) {
    let next = 0;
    const parts = lists.map((records) => {
      const part = encodeAt(records, next);
      next += records.length;
      return part;
    });
    const ends = parts.map((_, i) => parts.slice(0, i + 1).reduce((n, p) => n + p.length, 0));
    return { bytes: Buffer.concat(parts), ends };
  }

  it('decodes every whole batch, and skips a partial one at the end, wherever the cut', () => {
    fc.assert(
      fc.property(batchLists, fc.nat(), (lists, at) => {
        const { bytes, ends } = concatenate(lists);
        const cut = at % (bytes.length + 1);
        const whole = ends.filter((end) => end <= cut).length;
        const batches = decodeBatches(bytes.subarray(0, cut));
        expect(batches.map((b) => b.position + b.size)).toEqual(ends.slice(0, whole));
        const records = lists.slice(0, whole).flat();
        expect(decodeRecords(bytes.subarray(0, cut)).map(plain)).toEqual(expected(records));
      }),
    );
  });

  it('skips the partial batch at every single cut of three batches', () => {
    const lists = [
      [{ value: Buffer.from('a') }],
      [{ value: null }, { value: null }],
      [{ value: null }],
    ];
    const { bytes, ends } = concatenate(lists);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const offsets = decodeRecords(bytes.subarray(0, cut)).map((r) => r.offset);
      const whole = ends.filter((end) => end <= cut).length;
      expect(offsets).toEqual([[], [0], [0, 1, 2], [0, 1, 2, 3]][whole]);
    }
  });

  it('throws on a flipped bit in the CRC-covered range of any batch', () => {
    fc.assert(
      fc.property(batchLists, fc.nat(), fc.nat(7), (lists, at, bit) => {
        const { bytes, ends } = concatenate(lists);
        const which = at % ends.length;
        const start = which === 0 ? 0 : ends[which - 1]!;
        const byte = start + CRC_POS + (at % (ends[which]! - start - CRC_POS));
        bytes[byte]! ^= 1 << bit;
        expectCorrupt(() => decodeBatches(bytes));
      }),
    );
  });
});

describe('corrupt and unusual batches', () => {
  // The one-record batch of RECORD-BATCH.md: its record starts with length 8 (10).
  const golden = () => encodeBatch([{ key: Buffer.from('k'), value: Buffer.from('v') }]);

  it('throws on a wrong magic, with or without CRC checks', () => {
    const bytes = golden();
    bytes[MAGIC_POS] = 1;
    expect(() => decodeBatches(bytes)).toThrow(
      expect.objectContaining({
        code: 'LOG_CORRUPT_BATCH',
        message: expect.stringMatching(/magic 1/),
      }),
    );
    expectCorrupt(() => decodeBatches(bytes, { verifyCrc: false }));
  });

  it('throws on records that disagree with their length, even under a good CRC', () => {
    for (const length of [0x0e, 0x12, 0x01]) {
      const bytes = golden();
      bytes[RECORDS_POS] = length;
      expectCorrupt(() => decodeBatches(recomputeCrc(bytes)));
    }
  });

  it('throws on an impossible record count without CRC checks', () => {
    const bytes = golden();
    bytes.writeInt32BE(-1, RECORD_COUNT_POS);
    expectCorrupt(() => decodeBatches(bytes, { verifyCrc: false }));
  });

  it('throws on gzip data that does not inflate', () => {
    const bytes = encodeBatch([{ value: Buffer.from('hello') }], { compression: 'gzip' });
    bytes[bytes.length - 6]! ^= 0xff;
    expectCorrupt(() => decodeBatches(recomputeCrc(bytes)));
  });

  it('refuses a codec it does not read', () => {
    const bytes = golden();
    bytes.writeInt16BE(2, ATTRIBUTES_POS); // snappy
    expect(() => decodeBatches(recomputeCrc(bytes))).toThrow(UnsupportedCompressionError);
  });

  it('reports transactional and control batches', () => {
    const marker = {
      key: Buffer.from([0, 0, 0, 1]), // version 0, type 1: commit
      value: Buffer.from([0, 0, 0, 0, 0, 5]), // version 0, coordinator epoch 5
    };
    const options = { producerId: 12, producerEpoch: 3 };
    const control = encodeBatch([marker], { ...options, transactional: true, control: true });
    const transactional = encodeBatch([marker], { ...options, transactional: true });
    const plainBatch = encodeBatch([marker], options);
    const flags = [control, transactional, plainBatch]
      .map((b) => decodeBatches(b)[0]!)
      .map((b) => [b.attributes, b.isTransactional, b.isControl, b.producerId, b.producerEpoch]);
    expect(flags).toEqual([
      [0x30, true, true, 12, 3],
      [0x10, true, false, 12, 3],
      [0, false, false, 12, 3],
    ]);
    expect(decodeRecords(control)[0]!.key!.readInt16BE(2)).toBe(1);
  });
});

describe('misuse of encodeBatch', () => {
  const v = Buffer.from('v');
  // Each entry: what is wrong, the records (untyped on purpose), and the options.
  const misuses: Array<[string, unknown, EncodeOptions?]> = [
    ['an empty array', []],
    ['not an array', 'records'],
    ['a null record', [null]],
    ['a string value', [{ value: 'v' }]],
    ['a number key', [{ key: 1, value: v }]],
    ['a number header key', [{ value: v, headers: [{ key: 1, value: v }] }]],
    ['a string header value', [{ value: v, headers: [{ key: 'h', value: 's' }] }]],
    ['headers not an array', [{ value: v, headers: {} }]],
    ['a fractional timestamp', [{ value: v, timestamp: 1.5 }]],
    [
      'timestamps 2^53 apart',
      [
        { value: v, timestamp: -(2 ** 52) },
        { value: v, timestamp: 2 ** 52 },
      ],
    ],
    ['an unknown codec', [{ value: v }], { compression: 'snappy' as 'gzip' }],
    ['an unsafe base offset', [{ value: v }], { baseOffset: 2 ** 53 }],
  ];
  for (const [what, records, options] of misuses) {
    it(`throws TypeError on ${what}`, () => {
      expect(() => encodeBatch(records as AppendRecord[], options)).toThrow(TypeError);
    });
  }
});

describe('decompression limit', () => {
  it('refuses a gzip batch that expands past maxDecompressedBytes', () => {
    const bomb = encodeBatch([{ key: null, value: Buffer.alloc(1 << 20) }], {
      compression: 'gzip',
    });
    expect(bomb.length).toBeLessThan(10_000);
    expect(() => decodeBatches(bomb, { maxDecompressedBytes: 64 * 1024 })).toThrow(
      /expands past the limit/,
    );
    expect(decodeBatches(bomb)[0]!.records[0]!.value!.length).toBe(1 << 20);
  });
});
