import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type KeyHash, OffsetMap, murmur3 } from '../src/log/cleaner/offset-map.js';

type Op =
  | { kind: 'put'; key: Uint8Array; offset: number; pad: number }
  | { kind: 'get'; key: Uint8Array; pad: number };

/** Keys from a small pool (so they repeat), with prefixes of each other and the empty key. */
const keyArb = (pool: Uint8Array[]) =>
  fc.oneof(
    fc.constantFrom(...pool),
    fc.uint8Array({ maxLength: 40 }),
    fc.constantFrom(...pool).map((k) => k.subarray(0, Math.floor(k.length / 2))),
  );

const opsArb = fc
  .array(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: 12 })
  .chain((pool) => {
    pool.push(
      new Uint8Array(0),
      Uint8Array.of(0),
      Uint8Array.of(0, 0),
      Uint8Array.of(1, 2, 3, 4, 5),
    );
    const key = keyArb(pool);
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('put' as const), key, offset: fc.nat(), pad: fc.nat(7) }),
      fc.record({ kind: fc.constant('get' as const), key, pad: fc.nat(7) }),
    );
    return fc.array(op, { maxLength: 300 });
  });

const hashes: Record<string, KeyHash> = {
  murmur3,
  constant: () => 7, // every key collides
  'first byte': (buf, start, length) => (length === 0 ? 0 : buf[start]!), // prefixes collide
  'length only': (_buf, _start, length) => length,
};

/** The key at a random place inside a bigger buffer, junk around it, as a batch body holds it. */
function embed(key: Uint8Array, pad: number): Buffer {
  const buf = Buffer.alloc(pad + key.length + 3, 0xab);
  buf.set(key, pad);
  return buf;
}

const modelKey = (key: Uint8Array) => Buffer.from(key).toString('latin1');

describe('OffsetMap', () => {
  for (const [name, hash] of Object.entries(hashes)) {
    for (const expectedKeys of [0, 3, 1000]) {
      it(`answers as a Map would (hash: ${name}, sized for ${expectedKeys} keys)`, () => {
        fc.assert(
          fc.property(opsArb, (ops) => {
            const map = new OffsetMap({ hash, expectedKeys });
            const model = new Map<string, number>();
            for (const op of ops) {
              const buf = embed(op.key, op.pad);
              if (op.kind === 'put') {
                map.put(buf, op.pad, op.key.length, op.offset);
                model.set(modelKey(op.key), op.offset);
              } else {
                const want = model.get(modelKey(op.key)) ?? -1;
                expect(map.latestOffset(buf, op.pad, op.key.length)).toBe(want);
              }
            }
            expect(map.size).toBe(model.size);
            for (const [key, offset] of model) {
              const bytes = Buffer.from(key, 'latin1');
              expect(map.latestOffset(bytes, 0, bytes.length)).toBe(offset);
            }
          }),
          { numRuns: name === 'murmur3' ? 300 : 100 },
        );
      });
    }
  }

  it('grows from its smallest size past many doublings, every key kept (incremental move)', () => {
    const map = new OffsetMap({ expectedKeys: 0 });
    const keys = 200_000;
    const buf = Buffer.alloc(8);
    for (let i = 0; i < keys; i++) {
      buf.writeUInt32LE(i, 0);
      map.put(buf, 0, 4, i * 2);
      if (i % 997 === 0) {
        for (let j = 0; j <= i; j += 1231) {
          buf.writeUInt32LE(j, 0);
          expect(map.latestOffset(buf, 0, 4)).toBe(j * 2);
        }
        buf.writeUInt32LE(i, 0);
      }
    }
    expect(map.size).toBe(keys);
    expect(map.capacity).toBeGreaterThanOrEqual(keys * 2);
    let wrong = 0;
    for (let i = 0; i < keys; i++) {
      buf.writeUInt32LE(i, 0);
      if (map.latestOffset(buf, 0, 4) !== i * 2) wrong++;
      if (map.latestOffset(buf, 0, 3) !== -1) wrong++; // a prefix of a key is another key
    }
    expect(wrong).toBe(0);
    buf.writeUInt32LE(keys, 0);
    expect(map.latestOffset(buf, 0, 4)).toBe(-1);
  });

  it('keeps offsets beyond 2^32 exactly, and keys longer than an arena chunk', () => {
    const map = new OffsetMap();
    const big = Buffer.alloc((1 << 20) + 5, 1);
    const other = Buffer.from(big);
    other[other.length - 1] = 2;
    map.put(big, 0, big.length, 2 ** 53 - 1);
    map.put(Buffer.from('k'), 0, 1, 2 ** 40 + 3);
    expect(map.latestOffset(big, 0, big.length)).toBe(2 ** 53 - 1);
    expect(map.latestOffset(other, 0, other.length)).toBe(-1);
    expect(map.latestOffset(big, 0, big.length - 1)).toBe(-1);
    expect(map.latestOffset(Buffer.from('k'), 0, 1)).toBe(2 ** 40 + 3);
  });

  it('is sized from the expected keys, load at most 1/2, capped', () => {
    expect(new OffsetMap({ expectedKeys: 1000 }).capacity).toBe(2048);
    expect(new OffsetMap({ expectedKeys: 1e9 }).capacity).toBe(1 << 21);
  });

  it('hashes as MurmurHash3 x86_32 (seed 0) does', () => {
    // Reference values of murmur3_32 with seed 0.
    expect(murmur3(Buffer.from(''), 0, 0) >>> 0).toBe(0);
    expect(murmur3(Buffer.from('hello'), 0, 5) >>> 0).toBe(0x248bfa47);
    expect(murmur3(Buffer.from('xhello world'), 1, 11) >>> 0).toBe(0x5e928f0f);
  });
});
