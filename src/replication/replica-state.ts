/**
 * What a leader knows of one follower (Kafka's Replica and ReplicaState):
 * where its log ends, as of its last fetch, and the last time it was caught
 * up with the leader. Every value comes from the follower's fetch requests;
 * the leader never asks.
 *
 * Pure functions over plain, immutable values: the broker keeps one state per
 * follower and replaces it with the result of each call.
 */

export type ReplicaId = number;

/** Kafka's UnifiedLog.UnknownOffset: no fetch seen yet. */
export const UNKNOWN_OFFSET = -1;

/** Kafka's default replica.lag.time.max.ms (since 2.5). */
export const DEFAULT_REPLICA_LAG_TIME_MAX_MS = 30_000;

export interface FollowerState {
  /** The follower's log start offset, as it said in its last fetch. */
  readonly logStartOffset: number;
  /** The fetch offset of its last fetch: every offset below it is in its log. */
  readonly logEndOffset: number;
  /** The leader's log end offset when that fetch arrived. */
  readonly lastFetchLeaderLogEndOffset: number;
  readonly lastFetchTimeMs: number;
  /**
   * The largest time t such that the follower's latest fetch offset is ≥ the
   * leader's log end offset at time t: how long ago it was last caught up.
   */
  readonly lastCaughtUpTimeMs: number;
}

/** Kafka's ReplicaState.Empty: a follower never heard from. */
export const EMPTY_FOLLOWER_STATE: FollowerState = Object.freeze({
  logStartOffset: UNKNOWN_OFFSET,
  logEndOffset: UNKNOWN_OFFSET,
  lastFetchLeaderLogEndOffset: 0,
  lastFetchTimeMs: 0,
  lastCaughtUpTimeMs: 0,
});

export interface FollowerFetch {
  /** The offset the follower asked for, which is its log end offset. */
  readonly fetchOffset: number;
  readonly logStartOffset: number;
  readonly fetchTimeMs: number;
  /** The leader's log end offset when the fetch arrived, before it was answered. */
  readonly leaderLogEndOffset: number;
}

// #region update-fetch-state
/**
 * Kafka's Replica.updateFetchStateOrThrow. A fetch that reaches the leader's
 * log end offset makes the follower caught up *now*; one that reaches the
 * leader's log end offset as it was at the *previous* fetch makes it caught up
 * as of that previous fetch. The second rule keeps a follower in sync when a
 * stream of small produces means its fetch offset is always a little behind:
 * it is never more than one fetch interval late.
 */
export function updateFollowerFetchState(
  state: FollowerState,
  fetch: FollowerFetch,
): FollowerState {
  let lastCaughtUpTimeMs = state.lastCaughtUpTimeMs;
  if (fetch.fetchOffset >= fetch.leaderLogEndOffset) {
    lastCaughtUpTimeMs = Math.max(lastCaughtUpTimeMs, fetch.fetchTimeMs);
  } else if (fetch.fetchOffset >= state.lastFetchLeaderLogEndOffset) {
    lastCaughtUpTimeMs = Math.max(lastCaughtUpTimeMs, state.lastFetchTimeMs);
  }
  return {
    logStartOffset: fetch.logStartOffset,
    logEndOffset: fetch.fetchOffset,
    lastFetchLeaderLogEndOffset: Math.max(
      fetch.leaderLogEndOffset,
      state.lastFetchLeaderLogEndOffset,
    ),
    lastFetchTimeMs: fetch.fetchTimeMs,
    lastCaughtUpTimeMs,
  };
}
// #endregion update-fetch-state

/**
 * Kafka's Replica.resetReplicaState, when this broker becomes leader for a
 * new epoch. An in-sync follower gets a fresh lag allowance (caught up "now");
 * any other gets none, so that it cannot hold the high watermark back. A new
 * leader knows nothing of where the followers' logs end; a re-elected one
 * keeps what it knew.
 */
export function resetFollowerState(
  state: FollowerState,
  reset: {
    nowMs: number;
    leaderEpochStartOffset: number;
    isNewLeader: boolean;
    inSync: boolean;
  },
): FollowerState {
  const lastCaughtUpTimeMs = reset.inSync ? reset.nowMs : 0;
  if (reset.isNewLeader) {
    return {
      logStartOffset: UNKNOWN_OFFSET,
      logEndOffset: UNKNOWN_OFFSET,
      lastFetchLeaderLogEndOffset: UNKNOWN_OFFSET,
      lastFetchTimeMs: 0,
      lastCaughtUpTimeMs,
    };
  }
  return {
    logStartOffset: state.logStartOffset,
    logEndOffset: state.logEndOffset,
    lastFetchLeaderLogEndOffset: reset.leaderEpochStartOffset,
    lastFetchTimeMs: reset.inSync ? reset.nowMs : 0,
    lastCaughtUpTimeMs,
  };
}

/**
 * Kafka's ReplicaState.isCaughtUp: the follower's log ends where the
 * leader's does, or it was caught up no more than `replicaLagTimeMaxMs` ago.
 */
export function isCaughtUp(
  state: FollowerState,
  leaderLogEndOffset: number,
  nowMs: number,
  replicaLagTimeMaxMs: number,
): boolean {
  return (
    state.logEndOffset === leaderLogEndOffset ||
    nowMs - state.lastCaughtUpTimeMs <= replicaLagTimeMaxMs
  );
}
