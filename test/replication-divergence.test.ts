/**
 * Truncation by leader epoch (Kafka's getOffsetTruncationState): each branch
 * on a small example, the two scenarios KIP-101 was written for, the
 * fast-leader-change scenario of KIP-279, and the leader's diverging-epoch
 * check on Fetch (KIP-595).
 */
import { describe, expect, it } from 'vitest';
import {
  checkLastFetchedEpoch,
  offsetTruncationState,
  reconcileWithLeader,
} from '../src/replication/divergence.js';
import {
  LeaderEpochCache,
  UNDEFINED_EPOCH_END_OFFSET,
} from '../src/replication/leader-epoch-cache.js';
import { SimCluster } from '../src/replication/sim.js';

function cacheOf(...pairs: [number, number][]): LeaderEpochCache {
  const cache = new LeaderEpochCache();
  for (const [epoch, offset] of pairs) cache.assign(epoch, offset);
  return cache;
}

/** A replica as a list of epochs, one per record: [0, 0, 1] is offsets 0..2 written in epochs 0, 0, 1. */
function replica(epochs: number[], highWatermark = 0) {
  const epochCache = new LeaderEpochCache();
  epochs.forEach((epoch, offset) => epochCache.assign(epoch, offset));
  return {
    epochs: [...epochs],
    epochCache,
    highWatermark,
    get logEndOffset() {
      return this.epochs.length;
    },
  };
}

describe('offsetTruncationState', () => {
  const follower = {
    epochCache: cacheOf([0, 0], [1, 5], [2, 8]),
    logEndOffset: 12,
    highWatermark: 3,
  };

  it('the leader knows the follower’s epoch: truncate to the smaller end', () => {
    expect(offsetTruncationState({ epoch: 2, endOffset: 10 }, follower)).toEqual({
      offset: 10,
      truncationCompleted: true,
    });
    expect(offsetTruncationState({ epoch: 2, endOffset: 20 }, follower)).toEqual({
      offset: 12,
      truncationCompleted: true,
    });
  });

  it('the leader answers an earlier epoch the follower also has: min of both ends', () => {
    expect(offsetTruncationState({ epoch: 1, endOffset: 7 }, follower)).toEqual({
      offset: 7,
      truncationCompleted: true,
    });
    expect(offsetTruncationState({ epoch: 1, endOffset: 9 }, follower)).toEqual({
      offset: 8,
      truncationCompleted: true,
    });
  });

  it('the leader answers an epoch the follower does not have: cut to the end of its own smaller epoch, ask again', () => {
    const gappy = { ...follower, epochCache: cacheOf([0, 0], [2, 8]) };
    expect(offsetTruncationState({ epoch: 1, endOffset: 9 }, gappy)).toEqual({
      offset: 8,
      truncationCompleted: false,
    });
  });

  it('the follower’s epochs all start later: its first start offset (its endOffsetFor answers as Kafka’s)', () => {
    const late = { ...follower, epochCache: cacheOf([4, 3]) };
    expect(offsetTruncationState({ epoch: 1, endOffset: 9 }, late)).toEqual({
      offset: 3,
      truncationCompleted: true,
    });
  });

  it('the follower has no epochs at all: the leader’s offset', () => {
    const none = { ...follower, epochCache: new LeaderEpochCache() };
    expect(offsetTruncationState({ epoch: 1, endOffset: 9 }, none)).toEqual({
      offset: 9,
      truncationCompleted: true,
    });
  });

  it('the leader cannot say: fall back to the high watermark', () => {
    expect(offsetTruncationState(UNDEFINED_EPOCH_END_OFFSET, follower)).toEqual({
      offset: 3,
      truncationCompleted: true,
    });
  });

  it('an offset without an epoch (old protocol): min(offset, LEO)', () => {
    expect(offsetTruncationState({ epoch: -1, endOffset: 4 }, follower)).toEqual({
      offset: 4,
      truncationCompleted: true,
    });
  });
});

describe('the scenarios KIP-101 fixed', () => {
  it('keeps a committed record the follower had but whose high watermark it had not heard of', () => {
    // A (leader) and B both hold m1 and m2 in epoch 0; A's HW is 2, B's is still 0.
    const a = replica([0, 0], 2);
    const b = replica([0, 0], 0);
    const answer = a.epochCache.endOffsetFor(0, a.logEndOffset);
    expect(offsetTruncationState(answer, b)).toEqual({ offset: 2, truncationCompleted: true });
    // Truncating to the HW, as before KIP-101, would have dropped m2.
  });

  it('cuts a record that diverged under the same offset after both replicas restarted', () => {
    // A had m1, m2 in epoch 0; B had m1 only. B comes back first, leads epoch 1 and writes m3 at offset 1.
    const b = replica([0, 1]);
    const a = replica([0, 0], 2);
    const answer = b.epochCache.endOffsetFor(0, b.logEndOffset);
    expect(answer).toEqual({ epoch: 0, endOffset: 1 });
    expect(offsetTruncationState(answer, a)).toEqual({ offset: 1, truncationCompleted: true });
  });
});

describe('fast leader changes (KIP-279)', () => {
  it('asks again until the follower reaches an epoch the leader knows', () => {
    // The follower led epochs 1 and 3 that the leader never saw; the leader went 0 → 2 → 4.
    const leader = replica([0, 0, 2, 2, 2, 4]);
    const follower = replica([0, 0, 1, 1, 3, 3, 3]);
    const questions: number[] = [];
    const result = reconcileWithLeader(
      () => follower,
      (epoch) => {
        questions.push(epoch);
        return leader.epochCache.endOffsetFor(epoch, leader.logEndOffset);
      },
      (offset) => {
        follower.epochs.length = offset;
        follower.epochCache.truncateFromEnd(offset);
      },
    );
    // 3 → the leader answers (2, 5); the follower has no 2, cuts to the end of its 1 (offset 4)
    // 1 → the leader answers (0, 2); the follower has 0 too: cut to 2, done.
    expect(questions).toEqual([3, 1]);
    expect(result).toEqual({ fetchOffset: 2, rounds: 2 });
    expect(follower.epochs).toEqual([0, 0]);
  });

  it('refuses a truncate callback that leaves the epoch cache as it was', () => {
    const leader = replica([0, 0, 2, 2, 2, 4]);
    const follower = replica([0, 0, 1, 1, 3, 3, 3]);
    expect(() =>
      reconcileWithLeader(
        () => follower,
        (epoch) => leader.epochCache.endOffsetFor(epoch, leader.logEndOffset),
        (offset) => void (follower.epochs.length = offset),
      ),
    ).toThrow(/cut the cache/);
  });
});

describe('the leader’s check of lastFetchedEpoch (KIP-595)', () => {
  const leader = {
    epochCache: cacheOf([0, 0], [2, 5], [4, 9]),
    logEndOffset: 12,
    logStartOffset: 0,
  };

  it('accepts a fetch whose last epoch and offset the leader has', () => {
    expect(checkLastFetchedEpoch(leader, 12, 4)).toEqual({ kind: 'valid' });
    expect(checkLastFetchedEpoch(leader, 7, 2)).toEqual({ kind: 'valid' });
  });

  it('answers a diverging epoch when the follower’s epoch ends earlier in the leader, or is unknown', () => {
    expect(checkLastFetchedEpoch(leader, 11, 2)).toEqual({
      kind: 'diverging',
      divergingEpoch: { epoch: 2, endOffset: 9 },
    });
    expect(checkLastFetchedEpoch(leader, 6, 3)).toEqual({
      kind: 'diverging',
      divergingEpoch: { epoch: 2, endOffset: 9 },
    });
  });

  it('answers out of range for an epoch above its own', () => {
    expect(checkLastFetchedEpoch(leader, 12, 5)).toEqual({ kind: 'offset-out-of-range' });
  });
});

describe('the simulation, step by step', () => {
  it('an unclean election loses a committed record, and the old leader truncates to the new one', () => {
    const sim = new SimCluster({
      replicas: 2,
      replicaLagTimeMaxMs: 100,
      uncleanLeaderElection: true,
    });
    sim.produce(2);
    sim.fetch(1);
    sim.fetch(1); // B has both records; A's HW is 2, B's is 0
    expect(sim.replicas[0]!.highWatermark).toBe(2);
    sim.produce(3); // offsets 2..4
    sim.tick(1000); // B stops fetching and leaves the ISR: A alone commits 2..4
    expect(sim.isr).toEqual(new Set([0]));
    expect(sim.replicas[0]!.highWatermark).toBe(5);
    sim.crash(0); // the last ISR member: the partition goes offline
    expect(sim.leaderId).toBeUndefined();
    expect(sim.electLeader(1)).toBe(false); // not in the ISR: a clean election refuses
    expect(sim.electLeader(1, { unclean: true })).toBe(true);
    sim.produce(1); // offset 2, epoch 1
    sim.restart(0);
    sim.fetch(0);
    expect(sim.replicas[0]!.log).toEqual(sim.replicas[1]!.log);
    expect(sim.lostRecords().map((r) => r.offset)).toEqual([2, 3, 4]);
  });
});
