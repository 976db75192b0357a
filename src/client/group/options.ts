/**
 * The consumer's group options, with Kafka's names in the comments and
 * Kafka's defaults, checked once when the consumer is made.
 */
import { type Logger, consoleLogger } from '../../log/index.js';
import type { TopicPartition } from '../list-offsets.js';
import {
  ASSIGNORS,
  type AssignorName,
  type PartitionAssignor,
  isAssignorName,
} from './assignors.js';

/** A rebalance callback; the consumer awaits it before going on. */
export type RebalanceListener = (partitions: TopicPartition[]) => unknown;

export interface GroupOptions {
  /** `group.id`: join this consumer group (subscribe) and commit offsets for it. No default. */
  groupId?: string;
  /** `session.timeout.ms`: no heartbeat for this long and the coordinator removes the member. Default 45000. */
  sessionTimeoutMs?: number;
  /** `heartbeat.interval.ms`: below sessionTimeoutMs, typically a third of it. Default 3000. */
  heartbeatIntervalMs?: number;
  /**
   * `max.poll.interval.ms`: the longest the application may take between two
   * requests for the next record before the member leaves the group; also
   * the rebalance timeout. Default 300000.
   */
  maxPollIntervalMs?: number;
  /** `partition.assignment.strategy`: the assignors this member supports, preferred first. Default ['range']. */
  partitionAssignmentStrategy?: readonly AssignorName[];
  /** `enable.auto.commit`: commit the positions of records already handed out, every autoCommitIntervalMs and on close. Default true with a groupId. */
  enableAutoCommit?: boolean;
  /** `auto.commit.interval.ms`. Default 5000. */
  autoCommitIntervalMs?: number;
  /** `default.api.timeout.ms`: how long commit() and the committed-offset lookup keep retrying. Default 60000. */
  defaultApiTimeoutMs?: number;
  /** `allow.auto.create.topics`: subscribing to a missing topic creates it (if the broker allows). Default true. */
  allowAutoCreateTopics?: boolean;
  /** Called after a rebalance with the partitions this member now reads (its positions are set after it returns, unless it seeks). */
  onPartitionsAssigned?: RebalanceListener;
  /** Called before a rebalance (and on close) with the partitions this member gives up, after their positions were committed (auto-commit). */
  onPartitionsRevoked?: RebalanceListener;
  /** Called instead of onPartitionsRevoked when the partitions already belong to another member (fenced, or max.poll.interval.ms exceeded): nothing can be committed. Default: onPartitionsRevoked. */
  onPartitionsLost?: RebalanceListener;
  /** Where the consumer reports what the application should know (a left group, a failed auto-commit). Default: warnings to stderr. */
  logger?: Logger;
}

export interface ResolvedGroupOptions {
  groupId: string;
  clientId: string;
  requestTimeoutMs: number;
  retryBackoffMs: number;
  metadataMaxAgeMs: number;
  autoOffsetReset: 'earliest' | 'latest' | 'none';
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  maxPollIntervalMs: number;
  assignors: PartitionAssignor[];
  enableAutoCommit: boolean;
  autoCommitIntervalMs: number;
  defaultApiTimeoutMs: number;
  allowAutoCreateTopics: boolean;
  onPartitionsAssigned: RebalanceListener | undefined;
  onPartitionsRevoked: RebalanceListener | undefined;
  onPartitionsLost: RebalanceListener | undefined;
  logger: Logger;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v <= 0)
    throw new TypeError(`${name} must be an integer > 0, not ${v}`);
  return v;
}

/** The group options with defaults, or undefined without a groupId; misuse throws TypeError. */
export function groupOptions(
  options: GroupOptions & {
    clientId?: string;
    requestTimeoutMs?: number;
    retryBackoffMs?: number;
    metadataMaxAgeMs?: number;
    autoOffsetReset?: 'earliest' | 'latest' | 'none';
  },
): ResolvedGroupOptions | undefined {
  if (options.groupId === undefined) {
    if (options.enableAutoCommit === true)
      throw new TypeError('enableAutoCommit needs a groupId: offsets are committed for a group');
    return undefined;
  }
  if (typeof options.groupId !== 'string' || options.groupId === '')
    throw new TypeError('groupId must be a non-empty string');
  const sessionTimeoutMs = positive('sessionTimeoutMs', options.sessionTimeoutMs, 45_000);
  const heartbeatIntervalMs = positive('heartbeatIntervalMs', options.heartbeatIntervalMs, 3000);
  if (heartbeatIntervalMs >= sessionTimeoutMs)
    throw new TypeError(
      `heartbeatIntervalMs (${heartbeatIntervalMs}) must be below sessionTimeoutMs (${sessionTimeoutMs})`,
    );
  const strategy = options.partitionAssignmentStrategy ?? ['range'];
  if (strategy.length === 0) throw new TypeError('partitionAssignmentStrategy names no assignor');
  for (const name of strategy)
    if (!isAssignorName(name))
      throw new TypeError(`unknown assignor '${name}': use ${Object.keys(ASSIGNORS).join(' or ')}`);
  return {
    groupId: options.groupId,
    clientId: options.clientId ?? 'consumer',
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    retryBackoffMs: options.retryBackoffMs ?? 100,
    metadataMaxAgeMs: options.metadataMaxAgeMs ?? 300_000,
    autoOffsetReset: options.autoOffsetReset ?? 'latest',
    sessionTimeoutMs,
    heartbeatIntervalMs,
    maxPollIntervalMs: positive('maxPollIntervalMs', options.maxPollIntervalMs, 300_000),
    assignors: [...new Set(strategy)].map((name) => ASSIGNORS[name]),
    enableAutoCommit: options.enableAutoCommit ?? true,
    autoCommitIntervalMs: positive('autoCommitIntervalMs', options.autoCommitIntervalMs, 5000),
    defaultApiTimeoutMs: positive('defaultApiTimeoutMs', options.defaultApiTimeoutMs, 60_000),
    allowAutoCreateTopics: options.allowAutoCreateTopics ?? true,
    onPartitionsAssigned: options.onPartitionsAssigned,
    onPartitionsRevoked: options.onPartitionsRevoked,
    onPartitionsLost: options.onPartitionsLost,
    logger: options.logger ?? consoleLogger('warn', 'samsa consumer: '),
  };
}
