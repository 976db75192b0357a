/**
 * The high watermark: worked examples, then a property over random timelines
 * of a leader and three followers (appends, partial fetches, time, ISR shrink
 * and expand by the rules of isr.ts): the leader's HW never decreases, never
 * exceeds the log end offset of any ISR member, and is exactly the smallest
 * ISR log end offset whenever that did not fall.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AcksAll,
  acksAllStatus,
  followerHighWatermark,
  leaderHighWatermark,
} from '../src/replication/high-watermark.js';
import { needsExpandIsr, outOfSyncReplicas } from '../src/replication/isr.js';
import {
  EMPTY_FOLLOWER_STATE,
  type FollowerState,
  updateFollowerFetchState,
} from '../src/replication/replica-state.js';

const leo = (logEndOffset: number) => ({ logEndOffset });

describe('leader high watermark', () => {
  const base = { highWatermark: 0, leaderId: 0, leaderLogEndOffset: 10 };

  it('is the smallest log end offset over the ISR, the leader included', () => {
    const followers = new Map([
      [1, leo(7)],
      [2, leo(3)],
    ]);
    expect(leaderHighWatermark({ ...base, isr: new Set([0, 1, 2]), followers })).toBe(3);
    expect(leaderHighWatermark({ ...base, isr: new Set([0, 1]), followers })).toBe(7);
    expect(leaderHighWatermark({ ...base, isr: new Set([0]), followers })).toBe(10);
  });

  it('never moves back: a lower candidate keeps the current one', () => {
    const followers = new Map([[1, leo(2)]]);
    expect(
      leaderHighWatermark({ ...base, highWatermark: 5, isr: new Set([0, 1]), followers }),
    ).toBe(5);
  });

  it('is held by an ISR member not heard from yet (a new leader’s followers)', () => {
    expect(
      leaderHighWatermark({
        ...base,
        highWatermark: 4,
        isr: new Set([0, 1]),
        followers: new Map(),
      }),
    ).toBe(4);
  });

  it('does not advance while the ISR is smaller than min.insync.replicas', () => {
    const input = { ...base, highWatermark: 4, isr: new Set([0]), followers: new Map() };
    expect(leaderHighWatermark({ ...input, minInsyncReplicas: 2 })).toBe(4);
    expect(leaderHighWatermark({ ...input, minInsyncReplicas: 1 })).toBe(10);
  });

  it('on a follower: the leader’s HW, bounded by its own log', () => {
    expect(followerHighWatermark(8, 5)).toBe(5);
    expect(followerHighWatermark(3, 5)).toBe(3);
    expect(followerHighWatermark(3, 5, 4)).toBe(4);
  });

  it('answers acks=all once the HW passes the batch, and says when the ISR shrank meanwhile', () => {
    expect(acksAllStatus(9, 10, 3, 2)).toBe(AcksAll.WAITING);
    expect(acksAllStatus(10, 10, 3, 2)).toBe(AcksAll.DONE);
    expect(acksAllStatus(12, 10, 1, 2)).toBe(AcksAll.NOT_ENOUGH_REPLICAS_AFTER_APPEND);
  });
});

type Step =
  | { kind: 'append'; count: number }
  | { kind: 'fetch'; follower: number; share: number }
  | { kind: 'tick'; ms: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('append' as const), count: fc.integer({ min: 1, max: 4 }) }),
  fc.record({
    kind: fc.constant('fetch' as const),
    follower: fc.integer({ min: 1, max: 3 }),
    share: fc.constantFrom(0, 0.3, 1),
  }),
  fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 80 }) }),
);

describe('leader high watermark over random timelines', () => {
  it('never decreases and never exceeds an ISR member’s log end offset', () => {
    fc.assert(
      fc.property(
        fc.array(stepArb, { maxLength: 80 }),
        fc.integer({ min: 1, max: 3 }),
        (steps, minInsyncReplicas) => {
          const lag = 100;
          let now = 0;
          let leaderEnd = 0;
          let hw = 0;
          let isr = new Set([0, 1, 2, 3]);
          const states = new Map<number, FollowerState>(
            [1, 2, 3].map((id) => [id, { ...EMPTY_FOLLOWER_STATE, logEndOffset: 0 }]),
          );
          const actualEnd = new Map([
            [0, 0],
            [1, 0],
            [2, 0],
            [3, 0],
          ]);
          const advance = () => {
            const input = {
              highWatermark: hw,
              leaderId: 0,
              leaderLogEndOffset: leaderEnd,
              isr,
              followers: states,
              minInsyncReplicas,
            };
            const next = leaderHighWatermark(input);
            expect(next).toBeGreaterThanOrEqual(hw);
            const smallest = Math.min(
              ...[...isr].map((id) => (id === 0 ? leaderEnd : states.get(id)!.logEndOffset)),
            );
            expect(next).toBe(isr.size >= minInsyncReplicas ? Math.max(hw, smallest) : hw);
            hw = next;
          };
          for (const step of steps) {
            if (step.kind === 'append') {
              leaderEnd += step.count;
              actualEnd.set(0, leaderEnd);
            } else if (step.kind === 'tick') {
              now += step.ms;
              const out = outOfSyncReplicas(
                { leaderId: 0, isr, followers: states, leaderLogEndOffset: leaderEnd },
                now,
                lag,
              );
              isr = new Set([...isr].filter((id) => !out.has(id)));
            } else {
              const offset = actualEnd.get(step.follower)!;
              states.set(
                step.follower,
                updateFollowerFetchState(states.get(step.follower)!, {
                  fetchOffset: offset,
                  logStartOffset: 0,
                  fetchTimeMs: now,
                  leaderLogEndOffset: leaderEnd,
                }),
              );
              const view = {
                leaderId: 0,
                isr,
                followers: states,
                leaderLogEndOffset: leaderEnd,
                highWatermark: hw,
                leaderEpochStartOffset: 0,
              };
              if (needsExpandIsr(view, step.follower)) isr = new Set([...isr, step.follower]);
              actualEnd.set(step.follower, offset + Math.ceil((leaderEnd - offset) * step.share));
            }
            advance();
            expect(hw).toBeLessThanOrEqual(leaderEnd);
            for (const id of isr)
              expect(hw, `ISR member ${id}`).toBeLessThanOrEqual(actualEnd.get(id)!);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
