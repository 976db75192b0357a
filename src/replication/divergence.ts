/**
 * Where a follower's log stops agreeing with its leader's, found by leader
 * epoch (KIP-101, KIP-279, KIP-595). A follower that becomes follower of a new
 * epoch, or restarts, may hold records that the new leader never had: written
 * by an old leader that never got them committed. Truncating to the high
 * watermark (Kafka before 0.11) was wrong both ways: it could drop committed
 * records the follower had but whose HW it had not heard of yet, and keep
 * divergent ones. The epoch cache names exactly where each epoch ends.
 *
 * The exchange: the follower asks the leader for the end of its own latest
 * epoch E (OffsetsForLeaderEpoch, or a Fetch carrying lastFetchedEpoch = E
 * that the leader answers with a diverging epoch); the leader answers with
 * the largest epoch E' ≤ E it knows and where E' ends in its log; the
 * follower truncates (`offsetTruncationState`) and, when E' was unknown to
 * it, asks again with its new latest epoch. Each round removes at least one
 * epoch, so the exchange ends.
 */
import {
  type EpochEndOffset,
  type LeaderEpochCache,
  UNDEFINED_EPOCH,
  UNDEFINED_EPOCH_OFFSET,
} from './leader-epoch-cache.js';

export interface FollowerLogView {
  /** Only these two are asked: a log's own epochs (src/log/leader-epochs.ts) will do. */
  readonly epochCache: Pick<LeaderEpochCache, 'endOffsetFor' | 'latestEpoch'>;
  readonly logEndOffset: number;
  /** The follower's HW: the fallback when the leader cannot say where the epoch ends. */
  readonly highWatermark: number;
}

/** Kafka's OffsetTruncationState. */
export interface OffsetTruncationState {
  /** Truncate the log (and the epoch cache) to this offset; no-op when ≥ the log end offset. */
  readonly offset: number;
  /** false: ask the leader again with the follower's latest epoch after truncating. */
  readonly truncationCompleted: boolean;
}

// #region truncation-state
/**
 * Kafka's AbstractFetcherThread.getOffsetTruncationState: where the follower
 * truncates given the leader's answer about the follower's latest epoch.
 *
 * - the leader does not know the epoch (UNDEFINED offset): the high watermark;
 * - the leader answered an offset but no epoch (old protocol): min(that offset, LEO);
 * - the leader answered epoch E' that the follower also has: min(the end of E'
 *   in the leader, the end of E' in the follower, LEO), done;
 * - E' is unknown to the follower (its largest epoch ≤ E' is smaller): the
 *   end of that smaller epoch in the follower, then ask again;
 * - the follower has no epoch ≤ E' at all: min(the leader's offset, LEO).
 */
export function offsetTruncationState(
  leaderAnswer: EpochEndOffset,
  follower: FollowerLogView,
): OffsetTruncationState {
  const { logEndOffset } = follower;
  if (leaderAnswer.endOffset === UNDEFINED_EPOCH_OFFSET)
    return { offset: follower.highWatermark, truncationCompleted: true };
  if (leaderAnswer.epoch === UNDEFINED_EPOCH)
    return { offset: Math.min(leaderAnswer.endOffset, logEndOffset), truncationCompleted: true };
  const own = follower.epochCache.endOffsetFor(leaderAnswer.epoch, logEndOffset);
  if (own.endOffset === UNDEFINED_EPOCH_OFFSET)
    return { offset: Math.min(leaderAnswer.endOffset, logEndOffset), truncationCompleted: true };
  if (own.epoch !== leaderAnswer.epoch)
    return { offset: Math.min(own.endOffset, logEndOffset), truncationCompleted: false };
  return {
    offset: Math.min(own.endOffset, leaderAnswer.endOffset, logEndOffset),
    truncationCompleted: true,
  };
}
// #endregion truncation-state

/**
 * The epoch a follower asks about, or undefined when it has none: a log
 * without epochs (empty, or from before replication) truncates to its high
 * watermark instead (Kafka's truncateToHighWatermark).
 */
export function epochToAsk(follower: FollowerLogView): number | undefined {
  return follower.epochCache.latestEpoch;
}

// #region leader-side
/** The leader's check of a Fetch carrying lastFetchedEpoch (Kafka's Partition.readRecords, KIP-595). */
export type FetchEpochCheck =
  | { readonly kind: 'valid' }
  /** The follower's log diverges: it truncates by this answer, then fetches again. */
  | { readonly kind: 'diverging'; readonly divergingEpoch: EpochEndOffset }
  /** The leader cannot place the epoch: Kafka answers OFFSET_OUT_OF_RANGE. */
  | { readonly kind: 'offset-out-of-range' };

export function checkLastFetchedEpoch(
  leader: {
    /** Only `endOffsetFor` is asked: a log's own epochs (src/log/leader-epochs.ts) will do. */
    readonly epochCache: Pick<LeaderEpochCache, 'endOffsetFor'>;
    readonly logEndOffset: number;
    readonly logStartOffset: number;
  },
  fetchOffset: number,
  lastFetchedEpoch: number,
): FetchEpochCheck {
  const answer = leader.epochCache.endOffsetFor(lastFetchedEpoch, leader.logEndOffset);
  if (answer.endOffset === UNDEFINED_EPOCH_OFFSET || answer.epoch === UNDEFINED_EPOCH)
    return { kind: 'offset-out-of-range' };
  if (fetchOffset < leader.logStartOffset) return { kind: 'offset-out-of-range' };
  if (answer.epoch < lastFetchedEpoch || answer.endOffset < fetchOffset)
    return { kind: 'diverging', divergingEpoch: answer };
  return { kind: 'valid' };
}
// #endregion leader-side

/**
 * The whole exchange, with the two sides passed in: `askLeader` sends
 * OffsetsForLeaderEpoch(epoch), `truncate` cuts the follower's log and epoch
 * cache. Like Kafka's UnifiedLog.truncateTo, `truncate` must cut the epoch
 * cache to the log end even when the offset is at or past it: a replica that
 * led an epoch and wrote nothing holds an entry no record backs, and would
 * otherwise ask about that epoch forever. Returns the offset the follower
 * fetches from next and the number of questions it asked.
 */
export function reconcileWithLeader(
  follower: () => FollowerLogView,
  askLeader: (epoch: number) => EpochEndOffset,
  truncate: (offset: number) => void,
): { fetchOffset: number; rounds: number } {
  for (let rounds = 0; ;) {
    const view = follower();
    const epoch = epochToAsk(view);
    const state =
      epoch === undefined
        ? { offset: view.highWatermark, truncationCompleted: true }
        : offsetTruncationState(askLeader(epoch), view);
    if (epoch !== undefined) rounds++;
    truncate(state.offset); // even at or past the log end: see the note on `truncate` above
    if (state.truncationCompleted) return { fetchOffset: follower().logEndOffset, rounds };
    const next = epochToAsk(follower());
    if (next !== undefined && next >= epoch!)
      throw new Error(
        `truncate(${state.offset}) left epoch ${next} in the cache: it must cut the cache too`,
      );
  }
}
