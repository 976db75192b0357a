import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  BATCH_HEADER_SIZE,
  CRC_POS,
  MAGIC_POS,
  RECORD_COUNT_POS,
  batchSizeAt,
  computeBatchCrc,
  crc32c,
  patchBaseOffset,
  patchLeaderEpoch,
  readBatchHeader,
  readInt64,
  verifyBatch,
  writeInt64,
} from '../src/log/batch-header.js';
import { CorruptBatchError } from '../src/log/errors.js';
import { decodeBatches, encodeBatch } from '../src/log/record-batch.js';

/** The one-record batch of RECORD-BATCH.md, field by field. */
const GOLDEN_FIELDS: ReadonlyArray<readonly [string, string]> = [
  ['baseOffset', '0000000000000000'],
  ['batchLength', '0000003a'],
  ['partitionLeaderEpoch', '00000000'],
  ['magic', '02'],
  ['crc', '17ef605d'],
  ['attributes', '0000'],
  ['lastOffsetDelta', '00000000'],
  ['firstTimestamp', '0000000000000001'],
  ['maxTimestamp', '0000000000000001'],
  ['producerId', 'ffffffffffffffff'],
  ['producerEpoch', '0000'],
  ['baseSequence', '00000000'],
  ['recordCount', '00000001'],
  ['record', '10000000026b027600'], // length 8, attributes, deltas, key "k", value "v", no headers
];

function encodeGolden(): Buffer {
  return encodeBatch([{ key: Buffer.from('k'), value: Buffer.from('v'), timestamp: 1 }], {
    partitionLeaderEpoch: 0,
    producerEpoch: 0,
    baseSequence: 0,
  });
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

function expectCorrupt(fn: () => unknown): void {
  const err = thrown(fn);
  expect(err).toBeInstanceOf(CorruptBatchError);
  expect((err as CorruptBatchError).code).toBe('LOG_CORRUPT_BATCH');
}

describe('CRC-32C', () => {
  it('matches the check value of the Castagnoli polynomial', () => {
    expect(crc32c(Buffer.from('123456789', 'ascii'))).toBe(0xe3069283);
  });

  it('is unsigned, and 0 for no bytes', () => {
    expect(crc32c(Buffer.alloc(0))).toBe(0);
    expect(crc32c(Buffer.from([0xff, 0xff, 0xff, 0xff]))).toBe(0xffffffff);
  });
});

describe('the golden batch of RECORD-BATCH.md', () => {
  it('encodes byte for byte', () => {
    const bytes = encodeGolden();
    const expected = GOLDEN_FIELDS.map(([, hex]) => hex).join('');
    let pos = 0;
    for (const [field, hex] of GOLDEN_FIELDS) {
      const actual = bytes.subarray(pos, pos + hex.length / 2).toString('hex');
      expect({ field, hex: actual }).toEqual({ field, hex });
      pos += hex.length / 2;
    }
    expect(bytes.toString('hex')).toBe(expected);
    expect(bytes.length).toBe(70);
  });

  it('reads back every header field', () => {
    expect(readBatchHeader(encodeGolden())).toEqual({
      baseOffset: 0,
      size: 70,
      partitionLeaderEpoch: 0,
      magic: 2,
      crc: 0x17ef605d,
      attributes: 0,
      lastOffset: 0,
      firstTimestamp: 1,
      maxTimestamp: 1,
      producerId: -1,
      producerEpoch: 0,
      baseSequence: 0,
      recordCount: 1,
    });
  });

  it('decodes to its one record at offset 0', () => {
    const hex = GOLDEN_FIELDS.map(([, field]) => field).join('');
    const [batch, ...rest] = decodeBatches(Buffer.from(hex, 'hex'));
    expect(rest).toEqual([]);
    expect(batch).toMatchObject({ position: 0, size: 70, compression: 0, isControl: false });
    const records = batch!.records.map((r) => ({
      ...r,
      key: r.key!.toString(),
      value: r.value!.toString(),
    }));
    expect(records).toEqual([{ offset: 0, timestamp: 1, key: 'k', value: 'v', headers: [] }]);
  });

  it('carries the CRC of attributes..end, and verifies', () => {
    const bytes = encodeGolden();
    expect(computeBatchCrc(bytes, 0, bytes.length)).toBe(0x17ef605d);
    expect(crc32c(bytes.subarray(21))).toBe(0x17ef605d);
    expect(() => verifyBatch(bytes, 0, bytes.length)).not.toThrow();
  });

  it('reads a header at a position inside a larger buffer', () => {
    const bytes = Buffer.concat([Buffer.alloc(5, 0xaa), encodeGolden()]);
    expect(batchSizeAt(bytes, 5)).toBe(70);
    expect(readBatchHeader(bytes, 5).crc).toBe(0x17ef605d);
    expect(() => verifyBatch(bytes, 5, 70)).not.toThrow();
  });
});

describe('64-bit fields', () => {
  it('round-trip every safe integer', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), fc.nat(8), (n, at) => {
        const buf = Buffer.alloc(16);
        writeInt64(buf, n, at);
        expect(buf.readBigInt64BE(at)).toBe(BigInt(n));
        expect(readInt64(buf, at)).toBe(n);
      }),
    );
    for (const n of [
      -1,
      0,
      2 ** 32,
      -(2 ** 32),
      Number.MAX_SAFE_INTEGER,
      Number.MIN_SAFE_INTEGER,
    ]) {
      const buf = Buffer.alloc(8);
      writeInt64(buf, n, 0);
      expect(readInt64(buf, 0)).toBe(n);
    }
  });

  it('refuse values beyond 2^53 in either direction', () => {
    const buf = Buffer.alloc(8);
    for (const big of [2n ** 53n, -(2n ** 53n), 2n ** 63n - 1n, -(2n ** 63n)]) {
      buf.writeBigInt64BE(big, 0);
      expectCorrupt(() => readInt64(buf, 0));
    }
    expect(() => writeInt64(buf, 2 ** 53, 0)).toThrow(TypeError);
    expect(() => writeInt64(buf, 1.5, 0)).toThrow(TypeError);
  });
});

describe('batchSizeAt', () => {
  it('is -1 until the length field is there, then the whole size', () => {
    const bytes = encodeGolden();
    for (let cut = 0; cut < 12; cut++) expect(batchSizeAt(bytes.subarray(0, cut), 0)).toBe(-1);
    expect(batchSizeAt(bytes.subarray(0, 12), 0)).toBe(70);
  });

  it('throws on a length too short for a header', () => {
    const bytes = encodeGolden();
    bytes.writeInt32BE(BATCH_HEADER_SIZE - 12 - 1, 8);
    expectCorrupt(() => batchSizeAt(bytes, 0));
    bytes.writeInt32BE(-5, 8);
    expectCorrupt(() => batchSizeAt(bytes, 0));
  });
});

describe('verifyBatch', () => {
  it('rejects a flipped bit anywhere in the CRC field or the range it covers', () => {
    const size = encodeGolden().length;
    fc.assert(
      fc.property(fc.integer({ min: CRC_POS, max: size - 1 }), fc.nat(7), (byte, bit) => {
        const bytes = encodeGolden();
        bytes[byte]! ^= 1 << bit;
        expectCorrupt(() => verifyBatch(bytes, 0, size));
      }),
    );
  });

  it('ignores baseOffset and partitionLeaderEpoch, which the CRC leaves out', () => {
    const bytes = encodeGolden();
    bytes.fill(0x5a, 0, 8);
    bytes.fill(0x7b, 12, 16);
    expect(() => verifyBatch(bytes, 0, bytes.length)).not.toThrow();
  });

  it('rejects a wrong magic', () => {
    for (const magic of [0, 1, 3]) {
      const bytes = encodeGolden();
      bytes[MAGIC_POS] = magic;
      const err = thrown(() => verifyBatch(bytes, 0, bytes.length));
      expect(err).toBeInstanceOf(CorruptBatchError);
      expect((err as Error).message).toMatch(/magic/);
    }
  });

  it('rejects a truncated batch', () => {
    const bytes = encodeGolden();
    expectCorrupt(() => verifyBatch(bytes.subarray(0, 69), 0, 70));
    expectCorrupt(() => verifyBatch(bytes, 0, BATCH_HEADER_SIZE - 1));
  });

  it('rejects more records than the offset delta allows, even with a good CRC', () => {
    const bytes = encodeGolden();
    bytes.writeInt32BE(2, RECORD_COUNT_POS);
    bytes.writeUInt32BE(computeBatchCrc(bytes, 0, bytes.length), CRC_POS);
    const err = thrown(() => verifyBatch(bytes, 0, bytes.length));
    expect(err).toBeInstanceOf(CorruptBatchError);
    expect((err as Error).message).toMatch(/2 records/);
  });
});

describe('patching the header', () => {
  it('assigns a base offset without touching the CRC', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER - 1 }), (baseOffset) => {
        const bytes = encodeGolden();
        const before = bytes.subarray(8).toString('hex');
        patchBaseOffset(bytes, baseOffset);
        expect(bytes.subarray(8).toString('hex')).toBe(before);
        const header = readBatchHeader(bytes);
        expect(header.baseOffset).toBe(baseOffset);
        expect(header.lastOffset).toBe(baseOffset);
        expect(() => verifyBatch(bytes, 0, bytes.length)).not.toThrow();
      }),
    );
  });

  it('patches at a position and stamps the leader epoch', () => {
    const bytes = Buffer.concat([encodeGolden(), encodeGolden()]);
    patchBaseOffset(bytes, 41, 70);
    patchLeaderEpoch(bytes, 7, 70);
    expect(readBatchHeader(bytes, 0).baseOffset).toBe(0);
    expect(readBatchHeader(bytes, 70)).toMatchObject({ baseOffset: 41, partitionLeaderEpoch: 7 });
    expect(() => verifyBatch(bytes, 70, 70)).not.toThrow();
    expect(() => patchBaseOffset(bytes, 2 ** 53)).toThrow(TypeError);
  });
});
