/**
 * Kafka's default partitioner: murmur2 golden values from Kafka's own
 * UtilsTest.testMurmur2 (clients/src/test/java/org/apache/kafka/common/utils/),
 * the partitions keys land on, and the sticky rule for records without a key.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DefaultPartitioner,
  murmur2,
  partitionForKey,
  toPositive,
} from '../src/client/partitioner.js';

const bytes = (s: string) => Buffer.from(s, 'utf8');

describe('murmur2', () => {
  it("gives Kafka's UtilsTest values", () => {
    const cases: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [key, hash] of cases) expect(murmur2(bytes(key)), key).toBe(hash);
  });

  it('gives values computed from the algorithm for other keys', () => {
    expect(murmur2(bytes('hello'))).toBe(2132663229);
    expect(murmur2(bytes(''))).toBe(275646681);
    expect(murmur2(bytes('order-100'))).toBe(-955961047);
  });

  it('is a signed 32-bit integer for any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (data) => {
        const h = murmur2(data);
        expect(Number.isInteger(h) && h >= -(2 ** 31) && h < 2 ** 31).toBe(true);
      }),
    );
  });
});

describe('partitionForKey', () => {
  it("clears the sign bit (Kafka's toPositive), not Math.abs", () => {
    expect(toPositive(-973932308)).toBe(1173551340);
    expect(toPositive(-(2 ** 31))).toBe(0);
  });

  it('puts keys where the Java client puts them', () => {
    // toPositive(murmur2(key)) % n, from the hashes above.
    expect(partitionForKey(bytes('21'), 12)).toBe(1173551340 % 12);
    expect(partitionForKey(bytes('foobar'), 12)).toBe(6);
    expect(partitionForKey(bytes('a-little-bit-longer-string'), 6)).toBe(5);
    expect(partitionForKey(bytes('hello'), 3)).toBe(0);
    expect(partitionForKey(bytes('hello'), 12)).toBe(9);
    expect(partitionForKey(bytes('order-101'), 12)).toBe(10);
  });
});

describe('DefaultPartitioner', () => {
  it('hashes keys and never looks at the sticky state for them', () => {
    const p = new DefaultPartitioner(100);
    expect(p.partition('t', bytes('hello'), 10, 12)).toBe(9);
    expect(p.partition('t', bytes('hello'), 10, 12)).toBe(9);
  });

  it('sticks to one partition for null keys until batch.size bytes went to it', () => {
    let r = 0;
    const randoms = [0.1, 0.5, 0.9];
    const p = new DefaultPartitioner(100, () => randoms[r++ % randoms.length]!);
    const chosen: number[] = [];
    for (let i = 0; i < 10; i++) chosen.push(p.partition('t', null, 50, 4));
    // Two records of 50 bytes fill the 100 bytes, then it moves on, never to the same one.
    for (let i = 0; i < 10; i += 2) expect(chosen[i + 1]).toBe(chosen[i]);
    for (let i = 2; i < 10; i += 2) expect(chosen[i]).not.toBe(chosen[i - 2]);
    for (const c of chosen) expect(c).toBeGreaterThanOrEqual(0);
    for (const c of chosen) expect(c).toBeLessThan(4);
  });

  it('keeps topics apart and uses partition 0 of a one-partition topic', () => {
    const p = new DefaultPartitioner(10);
    expect(p.partition('one', null, 50, 1)).toBe(0);
    expect(p.partition('one', null, 50, 1)).toBe(0);
  });
});
