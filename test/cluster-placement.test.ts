/**
 * Replica placement for CreateTopics: Kafka's own examples
 * (AdminTest.testReplicaAssignment), then properties over broker sets,
 * partition counts and replication factors.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { placeReplicas, placementOptionsFor } from '../src/cluster/index.js';

describe('placement, Kafka’s examples', () => {
  it('places 10 partitions of 3 replicas on brokers 0..4 as AdminUtils does (start 0, shift 0)', () => {
    const placed = placeReplicas([0, 1, 2, 3, 4], 10, 3, { startIndex: 0, replicaShift: 0 });
    expect(placed.assignments).toEqual([
      [0, 1, 2],
      [1, 2, 3],
      [2, 3, 4],
      [3, 4, 0],
      [4, 0, 1],
      [0, 2, 3],
      [1, 3, 4],
      [2, 4, 0],
      [3, 0, 1],
      [4, 1, 2],
    ]);
  });

  it('indexes the sorted broker ids, not the ids: brokers 2, 5, 8 with start 2', () => {
    // Position 2 is broker 8; with shift 2 the second replica is 1 + (2 mod 2) = 1 place on.
    expect(placeReplicas([8, 2, 5], 3, 3, { startIndex: 2, replicaShift: 2 }).assignments).toEqual([
      [8, 2, 5],
      [2, 5, 8],
      [5, 8, 2],
    ]);
    expect(placeReplicas([8, 2, 5], 1, 3, { startIndex: 2, replicaShift: 1 }).assignments).toEqual([
      [8, 5, 2],
    ]);
  });

  it('refuses a replication factor of 0 or above the live brokers, and no partitions', () => {
    const opts = { startIndex: 0, replicaShift: 0 };
    expect(placeReplicas([0, 1, 2, 3, 4], 10, 0, opts).error?.error).toBe(
      'INVALID_REPLICATION_FACTOR',
    );
    expect(placeReplicas([0, 1, 2, 3, 4], 10, 6, opts).error?.error).toBe(
      'INVALID_REPLICATION_FACTOR',
    );
    expect(placeReplicas([], 1, 1, opts).error?.error).toBe('INVALID_REPLICATION_FACTOR');
    expect(placeReplicas([0], 0, 1, opts).error?.error).toBe('INVALID_PARTITIONS');
  });

  it('derives start and shift from the topic name: repeatable, and in range', () => {
    expect(placementOptionsFor('orders', 3)).toEqual(placementOptionsFor('orders', 3));
    const starts = new Set(
      ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((t) => placementOptionsFor(t, 3).startIndex),
    );
    expect(starts.size).toBeGreaterThan(1);
  });
});

describe('placement, properties', () => {
  const input = fc
    .uniqueArray(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 9 })
    .chain((brokers) =>
      fc.record({
        brokers: fc.constant(brokers),
        rf: fc.integer({ min: 1, max: brokers.length }),
        rounds: fc.integer({ min: 1, max: 5 }),
        extra: fc.integer({ min: 0, max: brokers.length - 1 }),
        startIndex: fc.integer({ min: -100, max: 100 }),
        replicaShift: fc.integer({ min: -100, max: 100 }),
      }),
    );

  it('gives every partition R distinct live replicas and spreads leaders and replicas evenly', () => {
    fc.assert(
      fc.property(input, ({ brokers, rf, rounds, extra, startIndex, replicaShift }) => {
        const n = brokers.length;
        const partitions = rounds * n + extra;
        const placed = placeReplicas(brokers, partitions, rf, { startIndex, replicaShift });
        expect(placed.error).toBeUndefined();
        const assignments = placed.assignments!;
        expect(assignments).toHaveLength(partitions);
        const leaders = new Map(brokers.map((b) => [b, 0]));
        const replicas = new Map(brokers.map((b) => [b, 0]));
        for (const a of assignments) {
          expect(a).toHaveLength(rf);
          expect(new Set(a).size).toBe(rf);
          for (const r of a) {
            expect(brokers).toContain(r);
            replicas.set(r, replicas.get(r)! + 1);
          }
          leaders.set(a[0]!, leaders.get(a[0]!)! + 1);
        }
        const spread = (m: Map<number, number>) =>
          Math.max(...m.values()) - Math.min(...m.values());
        expect(spread(leaders)).toBeLessThanOrEqual(1); // round-robin leaders, any count
        if (extra === 0) {
          expect([...leaders.values()].every((c) => c === rounds)).toBe(true);
          expect([...replicas.values()].every((c) => c === rounds * rf)).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('is a function of its inputs', () => {
    fc.assert(
      fc.property(input, ({ brokers, rf, rounds, startIndex, replicaShift }) => {
        const opts = { startIndex, replicaShift };
        const shuffled = [...brokers].reverse();
        expect(placeReplicas(shuffled, rounds, rf, opts)).toEqual(
          placeReplicas(brokers, rounds, rf, opts),
        );
      }),
      { numRuns: 100 },
    );
  });
});
