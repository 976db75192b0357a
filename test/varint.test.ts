import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { CorruptBatchError } from '../src/log/errors.js';
import {
  type VarintCursor,
  readVarint,
  unzigzag,
  varintSize,
  writeVarint,
  zigzag,
} from '../src/log/varint.js';

/** Encodes `n` alone and returns the bytes as hex. */
function encodeHex(n: number): string {
  const buf = Buffer.alloc(16, 0xee);
  const end = writeVarint(buf, n, 0);
  return buf.subarray(0, end).toString('hex');
}

/** Reads one varint from `hex` and returns the value and the position after it. */
function decodeHex(hex: string, end?: number): VarintCursor {
  const cursor: VarintCursor = { value: NaN, pos: 0 };
  readVarint(Buffer.from(hex, 'hex'), cursor, end);
  return cursor;
}

function corruptionOf(fn: () => void): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

const largeValues = [
  63,
  -64,
  64,
  -65,
  2 ** 30 - 1,
  -(2 ** 30),
  2 ** 30,
  -(2 ** 30) - 1,
  2 ** 31 - 1,
  -(2 ** 31),
  2 ** 31,
  2 ** 32 + 7,
  -(2 ** 40) - 3,
  1_700_000_000_000,
  2 ** 52 + 1,
  -(2 ** 52) - 1,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER - 1,
  Number.MIN_SAFE_INTEGER,
  Number.MIN_SAFE_INTEGER + 1,
];

describe('zigzag varints', () => {
  it('encodes the examples of RECORD-BATCH.md', () => {
    expect(encodeHex(-1)).toBe('01');
    expect(encodeHex(0)).toBe('00');
    expect(encodeHex(1)).toBe('02');
    expect(encodeHex(64)).toBe('8001');
    expect(encodeHex(-64)).toBe('7f');
    expect(encodeHex(-65)).toBe('8101');
    expect(encodeHex(300)).toBe('d804');
  });

  it('decodes the examples of RECORD-BATCH.md', () => {
    expect(decodeHex('01')).toEqual({ value: -1, pos: 1 });
    expect(decodeHex('00')).toEqual({ value: 0, pos: 1 });
    expect(decodeHex('02')).toEqual({ value: 1, pos: 1 });
    expect(decodeHex('8001')).toEqual({ value: 64, pos: 2 });
    expect(decodeHex('d804ff')).toEqual({ value: 300, pos: 2 });
  });

  it('maps small signed numbers to small unsigned ones', () => {
    expect([0, -1, 1, -2, 2, 2 ** 31 - 1, -(2 ** 31)].map(zigzag)).toEqual([
      0,
      1,
      2,
      3,
      4,
      2 ** 32 - 2,
      2 ** 32 - 1,
    ]);
    expect([0, 1, 2, 3, 4, 2 ** 32 - 2, 2 ** 32 - 1].map(unzigzag)).toEqual([
      0,
      -1,
      1,
      -2,
      2,
      2 ** 31 - 1,
      -(2 ** 31),
    ]);
  });

  it('encodes the largest safe integers exactly (zigzag alone would round them)', () => {
    expect(encodeHex(Number.MAX_SAFE_INTEGER)).toBe('feffffffffffff1f');
    expect(encodeHex(Number.MIN_SAFE_INTEGER)).toBe('fdffffffffffff1f');
    expect(encodeHex(-(2 ** 52) - 1)).toBe('81808080808080' + '10');
    expect(decodeHex('fdffffffffffff1f').value).toBe(Number.MIN_SAFE_INTEGER);
    expect(decodeHex('feffffffffffff1f').value).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('round-trips every safe integer, and varintSize is the bytes written', () => {
    const anyInteger = fc.oneof(
      fc.integer({ min: -200, max: 200 }),
      fc.integer(),
      fc.maxSafeInteger(),
      fc.constantFrom(...largeValues),
    );
    fc.assert(
      fc.property(anyInteger, fc.nat(5), (n, at) => {
        const buf = Buffer.alloc(at + 12, 0xee);
        const end = writeVarint(buf, n, at);
        expect(end - at).toBe(varintSize(n));
        expect(end - at).toBeLessThanOrEqual(8);
        const cursor: VarintCursor = { value: NaN, pos: at };
        readVarint(buf, cursor, end);
        expect(cursor).toEqual({ value: n, pos: end });
      }),
      { numRuns: 2000 },
    );
  });

  it('reads a run of varints back in order', () => {
    fc.assert(
      fc.property(fc.array(fc.maxSafeInteger(), { maxLength: 40 }), (values) => {
        const buf = Buffer.alloc(values.length * 8);
        let end = 0;
        for (const v of values) end = writeVarint(buf, v, end);
        const cursor: VarintCursor = { value: 0, pos: 0 };
        const read: number[] = [];
        while (cursor.pos < end) {
          readVarint(buf, cursor, end);
          read.push(cursor.value);
        }
        expect(read).toEqual(values);
      }),
    );
  });

  it('grows by one byte every 7 bits of the zigzag value', () => {
    expect([0, 63, 64, 8191, 8192, 2 ** 20 - 1, 2 ** 20].map(varintSize)).toEqual([
      1, 1, 2, 2, 3, 3, 4,
    ]);
    expect([-64, -65, -8192, -8193].map(varintSize)).toEqual([1, 2, 2, 3]);
  });
});

describe('corrupt varints', () => {
  const corrupt = (hex: string, end?: number) => {
    const err = corruptionOf(() => decodeHex(hex, end));
    expect(err).toBeInstanceOf(CorruptBatchError);
    expect((err as CorruptBatchError).code).toBe('LOG_CORRUPT_BATCH');
  };

  it('throws when the buffer ends mid-varint', () => {
    corrupt('');
    corrupt('80');
    corrupt('ffff');
    corrupt('feffffffffffff');
  });

  it('throws when the varint runs past the given end', () => {
    corrupt('8001', 1);
    corrupt('02', 0);
    expect(decodeHex('8001', 2).value).toBe(64);
  });

  it('throws on a varint longer than 8 bytes', () => {
    corrupt('808080808080808000');
    corrupt('80808080808080808001');
  });

  it('throws on a value beyond 2^53 rather than rounding it', () => {
    corrupt('8080808080808020'); // zigzag 2^54: 2^53
    corrupt('ffffffffffffff1f'); // zigzag 2^54 - 1: -(2^53)
    corrupt('ffffffffffffff7f'); // zigzag 2^56 - 1: -(2^55)
    expect(decodeHex('8080808080808010').value).toBe(2 ** 52);
  });
});
