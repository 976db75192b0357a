/**
 * The leader epoch cache: the cases Kafka's LeaderEpochFileCacheTest
 * documents (same inputs, same answers), then random sequences of assign and
 * truncations against a brute-force model that keeps a plain list.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type EpochEndOffset,
  type EpochEntry,
  LeaderEpochCache,
  UNDEFINED_EPOCH_END_OFFSET,
} from '../src/replication/leader-epoch-cache.js';

const UNDEFINED = { ...UNDEFINED_EPOCH_END_OFFSET };

function cacheOf(...pairs: [number, number][]): LeaderEpochCache {
  const cache = new LeaderEpochCache();
  for (const [epoch, offset] of pairs) cache.assign(epoch, offset);
  return cache;
}

const entries = (...pairs: [number, number][]): EpochEntry[] =>
  pairs.map(([epoch, startOffset]) => ({ epoch, startOffset }));

describe('LeaderEpochCache: Kafka’s documented cases', () => {
  it('answers the log end offset for the latest epoch', () => {
    const cache = cacheOf([2, 11], [2, 12]);
    expect(cache.latestEpoch).toBe(2);
    expect(cache.endOffsetFor(2, 14)).toEqual({ epoch: 2, endOffset: 14 });
  });

  it('never moves an epoch’s start offset forward once assigned', () => {
    expect(cacheOf([2, 9], [2, 10]).entries).toEqual(entries([2, 9]));
    expect(cacheOf([2, 6], [2, 7]).entries).toEqual(entries([2, 6]));
  });

  it('moves it back when the same epoch starts earlier, dropping what was in the way', () => {
    const cache = cacheOf([5, 11], [6, 12], [7, 13], [7, 12]);
    expect(cache.entries).toEqual(entries([5, 11], [7, 12]));
    expect(cache.endOffsetFor(5, 0)).toEqual({ epoch: 5, endOffset: 12 });
    expect(cache.endOffsetFor(6, 0)).toEqual({ epoch: 5, endOffset: 12 });
  });

  it('replaces an entry when a new epoch starts at the same offset (an epoch that wrote nothing)', () => {
    expect(cacheOf([2, 9], [3, 9]).entries).toEqual(entries([3, 9]));
  });

  it('drops later entries when a new epoch starts below them', () => {
    expect(cacheOf([2, 6], [3, 5]).entries).toEqual(entries([3, 5]));
  });

  it('lets a stale epoch with a later offset replace the newer epochs', () => {
    const cache = cacheOf([1, 5], [2, 6], [1, 7]);
    expect(cache.latestEpoch).toBe(1);
    expect(cache.entries).toEqual(entries([1, 7]));
    expect(cache.endOffsetFor(1, 8)).toEqual({ epoch: 1, endOffset: 8 });
    expect(cache.endOffsetFor(2, 8)).toEqual(UNDEFINED);
  });

  it('answers UNDEFINED for an empty cache, UNDEFINED_EPOCH, or an epoch above the latest', () => {
    expect(new LeaderEpochCache().endOffsetFor(0, 0)).toEqual(UNDEFINED);
    expect(new LeaderEpochCache().endOffsetFor(7, 0)).toEqual(UNDEFINED);
    expect(cacheOf([2, 11], [3, 12]).endOffsetFor(-1, 0)).toEqual(UNDEFINED);
    expect(cacheOf([2, 100]).endOffsetFor(3, 100)).toEqual(UNDEFINED);
  });

  it('answers the requested epoch and the first start offset for an epoch below every entry', () => {
    expect(cacheOf([5, 11], [6, 12], [7, 13]).endOffsetFor(4, 0)).toEqual({
      epoch: 4,
      endOffset: 11,
    });
  });

  it('answers the largest epoch ≤ the requested one and where the next one starts', () => {
    const cache = cacheOf([0, 10], [2, 13], [4, 17]);
    expect(cache.endOffsetFor(1, 0)).toEqual({ epoch: 0, endOffset: 13 });
    expect(cache.endOffsetFor(2, 0)).toEqual({ epoch: 2, endOffset: 17 });
    expect(cache.endOffsetFor(3, 0)).toEqual({ epoch: 2, endOffset: 17 });
    const many = cacheOf([1, 11], [1, 12], [2, 13], [2, 14], [3, 15], [3, 16]);
    expect(many.endOffsetFor(2, 17)).toEqual({ epoch: 2, endOffset: 15 });
  });

  it('tracks epochs as leaders change many times', () => {
    const cache = cacheOf([0, 0], [1, 0]);
    expect(cache.endOffsetFor(1, 0)).toEqual({ epoch: 1, endOffset: 0 });
    expect(cache.endOffsetFor(0, 0)).toEqual({ epoch: 0, endOffset: 0 });
    expect(cache.endOffsetFor(1, 5)).toEqual({ epoch: 1, endOffset: 5 });
    cache.assign(2, 5);
    expect(cache.endOffsetFor(2, 10)).toEqual({ epoch: 2, endOffset: 10 });
    expect(cache.endOffsetFor(1, 10)).toEqual({ epoch: 1, endOffset: 5 });
    expect(cache.endOffsetFor(0, 10)).toEqual({ epoch: 0, endOffset: 0 });
  });

  it('truncates from the end inclusively, on or between epoch boundaries', () => {
    const onBoundary = cacheOf([2, 6], [3, 8], [4, 11]);
    onBoundary.truncateFromEnd(8);
    expect(onBoundary.entries).toEqual(entries([2, 6]));
    const between = cacheOf([2, 6], [3, 8], [4, 11]);
    between.truncateFromEnd(9);
    expect(between.entries).toEqual(entries([2, 6], [3, 8]));
    const undefinedOffset = cacheOf([2, 6], [3, 8], [4, 11]);
    expect(undefinedOffset.truncateFromEnd(-1)).toEqual([]);
    expect(undefinedOffset.entries).toHaveLength(3);
  });

  it('truncates from the start, moving the first surviving epoch up to the new start', () => {
    const cases: [number, [number, number][]][] = [
      [
        8,
        [
          [3, 8],
          [4, 11],
        ],
      ],
      [
        9,
        [
          [3, 9],
          [4, 11],
        ],
      ],
      [
        1,
        [
          [2, 6],
          [3, 8],
          [4, 11],
        ],
      ],
      [
        6,
        [
          [2, 6],
          [3, 8],
          [4, 11],
        ],
      ],
      [11, [[4, 11]]],
      [15, [[4, 15]]],
      [
        -1,
        [
          [2, 6],
          [3, 8],
          [4, 11],
        ],
      ],
    ];
    for (const [startOffset, expected] of cases) {
      const cache = cacheOf([2, 6], [3, 8], [4, 11]);
      cache.truncateFromStart(startOffset);
      expect(cache.entries, `truncateFromStart(${startOffset})`).toEqual(entries(...expected));
    }
    const fromZero = cacheOf([0, 0], [1, 7], [2, 10]);
    fromZero.truncateFromStart(5);
    expect(fromZero.entries).toEqual(entries([0, 5], [1, 7], [2, 10]));
  });

  it('finds the epoch of an offset', () => {
    const cache = cacheOf([0, 10], [1, 20], [5, 30]);
    expect([25, 20, 30, 50, 5].map((o) => cache.epochForOffset(o))).toEqual([
      1,
      1,
      5,
      5,
      undefined,
    ]);
  });

  it('refuses negative or fractional epochs and offsets', () => {
    const cache = new LeaderEpochCache();
    expect(() => cache.assign(-1, 0)).toThrow(TypeError);
    expect(() => cache.assign(0, -1)).toThrow(TypeError);
    expect(() => cache.assign(1.5, 0)).toThrow(TypeError);
  });

  it('heals an out-of-order list given to the constructor: the last entry read wins', () => {
    expect(new LeaderEpochCache(entries([1, 5], [3, 4], [2, 9])).entries).toEqual(entries([2, 9]));
    expect(new LeaderEpochCache(entries([1, 5], [4, 9], [3, 7])).entries).toEqual(
      entries([1, 5], [3, 7]),
    );
  });
});

// #region model
/** The oracle: a plain list, rebuilt by the rules in their simplest words. */
class Model {
  list: EpochEntry[] = [];

  assign(epoch: number, startOffset: number): void {
    const latest = this.list.at(-1);
    if (latest && latest.epoch === epoch && startOffset >= latest.startOffset) return;
    // Every entry not below the new one in both epoch and offset goes.
    this.list = this.list.filter((e) => e.epoch < epoch && e.startOffset < startOffset);
    this.list.push({ epoch, startOffset });
  }

  truncateFromEnd(endOffset: number): void {
    if (endOffset >= 0) this.list = this.list.filter((e) => e.startOffset < endOffset);
  }

  truncateFromStart(startOffset: number): void {
    const gone = this.list.filter((e) => e.startOffset <= startOffset);
    if (gone.length === 0) return;
    this.list = [
      { epoch: gone.at(-1)!.epoch, startOffset },
      ...this.list.filter((e) => e.startOffset > startOffset),
    ];
  }

  /** By definition: the largest epoch ≤ requested, and the start of the smallest epoch > requested. */
  endOffsetFor(requested: number, logEndOffset: number): EpochEndOffset {
    if (requested < 0 || this.list.length === 0) return UNDEFINED;
    const latest = this.list.at(-1)!;
    if (requested === latest.epoch) return { epoch: requested, endOffset: logEndOffset };
    if (requested > latest.epoch) return UNDEFINED;
    const floor = this.list.filter((e) => e.epoch <= requested).at(-1);
    const next = this.list.find((e) => e.epoch > requested)!;
    return { epoch: floor?.epoch ?? requested, endOffset: next.startOffset };
  }
}
// #endregion model

const op = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('assign' as const),
      epoch: fc.integer({ min: 0, max: 12 }),
      offset: fc.integer({ min: 0, max: 60 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('truncateFromEnd' as const),
      offset: fc.integer({ min: -1, max: 60 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('truncateFromStart' as const),
      offset: fc.integer({ min: -1, max: 60 }),
    }),
  },
);

describe('LeaderEpochCache against a model', () => {
  it('keeps epochs and start offsets strictly increasing, and answers endOffsetFor as the model', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), fc.integer({ min: 0, max: 80 }), (ops, leo) => {
        const cache = new LeaderEpochCache();
        const model = new Model();
        for (const o of ops) {
          if (o.kind === 'assign') {
            cache.assign(o.epoch, o.offset);
            model.assign(o.epoch, o.offset);
          } else {
            cache[o.kind](o.offset);
            model[o.kind](o.offset);
          }
          const list = cache.entries;
          expect(list).toEqual(model.list);
          for (let i = 1; i < list.length; i++) {
            expect(list[i]!.epoch).toBeGreaterThan(list[i - 1]!.epoch);
            expect(list[i]!.startOffset).toBeGreaterThan(list[i - 1]!.startOffset);
          }
        }
        const logEndOffset = Math.max(leo, cache.latestEntry?.startOffset ?? 0);
        for (let requested = -1; requested <= 14; requested++) {
          expect(cache.endOffsetFor(requested, logEndOffset)).toEqual(
            model.endOffsetFor(requested, logEndOffset),
          );
        }
      }),
      { numRuns: 300 },
    );
  });

  it('after assigning (epoch, offset), the latest epoch is that epoch and it ends at the log end', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 20 }), fc.nat(12), fc.nat(60), (ops, epoch, offset) => {
        const cache = new LeaderEpochCache();
        for (const o of ops) {
          if (o.kind === 'assign') cache.assign(o.epoch, o.offset);
          else cache[o.kind](o.offset);
        }
        cache.assign(epoch, offset);
        expect(cache.latestEpoch).toBe(epoch);
        expect(cache.latestEntry!.startOffset).toBeLessThanOrEqual(offset);
        expect(cache.endOffsetFor(epoch, offset + 3)).toEqual({ epoch, endOffset: offset + 3 });
      }),
      { numRuns: 200 },
    );
  });
});
