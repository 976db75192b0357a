/**
 * Kafka's consumer group states, by the names ListGroups and DescribeGroups
 * carry. The coordinator's state machine (src/broker/group/state.ts) moves
 * between them; clients and tools read them.
 */
export const GroupState = {
  EMPTY: 'Empty',
  PREPARING_REBALANCE: 'PreparingRebalance',
  COMPLETING_REBALANCE: 'CompletingRebalance',
  STABLE: 'Stable',
  DEAD: 'Dead',
} as const;
export type GroupState = (typeof GroupState)[keyof typeof GroupState];
