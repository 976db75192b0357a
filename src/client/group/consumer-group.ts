/**
 * The consumer's side of a group (Kafka's ConsumerCoordinator): the
 * subscription, the leader's assignment, the rebalance callbacks, the
 * starting positions from the committed offsets, and auto-commit.
 *
 * The eager protocol, as Kafka's range and roundrobin assignors use it: before
 * rejoining, a member commits its positions (auto-commit), calls
 * onPartitionsRevoked with everything it owns and drops all of it, buffered
 * records included; after the rebalance it takes its new partitions
 * (onPartitionsAssigned) and starts each at its committed offset, else at
 * `autoOffsetReset`. Everything here runs inside the iterator's `next()` (the
 * consumer's poll), so a record is never handed out while a rebalance is
 * under way, nor from a partition after its revocation.
 */
import type { Cluster } from '../cluster.js';
import type { PartitionState } from '../fetcher.js';
import { ClientError, ClientErrorCode } from '../errors.js';
import { type TopicPartition, tpKey } from '../list-offsets.js';
import { type PartitionAssignor } from './assignors.js';
import {
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
  toTopicPartitions,
} from './consumer-protocol.js';
import { type Generation, type GroupMember, GroupMembership, NO_GENERATION } from './membership.js';
import {
  type CommitOffset,
  type CommittedOffset,
  commitFailedError,
  commitOffsets,
  fetchCommittedOffsets,
  notInGroupError,
} from './offset-committer.js';
import type { RebalanceListener, ResolvedGroupOptions } from './options.js';

/** What the group needs of the consumer's partition states. */
export interface AssignmentHost {
  states(): Iterable<PartitionState>;
  /** Replaces the partitions read; nothing buffered or in flight for one that goes is handed out. */
  setAssignment(partitions: TopicPartition[]): void;
  seek(tp: TopicPartition, offset: number): void;
  reset(tp: TopicPartition, strategy: 'earliest' | 'latest'): void;
  /** Stop waiting for data: the iterator has group work to do. */
  wake(): void;
}

/** Who this member is in its group: what its commits carry. */
export interface ConsumerGroupMetadata {
  groupId: string;
  /** -1 outside a generation. */
  generationId: number;
  /** '' before the first join and after leaving. */
  memberId: string;
}

export class ConsumerGroup {
  readonly membership: GroupMembership;
  private subscription: string[] = [];
  /** Set while a rebalance runs: the consumer fetches nothing meanwhile. */
  rebalancing = false;
  /** New partitions without a position: they start at the committed offset (looked up in the next poll). */
  positionsPending = false;
  private nextAutoCommit = 0;
  /** The leader's view of the group's topics when it assigned them: topic → partitions. */
  private snapshot: Map<string, number> | undefined;
  private nextMetadataCheck = 0;
  private autoCommitting: Promise<void> | undefined;

  constructor(
    private readonly cluster: Cluster,
    private readonly options: ResolvedGroupOptions,
    private readonly host: AssignmentHost,
  ) {
    this.membership = new GroupMembership(
      cluster,
      { ...options, rebalanceTimeoutMs: options.maxPollIntervalMs },
      () => host.wake(),
    );
  }

  private assignment(): TopicPartition[] {
    return [...this.host.states()].map((s) => ({ ...s.tp }));
  }

  /** The positions (next offset to hand out) of the assigned partitions that have one. */
  private positions(): CommitOffset[] {
    const out: CommitOffset[] = [];
    for (const s of this.host.states())
      if (s.position !== null) out.push({ ...s.tp, offset: s.position });
    return out;
  }

  /** Assigned partitions with no position and no pending reset: they start at the committed offset. */
  private unpositioned(): TopicPartition[] {
    return [...this.host.states()]
      .filter((s) => s.position === null && s.reset === null)
      .map((s) => ({ ...s.tp }));
  }

  metadata(): ConsumerGroupMetadata {
    const { generationId, memberId } = this.membership.generation;
    return { groupId: this.options.groupId, generationId, memberId };
  }

  get subscribed(): boolean {
    return this.subscription.length > 0;
  }

  topics(): string[] {
    return [...this.subscription];
  }

  subscribe(topics: readonly string[]): void {
    if (topics.length === 0 || !topics.every((t) => typeof t === 'string' && t !== ''))
      throw new TypeError(
        'subscribe wants a non-empty list of topic names; to stop, unsubscribe()',
      );
    const next = [...new Set(topics)].sort();
    const changed = next.join('\0') !== this.subscription.join('\0');
    this.subscription = next;
    if (changed) this.membership.requestRejoin('the subscription changed');
  }

  /** The iterator's poll: a rebalance when one is needed, an auto-commit when one is due. `undefined`: nothing to wait for. */
  poll(): Promise<void> | undefined {
    this.membership.pollStarted();
    if (this.subscribed && this.membership.rejoinNeeded) return this.rebalance();
    if (this.positionsPending) return this.initPositions();
    if (this.snapshot !== undefined && Date.now() >= this.nextMetadataCheck) this.checkMetadata();
    if (this.options.enableAutoCommit && Date.now() >= this.nextAutoCommit) this.autoCommit();
    return undefined;
  }

  // #region rebalance
  private async rebalance(): Promise<void> {
    this.rebalancing = true;
    try {
      await this.onJoinPrepare();
      const protocols = this.options.assignors.map((assignor) => ({
        name: assignor.name,
        metadata: encodeSubscription({ topics: this.subscription }),
      }));
      const bytes = await this.membership.joinGroup(protocols, (name, members) =>
        this.assign(name, members),
      );
      await this.onJoinComplete(bytes);
    } finally {
      this.rebalancing = false;
      this.host.wake();
    }
  }

  /** Commit (if auto), then revoke everything (eager); lost instead when the generation is gone. */
  private async onJoinPrepare(): Promise<void> {
    this.snapshot = undefined;
    const owned = this.assignment();
    const lost = !this.membership.hasGeneration();
    if (!lost && this.options.enableAutoCommit) await this.commitQuietly('before rebalancing');
    if (owned.length > 0) await this.revoke(owned, lost);
    this.host.setAssignment([]);
  }

  private async revoke(owned: TopicPartition[], lost: boolean): Promise<void> {
    const listener: RebalanceListener | undefined = lost
      ? (this.options.onPartitionsLost ?? this.options.onPartitionsRevoked)
      : this.options.onPartitionsRevoked;
    await listener?.(owned);
  }

  /** The leader: every member's partitions, by the assignor the group chose, over fresh metadata. */
  private async assign(
    protocolName: string,
    members: GroupMember[],
  ): Promise<{ memberId: string; assignment: Buffer }[]> {
    const assignor: PartitionAssignor | undefined = this.options.assignors.find(
      (a) => a.name === protocolName,
    );
    if (assignor === undefined)
      throw new ClientError(
        ClientErrorCode.INVALID_GROUP_METADATA,
        `the group chose assignor '${protocolName}', which this member does not offer`,
      );
    const subscriptions = members.map((m) => ({
      memberId: m.memberId,
      topics: decodeSubscription(m.metadata).topics,
    }));
    const topics = [...new Set(subscriptions.flatMap((s) => s.topics))];
    const partitionsPerTopic = new Map<string, number>();
    if (topics.length > 0) {
      const metadata = await this.cluster.fetchMetadata(topics, this.options.allowAutoCreateTopics);
      for (const t of metadata.topics)
        if (t.errorCode === 0 && topics.includes(t.name))
          partitionsPerTopic.set(t.name, t.partitions.length);
    }
    this.snapshot = new Map(topics.map((t) => [t, partitionsPerTopic.get(t) ?? 0]));
    this.nextMetadataCheck = Date.now() + this.options.metadataMaxAgeMs;
    const result = assignor.assign(subscriptions, partitionsPerTopic);
    return members.map((m) => ({
      memberId: m.memberId,
      assignment: encodeAssignment({
        partitions: toTopicPartitions(result.get(m.memberId) ?? new Map()),
      }),
    }));
  }

  /**
   * The leader, every metadata.max.age.ms: a group topic that gained (or
   * lost) partitions, or appeared, means a new assignment: rejoin (Kafka does).
   */
  private checkMetadata(): void {
    const snapshot = this.snapshot!;
    this.nextMetadataCheck = Date.now() + this.options.metadataMaxAgeMs;
    this.cluster.fetchMetadata([...snapshot.keys()]).then(
      (metadata) => {
        if (this.snapshot !== snapshot) return;
        for (const [topic, before] of snapshot) {
          const t = metadata.topics.find((x) => x.name === topic);
          const now = t === undefined || t.errorCode !== 0 ? 0 : t.partitions.length;
          if (now === before) continue;
          this.snapshot = undefined;
          this.membership.requestRejoin(`'${topic}' has ${now} partitions, not ${before}`);
          return;
        }
      },
      () => undefined, // the next check tries again
    );
  }

  private async onJoinComplete(bytes: Buffer): Promise<void> {
    const assigned: TopicPartition[] = [];
    for (const { topic, partitions } of decodeAssignment(bytes).partitions) {
      if (!this.subscription.includes(topic)) {
        this.options.logger.warn(
          `group '${this.options.groupId}' assigned partitions of '${topic}', which this member does not subscribe to; rejoining`,
        );
        this.membership.requestRejoin('an assignment outside the subscription');
        continue;
      }
      for (const partition of partitions) assigned.push({ topic, partition });
    }
    this.host.setAssignment(assigned);
    this.nextAutoCommit = Date.now() + this.options.autoCommitIntervalMs;
    await this.options.onPartitionsAssigned?.(assigned.map((tp) => ({ ...tp })));
    await this.initPositions();
  }
  // #endregion rebalance

  /** Positions for the partitions that have none: the committed offset, else `autoOffsetReset`. */
  async initPositions(): Promise<void> {
    this.positionsPending = false;
    const wanted = this.unpositioned();
    if (wanted.length === 0) return;
    const committed = await this.fetchCommitted(wanted);
    const still = new Set(this.unpositioned().map(tpKey));
    for (const tp of wanted) {
      if (!still.has(tpKey(tp))) continue; // a seek meanwhile wins
      const found = committed.get(tpKey(tp));
      if (found !== undefined) this.host.seek(tp, found.offset);
      else if (this.options.autoOffsetReset !== 'none')
        this.host.reset(tp, this.options.autoOffsetReset);
      else
        throw new ClientError(
          ClientErrorCode.NO_OFFSET,
          `${tpKey(tp)} has no committed offset in group '${this.options.groupId}' and autoOffsetReset is 'none': ` +
            `seek first (in onPartitionsAssigned), or use 'earliest' or 'latest'`,
        );
    }
  }

  private fetchCommitted(
    partitions: readonly TopicPartition[],
  ): Promise<Map<string, CommittedOffset>> {
    return fetchCommittedOffsets(this.membership, partitions, this.options.defaultApiTimeoutMs);
  }

  /** The committed offsets of `partitions`, in their order (offset -1: nothing committed). */
  async committed(partitions: readonly TopicPartition[]): Promise<CommittedOffset[]> {
    const found = await this.fetchCommitted(partitions);
    return partitions.map((tp) => ({
      topic: tp.topic,
      partition: tp.partition,
      offset: found.get(tpKey(tp))?.offset ?? -1,
      metadata: found.get(tpKey(tp))?.metadata ?? null,
    }));
  }

  // #region commit
  /** Commits `offsets` (default: every position) as this member; waits for an auto-commit in flight first. */
  async commit(offsets?: readonly CommitOffset[]): Promise<void> {
    for (const o of offsets ?? [])
      if (typeof o?.topic !== 'string' || !Number.isSafeInteger(o.offset) || o.offset < 0)
        throw new TypeError('commit wants [{ topic, partition, offset }] with offsets ≥ 0');
    await this.autoCommitting;
    offsets ??= this.positions();
    if (offsets.length === 0) return;
    await commitOffsets(
      this.membership,
      this.commitGeneration(),
      offsets,
      this.options.defaultApiTimeoutMs,
    );
  }

  /** The generation a commit carries: the member's, or none for a consumer with assigned partitions. */
  private commitGeneration(): Generation {
    if (!this.subscribed) return NO_GENERATION;
    if (this.membership.hasGeneration()) return this.membership.generation;
    throw this.membership.pollTimeoutExpired ? commitFailedError() : notInGroupError();
  }

  private autoCommit(): void {
    this.nextAutoCommit = Date.now() + this.options.autoCommitIntervalMs;
    if (this.autoCommitting !== undefined) return;
    const offsets = this.positions();
    if (offsets.length === 0 || (this.subscribed && !this.membership.hasGeneration())) return;
    this.autoCommitting = this.commitQuietly('auto-commit').finally(
      () => (this.autoCommitting = undefined),
    );
  }

  /** A commit whose failure is reported, not thrown (auto-commit; Kafka logs these too). */
  private async commitQuietly(when: string): Promise<void> {
    try {
      await commitOffsets(
        this.membership,
        this.commitGeneration(),
        this.positions(),
        this.options.defaultApiTimeoutMs,
      );
    } catch (error) {
      this.options.logger.warn(
        `group '${this.options.groupId}': committing offsets ${when} failed: ${(error as Error).message}`,
      );
    }
  }
  // #endregion commit

  /** Stop reading the subscription: revoke (after committing) and leave the group. */
  async unsubscribe(): Promise<void> {
    await this.leave('the consumer unsubscribed');
    this.subscription = [];
  }

  /** Close: commit the positions (auto), revoke, leave the group. */
  async close(): Promise<void> {
    await this.leave('the consumer is closing');
    await this.membership.close();
  }

  private async leave(reason: string): Promise<void> {
    await this.autoCommitting;
    const lost = this.subscribed && !this.membership.hasGeneration();
    if (this.options.enableAutoCommit && !lost && !this.rebalancing)
      await this.commitQuietly('on close');
    if (this.subscribed) {
      const owned = this.assignment();
      try {
        if (owned.length > 0) await this.revoke(owned, lost);
      } finally {
        this.host.setAssignment([]);
        await this.membership.leave(reason);
      }
    }
  }
}
