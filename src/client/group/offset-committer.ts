/**
 * A group's committed offsets, through its coordinator: OffsetCommit (with
 * the member's generation and id, so a member the group has moved on from
 * is refused) and OffsetFetch. What may pass (no coordinator, a coordinator
 * that moved or is loading, the network) is retried with backoff until the
 * deadline; a refusal for a rebalance or a fence is a CLIENT_COMMIT_FAILED
 * error, in the words of Kafka's CommitFailedException.
 */
import { ProtocolError } from '../../protocol/index.js';
import { ClientError, ClientErrorCode, isRetriable, sleep } from '../errors.js';
import { type TopicPartition, tpKey } from '../list-offsets.js';
import type { Generation, GroupMembership } from './membership.js';

/** An offset to commit: that of the next record to read from the partition. */
export interface CommitOffset extends TopicPartition {
  offset: number;
  metadata?: string | null;
}

/** A committed offset as OffsetFetch gives it; offset -1 when the group has none for the partition. */
export interface CommittedOffset extends TopicPartition {
  offset: number;
  metadata: string | null;
}

/** A commit from a member the group has rebalanced without (poll timeout, session timeout, fenced). */
export function commitFailedError(cause?: unknown): ClientError {
  return new ClientError(
    ClientErrorCode.COMMIT_FAILED,
    'Commit cannot be completed since the group has already rebalanced and assigned the partitions ' +
      'to another member. This means that the time between two requests for the next record was longer ' +
      'than maxPollIntervalMs (max.poll.interval.ms), or that the member missed its heartbeats for ' +
      'sessionTimeoutMs, which typically implies that the application spends too much time on each ' +
      'record. Raise maxPollIntervalMs, or process records faster. The consumer rejoins the group on ' +
      'its next iteration.',
    { cause },
  );
}

/** A commit while the consumer is not in the group (it left or was removed). */
export function notInGroupError(): ClientError {
  return new ClientError(
    ClientErrorCode.COMMIT_FAILED,
    'Offset commit cannot be completed since the consumer is not part of an active group for ' +
      'automatic partition assignment; it is likely that the consumer was kicked out of the group ' +
      '(max.poll.interval.ms or session.timeout.ms exceeded). It rejoins on its next iteration.',
  );
}

function rebalancingError(cause: unknown): ClientError {
  return new ClientError(
    ClientErrorCode.COMMIT_FAILED,
    'Offset commit cannot be completed since the consumer is undergoing a rebalance for automatic ' +
      'partition assignment. Ask the consumer for the next record to complete the rebalance, then ' +
      'commit again (the partitions may have moved to another member).',
    { cause },
  );
}

// #region commit
/** Commits `offsets` as `generation` (NO_GENERATION: not a member, for a consumer with assigned partitions). */
export async function commitOffsets(
  membership: GroupMembership,
  generation: Generation,
  offsets: readonly CommitOffset[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let pending = [...offsets];
  while (pending.length > 0) {
    const byTopic = new Map<string, CommitOffset[]>();
    for (const o of pending) byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), o]);
    const retry: CommitOffset[] = [];
    let failure: unknown;
    try {
      const response = await membership.send('OffsetCommit', {
        groupId: membership.config.groupId,
        generationId: generation.generationId,
        memberId: generation.memberId,
        topics: [...byTopic].map(([name, list]) => ({
          name,
          partitions: list.map((o) => ({
            partitionIndex: o.partition,
            committedOffset: o.offset,
            committedLeaderEpoch: -1,
            committedMetadata: o.metadata ?? null,
          })),
        })),
      });
      for (const t of response.topics) {
        for (const p of t.partitions) {
          if (p.errorCode === 0) continue;
          const tp = { topic: t.name, partition: p.partitionIndex };
          const error = ProtocolError.fromCode(p.errorCode, `OffsetCommit of ${tpKey(tp)}`);
          if (membership.retriableCoordinatorError(error)) {
            retry.push(...pending.filter((o) => tpKey(o) === tpKey(tp)));
            continue;
          }
          throw refusal(membership, generation, error);
        }
      }
    } catch (error) {
      if (!isRetriable(error)) throw error;
      failure = error;
      retry.push(...pending);
    }
    pending = retry;
    if (pending.length === 0) return;
    if (Date.now() + membership.config.retryBackoffMs > deadline)
      throw new ClientError(
        ClientErrorCode.TIMEOUT,
        `offset commit for group '${membership.config.groupId}' did not complete within ${timeoutMs} ms`,
        { cause: failure },
      );
    await sleep(membership.config.retryBackoffMs);
  }
}

/** The error for a commit the coordinator refused; a fence resets the member, a rebalance asks to rejoin. */
function refusal(membership: GroupMembership, generation: Generation, error: ProtocolError): Error {
  if (error.name === 'REBALANCE_IN_PROGRESS') {
    if (generation.generationId >= 0) membership.requestRejoin('a commit met a rebalance');
    return rebalancingError(error);
  }
  if (error.name === 'ILLEGAL_GENERATION' || error.name === 'UNKNOWN_MEMBER_ID') {
    if (membership.generation === generation && generation.generationId >= 0) {
      membership.resetGeneration(error.name === 'UNKNOWN_MEMBER_ID');
      membership.requestRejoin(`a commit was fenced (${error.name})`);
    }
    return commitFailedError(error);
  }
  return error;
}
// #endregion commit

/** The group's committed offsets for `partitions` (absent: nothing committed). */
export async function fetchCommittedOffsets(
  membership: GroupMembership,
  partitions: readonly TopicPartition[],
  timeoutMs: number,
): Promise<Map<string, CommittedOffset>> {
  const deadline = Date.now() + timeoutMs;
  const byTopic = new Map<string, number[]>();
  for (const tp of partitions)
    byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
  for (;;) {
    let failure: unknown;
    try {
      const response = await membership.send('OffsetFetch', {
        groupId: membership.config.groupId,
        topics: [...byTopic].map(([name, partitionIndexes]) => ({ name, partitionIndexes })),
      });
      const groupError =
        response.errorCode === 0
          ? undefined
          : ProtocolError.fromCode(response.errorCode, 'OffsetFetch');
      if (groupError !== undefined && !membership.retriableCoordinatorError(groupError))
        throw groupError;
      if (groupError === undefined) return committedFrom(response);
      failure = groupError;
    } catch (error) {
      if (!isRetriable(error)) throw error;
      failure = error;
    }
    if (Date.now() + membership.config.retryBackoffMs > deadline)
      throw new ClientError(
        ClientErrorCode.TIMEOUT,
        `fetching the committed offsets of group '${membership.config.groupId}' did not complete within ${timeoutMs} ms`,
        { cause: failure },
      );
    await sleep(membership.config.retryBackoffMs);
  }
}

function committedFrom(response: {
  topics: {
    name: string;
    partitions: {
      partitionIndex: number;
      committedOffset: number;
      metadata: string | null;
      errorCode: number;
    }[];
  }[];
}): Map<string, CommittedOffset> {
  const out = new Map<string, CommittedOffset>();
  for (const t of response.topics) {
    for (const p of t.partitions) {
      const key = tpKey({ topic: t.name, partition: p.partitionIndex });
      if (p.errorCode !== 0) throw ProtocolError.fromCode(p.errorCode, `OffsetFetch of ${key}`);
      if (p.committedOffset >= 0)
        out.set(key, {
          topic: t.name,
          partition: p.partitionIndex,
          offset: p.committedOffset,
          metadata: p.metadata,
        });
    }
  }
  return out;
}
