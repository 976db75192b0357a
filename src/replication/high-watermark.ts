/**
 * The high watermark (HW): the offset below which every record is on every
 * in-sync replica, so it survives the loss of any replica but one. Consumers
 * read below it; acks=all answers once it passes the batch.
 *
 * - leader: HW = min(log end offset over the ISR, the leader included), and it
 *   never moves back: a lower candidate (a follower just added to the ISR, a
 *   new leader that has not heard from its followers yet) keeps the current
 *   HW. It does not advance while the ISR is smaller than
 *   min.insync.replicas (Kafka's Partition.maybeIncrementLeaderHW and
 *   UnifiedLog.maybeIncrementHighWatermark).
 * - follower: HW = min(the HW in the leader's last fetch answer, its own log
 *   end offset), never below its log start offset (UnifiedLog.updateHighWatermark).
 *   A follower's HW lags the leader's by one fetch and may move back after a
 *   truncation: it is a hint, the leader's is the rule.
 *
 * Kafka also lets a follower outside the ISR that is caught up hold the HW
 * back, so that it can join; that refinement is not here yet.
 */
import type { ReplicaId } from './replica-state.js';

export interface LeaderHighWatermarkInput {
  readonly highWatermark: number;
  readonly leaderId: ReplicaId;
  readonly leaderLogEndOffset: number;
  readonly isr: ReadonlySet<ReplicaId>;
  /** The followers' log end offsets as of their last fetch; an ISR member with none holds the HW. */
  readonly followers: ReadonlyMap<ReplicaId, { readonly logEndOffset: number }>;
  /** min.insync.replicas; default 1. */
  readonly minInsyncReplicas?: number;
}

// #region leader
/** The leader's next high watermark. */
export function leaderHighWatermark(input: LeaderHighWatermarkInput): number {
  const { highWatermark, isr } = input;
  const minIsr = input.minInsyncReplicas ?? 1;
  if (isr.size < minIsr) return highWatermark;
  let candidate = input.leaderLogEndOffset;
  for (const id of isr) {
    if (id === input.leaderId) continue;
    const logEndOffset = input.followers.get(id)?.logEndOffset ?? -1;
    candidate = Math.min(candidate, logEndOffset);
  }
  return Math.max(highWatermark, candidate);
}
// #endregion leader

// #region follower
/** A follower's high watermark after it appended a fetch answer carrying `leaderHighWatermark`. */
export function followerHighWatermark(
  leaderHighWatermark: number,
  logEndOffset: number,
  logStartOffset = 0,
): number {
  return Math.max(logStartOffset, Math.min(leaderHighWatermark, logEndOffset));
}
// #endregion follower

export const AcksAll = {
  /** The HW has not reached the batch yet: keep waiting (Kafka's delayed produce). */
  WAITING: 'waiting',
  DONE: 'done',
  /** Committed, but the ISR shrank below min.insync.replicas meanwhile: Kafka answers NOT_ENOUGH_REPLICAS_AFTER_APPEND. */
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: 'not-enough-replicas-after-append',
} as const;
export type AcksAll = (typeof AcksAll)[keyof typeof AcksAll];

/**
 * Kafka's Partition.checkEnoughReplicasReachOffset: whether an acks=all
 * produce whose last offset is `requiredOffset - 1` may be answered.
 */
export function acksAllStatus(
  highWatermark: number,
  requiredOffset: number,
  isrSize: number,
  minInsyncReplicas = 1,
): AcksAll {
  if (highWatermark < requiredOffset) return AcksAll.WAITING;
  return isrSize >= minInsyncReplicas ? AcksAll.DONE : AcksAll.NOT_ENOUGH_REPLICAS_AFTER_APPEND;
}
