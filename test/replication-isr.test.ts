/**
 * ISR shrink and expand (Kafka's Replica.updateFetchStateOrThrow,
 * Partition.getOutOfSyncReplicas and isFollowerInSync): worked examples, then
 * properties over random timelines of leader appends, follower fetches and
 * time, checked against a model that keeps every fetch.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isFollowerInSync,
  needsExpandIsr,
  outOfSyncReplicas,
  shrinkIsr,
} from '../src/replication/isr.js';
import {
  EMPTY_FOLLOWER_STATE,
  type FollowerState,
  resetFollowerState,
  updateFollowerFetchState,
} from '../src/replication/replica-state.js';

const LAG = 100;

function fetched(
  state: FollowerState,
  fetchOffset: number,
  fetchTimeMs: number,
  leaderLogEndOffset: number,
): FollowerState {
  return updateFollowerFetchState(state, {
    fetchOffset,
    logStartOffset: 0,
    fetchTimeMs,
    leaderLogEndOffset,
  });
}

describe('follower fetch state', () => {
  it('is caught up now when the fetch reaches the leader’s log end offset', () => {
    const s = fetched(EMPTY_FOLLOWER_STATE, 10, 500, 10);
    expect(s).toMatchObject({ logEndOffset: 10, lastCaughtUpTimeMs: 500, lastFetchTimeMs: 500 });
  });

  it('is caught up as of the previous fetch when it reaches the leader’s end as it was then', () => {
    let s = fetched(EMPTY_FOLLOWER_STATE, 0, 100, 10); // the leader was at 10 at t=100
    expect(s.lastCaughtUpTimeMs).toBe(0);
    s = fetched(s, 10, 200, 15); // reached 10: caught up as of t=100
    expect(s.lastCaughtUpTimeMs).toBe(100);
    s = fetched(s, 12, 300, 20); // below 15, the leader's end at t=200: no change
    expect(s.lastCaughtUpTimeMs).toBe(100);
  });

  it('never moves lastCaughtUpTimeMs back', () => {
    let s = fetched(EMPTY_FOLLOWER_STATE, 10, 500, 10);
    s = fetched(s, 10, 400, 10); // a late answer with an older time
    expect(s.lastCaughtUpTimeMs).toBe(500);
  });

  it('on a new leader: an ISR follower gets a fresh allowance, any other none', () => {
    const s = fetched(EMPTY_FOLLOWER_STATE, 10, 500, 10);
    const reset = { nowMs: 900, leaderEpochStartOffset: 30, isNewLeader: true };
    expect(resetFollowerState(s, { ...reset, inSync: true })).toMatchObject({
      logEndOffset: -1,
      lastCaughtUpTimeMs: 900,
    });
    expect(resetFollowerState(s, { ...reset, inSync: false }).lastCaughtUpTimeMs).toBe(0);
    expect(resetFollowerState(s, { ...reset, isNewLeader: false, inSync: true })).toMatchObject({
      logEndOffset: 10,
      lastFetchLeaderLogEndOffset: 30,
      lastFetchTimeMs: 900,
    });
  });
});

describe('ISR shrink', () => {
  const view = (followers: [number, FollowerState][], leaderLogEndOffset: number) => ({
    leaderId: 0,
    isr: new Set([0, ...followers.map(([id]) => id)]),
    followers: new Map(followers),
    leaderLogEndOffset,
  });

  it('removes a lagging follower after exactly replica.lag.time.max.ms, never a caught-up one', () => {
    const laggard = fetched(EMPTY_FOLLOWER_STATE, 10, 1000, 10); // caught up at t=1000
    const current = fetched(EMPTY_FOLLOWER_STATE, 20, 0, 20); // caught up long ago, but at the end
    const v = view(
      [
        [1, laggard],
        [2, current],
      ],
      20,
    );
    expect(outOfSyncReplicas(v, 1000 + LAG, LAG)).toEqual(new Set());
    expect(outOfSyncReplicas(v, 1000 + LAG + 1, LAG)).toEqual(new Set([1]));
    expect(shrinkIsr(v, 1_000_000, LAG)).toEqual(new Set([0, 2]));
  });

  it('never removes the leader, and removes a follower it has no state for', () => {
    const v = { leaderId: 0, isr: new Set([0, 1]), followers: new Map(), leaderLogEndOffset: 5 };
    expect(outOfSyncReplicas(v, 10 ** 9, LAG)).toEqual(new Set([1]));
  });
});

describe('ISR expand', () => {
  it('needs the follower at or past both the high watermark and the epoch’s start offset', () => {
    expect(isFollowerInSync(10, 10, 8)).toBe(true);
    expect(isFollowerInSync(9, 8, 10)).toBe(false); // has not reached where this epoch began
    expect(isFollowerInSync(9, 10, 8)).toBe(false); // misses committed records
    const base = {
      leaderId: 0,
      isr: new Set([0]),
      leaderLogEndOffset: 20,
      highWatermark: 12,
      leaderEpochStartOffset: 5,
    };
    const followers = new Map([[1, fetched(EMPTY_FOLLOWER_STATE, 12, 0, 20)]]);
    expect(needsExpandIsr({ ...base, followers }, 1)).toBe(true);
    expect(needsExpandIsr({ ...base, followers, isr: new Set([0, 1]) }, 1)).toBe(false);
    expect(needsExpandIsr({ ...base, followers }, 0)).toBe(false);
    expect(needsExpandIsr({ ...base, followers, highWatermark: 13 }, 1)).toBe(false);
    expect(needsExpandIsr({ ...base, followers: new Map() }, 1)).toBe(false);
  });
});

// #region timeline
type Step =
  | { kind: 'append'; count: number }
  | { kind: 'fetch'; follower: number; upTo: number } // upTo: share of the missing records fetched
  | { kind: 'tick'; ms: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('append' as const), count: fc.integer({ min: 1, max: 5 }) }),
  fc.record({
    kind: fc.constant('fetch' as const),
    follower: fc.integer({ min: 1, max: 3 }),
    upTo: fc.constantFrom(0, 0.5, 1),
  }),
  fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 60 }) }),
);

/** Kafka's rule restated over the whole fetch history of one follower. */
function modelLastCaughtUp(history: { t: number; offset: number; leaderEnd: number }[]): number {
  let best = 0;
  let leaderEndBefore = 0; // max leader end seen at earlier fetches (0: ReplicaState.Empty)
  for (let j = 0; j < history.length; j++) {
    const f = history[j]!;
    if (f.offset >= f.leaderEnd) best = Math.max(best, f.t);
    else if (j > 0 && f.offset >= leaderEndBefore) best = Math.max(best, history[j - 1]!.t);
    else if (j === 0 && f.offset >= 0) best = Math.max(best, 0);
    leaderEndBefore = Math.max(leaderEndBefore, f.leaderEnd);
  }
  return best;
}
// #endregion timeline

describe('ISR over random timelines', () => {
  it('removes exactly the followers not at the leader’s end and not caught up within the lag', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 60 }), (steps) => {
        let now = 0;
        let leaderEnd = 0;
        const states = new Map<number, FollowerState>();
        const history = new Map<number, { t: number; offset: number; leaderEnd: number }[]>();
        const logEnd = new Map<number, number>([
          [1, 0],
          [2, 0],
          [3, 0],
        ]);
        for (const step of steps) {
          if (step.kind === 'append') leaderEnd += step.count;
          else if (step.kind === 'tick') now += step.ms;
          else {
            const offset = logEnd.get(step.follower)!; // a fetch asks from the follower's end
            const state = states.get(step.follower) ?? EMPTY_FOLLOWER_STATE;
            states.set(step.follower, fetched(state, offset, now, leaderEnd));
            const h = history.get(step.follower) ?? [];
            h.push({ t: now, offset, leaderEnd });
            history.set(step.follower, h);
            logEnd.set(step.follower, offset + Math.floor((leaderEnd - offset) * step.upTo));
          }
          const v = {
            leaderId: 0,
            isr: new Set([0, 1, 2, 3]),
            followers: states,
            leaderLogEndOffset: leaderEnd,
          };
          const out = outOfSyncReplicas(v, now, LAG);
          expect(out.has(0)).toBe(false);
          for (const id of [1, 2, 3]) {
            const s = states.get(id);
            if (s === undefined) {
              expect(out.has(id)).toBe(true);
              continue;
            }
            expect(s.lastCaughtUpTimeMs).toBe(modelLastCaughtUp(history.get(id)!));
            const expected = s.logEndOffset !== leaderEnd && now - s.lastCaughtUpTimeMs > LAG;
            expect(out.has(id), `follower ${id} at t=${now}`).toBe(expected);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps a follower that always fetches within the lag, even if it never reaches the live end', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            gap: fc.integer({ min: 1, max: LAG }),
            appended: fc.integer({ min: 1, max: 9 }),
          }),
          {
            minLength: 1,
            maxLength: 40,
          },
        ),
        (rounds) => {
          let now = 0;
          let leaderEnd = 0;
          let state = fetched(EMPTY_FOLLOWER_STATE, 0, 0, 0);
          for (const { gap, appended } of rounds) {
            const endAtLastFetch = leaderEnd;
            leaderEnd += appended; // produced before this fetch: the follower is always behind
            now += gap;
            state = fetched(state, endAtLastFetch, now, leaderEnd);
            const v = {
              leaderId: 0,
              isr: new Set([0, 1]),
              followers: new Map([[1, state]]),
              leaderLogEndOffset: leaderEnd,
            };
            expect(outOfSyncReplicas(v, now + LAG - gap, LAG)).toEqual(new Set());
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('removes a follower that stops fetching at the first millisecond past the lag', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 1, max: 50 }),
        (caughtUpAt, lag, appended) => {
          const state = fetched(EMPTY_FOLLOWER_STATE, 7, caughtUpAt, 7);
          const v = {
            leaderId: 0,
            isr: new Set([0, 1]),
            followers: new Map([[1, state]]),
            leaderLogEndOffset: 7 + appended,
          };
          expect(outOfSyncReplicas(v, caughtUpAt + lag, lag).has(1)).toBe(false);
          expect(outOfSyncReplicas(v, caughtUpAt + lag + 1, lag).has(1)).toBe(true);
          // A follower at the leader's end is in sync however long ago that was.
          expect(
            outOfSyncReplicas({ ...v, leaderLogEndOffset: 7 }, caughtUpAt + 10 * lag, lag).size,
          ).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });
});
