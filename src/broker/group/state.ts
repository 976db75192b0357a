/**
 * The states of a (classic) consumer group, with Kafka's names, and the only
 * transitions allowed between them. A transition not in the table is a bug
 * in the coordinator, not a client's mistake: `checkTransition` throws.
 *
 *             first member joins                all known members rejoined,
 *   Empty ─────────────────────► PreparingRebalance ──or the rebalance timeout──► CompletingRebalance
 *     ▲                           ▲   │  ▲                                            │   │
 *     │ the last member left      │   │  └──── a member joins, leaves or expires ─────┘   │ the leader's
 *     └───────────────────────────┼───┘                                                   │ SyncGroup
 *                                 │                                                       ▼
 *                                 └──── a member joins, leaves or expires ────────── Stable
 *
 *   Dead: from any state (deleted, its offsets expired, or the broker stops); final.
 */
import { GroupState } from '../../protocol/group-state.js';

export { GroupState };

const { EMPTY, PREPARING_REBALANCE, COMPLETING_REBALANCE, STABLE, DEAD } = GroupState;

/** For each state, the states it may be entered from (Kafka's `validPreviousStates`). */
export const VALID_PREVIOUS_STATES: { readonly [S in GroupState]: readonly GroupState[] } = {
  [EMPTY]: [PREPARING_REBALANCE],
  [PREPARING_REBALANCE]: [STABLE, COMPLETING_REBALANCE, EMPTY],
  [COMPLETING_REBALANCE]: [PREPARING_REBALANCE],
  [STABLE]: [COMPLETING_REBALANCE],
  [DEAD]: [STABLE, PREPARING_REBALANCE, COMPLETING_REBALANCE, EMPTY, DEAD],
};

export const ALL_STATES: readonly GroupState[] = Object.values(GroupState);

export class IllegalGroupTransitionError extends Error {
  override readonly name = 'IllegalGroupTransitionError';
}

/** Throws unless `from → to` is one of the allowed transitions. */
export function checkTransition(groupId: string, from: GroupState, to: GroupState): void {
  if (!VALID_PREVIOUS_STATES[to].includes(from))
    throw new IllegalGroupTransitionError(
      `group ${groupId} cannot go from ${from} to ${to} (allowed from: ${VALID_PREVIOUS_STATES[to].join(', ')})`,
    );
}
