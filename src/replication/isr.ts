/**
 * The in-sync replica set (ISR): the replicas a leader waits for before it
 * calls a record committed. Kafka's rules (Partition.scala), as pure
 * functions over the leader's view of its followers (replica-state.ts):
 *
 * - shrink: an ISR follower that has not been caught up with the leader's
 *   log end offset for more than replica.lag.time.max.ms is out of sync,
 *   whether it is stuck (no fetches) or slow (fetches that never reach the
 *   end). A follower whose log ends where the leader's does never is.
 * - expand: a follower outside the ISR joins once its log end offset is at
 *   least the high watermark and at least the start offset of the leader's
 *   current epoch, so that it holds every record the ISR has committed and
 *   has truncated whatever an earlier leader wrote that this one did not.
 * - the leader is always in its own ISR and is never removed.
 *
 * In Kafka the leader proposes each change to the controller
 * (AlterPartition) and uses the "maximal" ISR (old ∪ proposed) for the high
 * watermark until it is accepted; that exchange is the broker's business.
 */
import {
  type FollowerState,
  type ReplicaId,
  DEFAULT_REPLICA_LAG_TIME_MAX_MS,
  isCaughtUp,
} from './replica-state.js';

export interface IsrView {
  readonly leaderId: ReplicaId;
  readonly isr: ReadonlySet<ReplicaId>;
  /** The leader's view of each follower; a follower with no state counts as out of sync. */
  readonly followers: ReadonlyMap<ReplicaId, FollowerState>;
  readonly leaderLogEndOffset: number;
}

// #region shrink
/** Kafka's Partition.getOutOfSyncReplicas: the ISR followers to remove now. */
export function outOfSyncReplicas(
  view: IsrView,
  nowMs: number,
  replicaLagTimeMaxMs: number = DEFAULT_REPLICA_LAG_TIME_MAX_MS,
): Set<ReplicaId> {
  const out = new Set<ReplicaId>();
  for (const id of view.isr) {
    if (id === view.leaderId) continue;
    const state = view.followers.get(id);
    if (
      state === undefined ||
      !isCaughtUp(state, view.leaderLogEndOffset, nowMs, replicaLagTimeMaxMs)
    )
      out.add(id);
  }
  return out;
}

/** The ISR without the out-of-sync followers; the leader stays whatever it is told. */
export function shrinkIsr(
  view: IsrView,
  nowMs: number,
  replicaLagTimeMaxMs?: number,
): Set<ReplicaId> {
  const out = outOfSyncReplicas(view, nowMs, replicaLagTimeMaxMs);
  return new Set([...view.isr].filter((id) => !out.has(id)));
}
// #endregion shrink

// #region expand
/**
 * Kafka's Partition.isFollowerInSync: the follower holds everything committed
 * (≥ the high watermark) and has caught up past the point where the current
 * leader's epoch began.
 */
export function isFollowerInSync(
  followerLogEndOffset: number,
  highWatermark: number,
  leaderEpochStartOffset: number,
): boolean {
  return followerLogEndOffset >= highWatermark && followerLogEndOffset >= leaderEpochStartOffset;
}

/** Kafka's Partition.needsExpandIsr: a follower outside the ISR that is now in sync. */
export function needsExpandIsr(
  view: IsrView & { readonly highWatermark: number; readonly leaderEpochStartOffset: number },
  followerId: ReplicaId,
): boolean {
  if (followerId === view.leaderId || view.isr.has(followerId)) return false;
  const state = view.followers.get(followerId);
  return (
    state !== undefined &&
    isFollowerInSync(state.logEndOffset, view.highWatermark, view.leaderEpochStartOffset)
  );
}
// #endregion expand
