/**
 * A partition: one Log, its leader epoch and high watermark, its role on
 * this broker, plus whoever waits for it to grow.
 *
 * Roles: a **leader** appends produced batches, stamped with its leader
 * epoch, and serves fetches; a **follower** only takes its leader's batches
 * as they are (`appendAsFollower`) and cuts a divergent tail (`truncateTo`);
 * **none** serves nothing (no role from the controller yet, or no replica
 * here). Produce and fetch anywhere but the leader: NOT_LEADER_OR_FOLLOWER.
 * With one broker every partition leads with the ISR `{this broker}`, so the
 * HW reaches the log end offset before an append returns. In a cluster the
 * ReplicaManager (src/broker/replica/) gives the roles, replicas and ISR
 * from the controller's image, and the leader's HW is Kafka's
 * maybeIncrementLeaderHW over the followers' fetched offsets and the
 * *maximal* ISR (replica-set.ts).
 *
 * Invariants: `logStartOffset ≤ highWatermark ≤ logEndOffset`; a leader's HW
 * never moves back, only a follower's truncation lowers it; a new leader
 * epoch starts at the log end offset before anything is written in it
 * (KAFKA-7415). The log keeps which epoch wrote from which offset
 * (src/log/leader-epochs.ts); the TopicManager checkpoints the HW.
 *
 * Waiters (long-polling fetches, acks=all produces) are called after every
 * append, HW move, role or ISR change and close: no polling loop. Every
 * method runs to completion on the event loop.
 */
import { type AppendResult, type Log, LogClosedError } from '../log/index.js';
import { ProtocolError } from '../protocol/index.js';
import { type FetchEpochCheck, checkLastFetchedEpoch } from '../replication/divergence.js';
import { followerHighWatermark, leaderHighWatermark } from '../replication/high-watermark.js';
import type { EpochEndOffset } from '../replication/leader-epoch-cache.js';
import type { FollowerState } from '../replication/replica-state.js';
import { appendBatches } from './partition-batches.js';
import { type IsrProposal, type ReplicaAssignment, ReplicaSet } from './replica/replica-set.js';

export type { IsrProposal, ReplicaAssignment } from './replica/replica-set.js';
export { splitBatches } from './partition-batches.js';

/** What this broker does for a partition. */
export type PartitionRole = 'leader' | 'follower' | 'none';

/** What a partition starts from: what the controller and the checkpoints say. */
export interface PartitionState {
  /** The leader epoch given by the controller (default 0); never below the log's latest epoch. */
  leaderEpoch?: number;
  /** From replication-offset-checkpoint; bounded by the log. Default the log start offset. */
  highWatermark?: number;
  /** This broker's id, the one in-sync replica. Default 0. */
  replicaId?: number;
  /**
   * 'none': serve nothing, with the checkpointed HW, until the ReplicaManager
   * gives a role (a broker of a cluster). Default 'leader' (a cluster of one).
   */
  role?: 'leader' | 'none';
}

const MAX_EPOCH = 2 ** 31 - 1;
const NO_LEADER = -1;
const NO_FOLLOWERS = new Map<number, { logEndOffset: number }>();

export class Partition {
  /** min.insync.replicas for acks=all (the ReplicaManager sets it from the topic's configs). */
  minInsyncReplicas = 1;
  private waiters = new Set<() => void>();
  private swapping: Promise<void> | undefined;
  private _leaderEpoch: number;
  private _highWatermark: number;
  private _role: PartitionRole = 'none';
  private _leaderId = NO_LEADER;
  private readonly replicaId: number;
  private readonly replicaSet: ReplicaSet;

  constructor(
    readonly topic: string,
    readonly index: number,
    private current: Log,
    state: PartitionState = {},
  ) {
    this.replicaId = state.replicaId ?? 0;
    this.replicaSet = new ReplicaSet(this.replicaId);
    // Never below an epoch the log has seen: a lower one would wipe its entries.
    this._leaderEpoch = Math.max(state.leaderEpoch ?? 0, current.epochs.latestEpoch ?? 0);
    this._highWatermark = this.bounded(state.highWatermark ?? current.logStartOffset);
    if (state.role !== 'none') this.becomeLeader(this._leaderEpoch);
  }

  get name(): string {
    return `${this.topic}-${this.index}`;
  }

  get log(): Log {
    return this.current;
  }

  /** The offset below which every record is on every in-sync replica: what consumers may read. */
  get highWatermark(): number {
    return this._highWatermark;
  }

  get leaderEpoch(): number {
    return this._leaderEpoch;
  }

  get logStartOffset(): number {
    return this.current.logStartOffset;
  }

  get logEndOffset(): number {
    return this.current.logEndOffset;
  }

  get role(): PartitionRole {
    return this._role;
  }

  /** The leader as this broker knows it: itself, the broker it follows, or -1. */
  get leaderId(): number {
    return this._leaderId;
  }

  /** The in-sync replicas as the controller last said (with one broker: this broker). */
  get isr(): ReadonlySet<number> {
    return this.replicaSet.isr;
  }

  /** The assigned replicas; empty with one broker. */
  get replicas(): readonly number[] {
    return this.replicaSet.replicas;
  }

  get partitionEpoch(): number {
    return this.replicaSet.partitionEpoch;
  }

  // #region roles
  /**
   * Leads from `epoch` on (not below the current one): a new epoch starts at
   * the log end offset before anything is written in it (KAFKA-7415), and
   * the HW moves as far as the ISR allows (Kafka's makeLeader). With
   * `assignment` (a cluster) the replicas and the ISR are the controller's,
   * and a new epoch resets what is known of the followers (replica-set.ts).
   */
  becomeLeader(epoch: number, assignment?: ReplicaAssignment, nowMs = 0): void {
    this.checkNewEpoch(epoch);
    const newEpoch = this._role !== 'leader' || epoch !== this._leaderEpoch;
    if (assignment !== undefined)
      this.replicaSet.assign(assignment, {
        newEpoch,
        wasLeader: this._role === 'leader',
        logEndOffset: this.current.logEndOffset,
        nowMs,
      });
    this._role = 'leader';
    this._leaderId = this.replicaId;
    this._leaderEpoch = epoch;
    this.current.epochs.assign(epoch, this.current.logEndOffset);
    this.maybeIncrementHighWatermark();
    this.wake();
  }

  /**
   * Follows `leaderId` (NO_LEADER: none for now) at `epoch`: appends come
   * only from its batches; produce and fetch answer NOT_LEADER_OR_FOLLOWER.
   * The log is not cut here: the fetcher truncates by the leader's answers.
   */
  becomeFollower(epoch: number, leaderId: number): void {
    // The image's epoch, whatever this replica held: a follower's epoch only fences fetches.
    if (!Number.isInteger(epoch) || epoch < 0 || epoch > MAX_EPOCH)
      throw new TypeError(`leader epoch must be an int32 ≥ 0, not ${epoch}`);
    this._role = 'follower';
    this._leaderId = leaderId;
    this._leaderEpoch = epoch;
    this.replicaSet.stopLeading();
    this.wake();
  }

  /** Serves nothing (not a replica here, or no role yet); the log stays as it is. */
  stopServing(): void {
    this._role = 'none';
    this._leaderId = NO_LEADER;
    this.replicaSet.stopLeading();
    this.wake();
  }

  /** Throws TypeError unless `epoch` is an int32 not below the current epoch. */
  checkNewEpoch(epoch: number): void {
    if (!Number.isInteger(epoch) || epoch < this._leaderEpoch || epoch > MAX_EPOCH)
      throw new TypeError(`leader epoch must be an int32 ≥ ${this._leaderEpoch}, not ${epoch}`);
  }

  /** NOT_LEADER_OR_FOLLOWER unless this broker leads the partition. */
  ensureLeader(): void {
    if (this._role === 'leader') return;
    const known = this._leaderId === NO_LEADER ? '' : ` (broker ${this._leaderId} does)`;
    throw new ProtocolError(
      'NOT_LEADER_OR_FOLLOWER',
      `broker ${this.replicaId} does not lead ${this.name}${known}`,
    );
  }

  /** Moves the HW as far as the (maximal) ISR allows; true when it moved. */
  private maybeIncrementHighWatermark(): boolean {
    if (this._role !== 'leader') return false;
    const before = this._highWatermark;
    const set = this.replicaSet;
    this._highWatermark = leaderHighWatermark({
      highWatermark: before,
      leaderId: this.replicaId,
      leaderLogEndOffset: this.current.logEndOffset,
      isr: set.maximalIsr(),
      followers: set.replicated ? set.followers : NO_FOLLOWERS,
    });
    return this._highWatermark !== before;
  }

  /** `offset` within [logStartOffset, logEndOffset] (Kafka's updateHighWatermark). */
  private bounded(offset: number): number {
    return Math.max(this.current.logStartOffset, Math.min(offset, this.current.logEndOffset));
  }
  // #endregion roles

  /** Resolves when the partition can be used: at once, unless its log is being reopened. */
  ready(): Promise<void> | undefined {
    return this.swapping;
  }

  // #region append
  /**
   * Appends the batches of a produce request as leader: the log patches
   * their base offsets and stamps the leader epoch, and the HW moves.
   * Several batches are all checked first, by the same rules the log applies
   * (size, magic, CRC, offsets, keys in a compacted log), so a partition's
   * batches are appended whole or not at all and the error is the first
   * refused batch's. One batch is checked by the log alone.
   */
  append(records: Buffer): AppendResult {
    if (this._role !== 'leader') this.ensureLeader();
    const result = appendBatches(this.current, records, { leaderEpoch: this._leaderEpoch });
    this.maybeIncrementHighWatermark();
    this.wake();
    return result;
  }
  // #endregion append

  // #region epochs
  /**
   * OffsetsForLeaderEpoch: the largest epoch ≤ `epoch` in this log and where
   * it ends (the log end offset for the latest); UNDEFINED (-1, -1) when it
   * cannot say (Kafka's UnifiedLog.endOffsetForEpoch).
   */
  endOffsetForEpoch(epoch: number): EpochEndOffset {
    this.ensureOpen();
    return this.current.epochs.endOffsetFor(epoch, this.current.logEndOffset);
  }

  /** A fetch's lastFetchedEpoch checked against this leader's log (KIP-595). */
  checkLastFetchedEpoch(fetchOffset: number, lastFetchedEpoch: number): FetchEpochCheck {
    this.ensureOpen();
    const { epochs: epochCache, logEndOffset, logStartOffset } = this.current;
    return checkLastFetchedEpoch(
      { epochCache, logEndOffset, logStartOffset },
      fetchOffset,
      lastFetchedEpoch,
    );
  }
  // #endregion epochs

  // #region follower-state
  /**
   * A follower fetched from `fetchOffset` (so its log ends there): Kafka's
   * updateFollowerFetchState, against this log's end offset as the fetch
   * found it. In a cluster the HW then moves as far as the ISR allows, and
   * the waiters are woken when it did; with one broker it is only
   * remembered (the ISR is this broker alone).
   */
  followerFetched(
    replicaId: number,
    fetch: { fetchOffset: number; logStartOffset: number },
    nowMs: number,
  ): void {
    this.replicaSet.followerFetched(replicaId, fetch, nowMs, this.current.logEndOffset);
    if (this.replicaSet.replicated && this.maybeIncrementHighWatermark()) this.wake();
  }

  /** What this leader knows of each follower that has fetched, by replica id. */
  get followers(): ReadonlyMap<number, FollowerState> {
    return this.replicaSet.followers;
  }

  /** Whether `replicaId` may fetch as a follower: an assigned replica (any, with one broker). */
  isAssignedReplica(replicaId: number): boolean {
    return this.replicaSet.isAssigned(replicaId);
  }
  // #endregion follower-state

  // #region isr-changes
  /** The ISR change in flight to the controller, if any. */
  get pendingIsr(): IsrProposal | undefined {
    return this.replicaSet.pendingIsr;
  }

  /** As leader: the ISR with `replicaId` added, when it has caught up and nothing is in flight. */
  isrToExpand(replicaId: number): number[] | undefined {
    if (this._role !== 'leader') return undefined;
    return this.replicaSet.isrToExpand(replicaId, {
      logEndOffset: this.current.logEndOffset,
      highWatermark: this._highWatermark,
    });
  }

  /** As leader: the ISR followers out of sync for more than `lagMs`, when nothing is in flight. */
  outOfSyncReplicas(nowMs: number, lagMs: number): number[] | undefined {
    if (this._role !== 'leader') return undefined;
    return this.replicaSet.outOfSync(nowMs, lagMs, this.current.logEndOffset);
  }

  /** Records an ISR change sent to the controller (AlterPartition) at this leader's epochs. */
  proposeIsr(newIsr: readonly number[]): IsrProposal {
    return this.replicaSet.propose(newIsr, this._leaderEpoch);
  }

  /** The controller accepted `proposal`: the partition as it answered. */
  isrAccepted(
    proposal: IsrProposal,
    registration: ReplicaAssignment & { leaderEpoch: number },
    nowMs: number,
  ): void {
    if (!this.replicaSet.isPending(proposal)) return;
    this.replicaSet.stopLeading(); // settled, whatever the answer says
    if (this._role === 'leader' && registration.leaderEpoch === this._leaderEpoch)
      this.becomeLeader(this._leaderEpoch, registration, nowMs);
    else if (this.maybeIncrementHighWatermark()) this.wake();
  }

  /** The controller refused `proposal` (see ReplicaSet.refused). */
  isrRefused(proposal: IsrProposal, waitForImage: boolean): void {
    if (this.replicaSet.refused(proposal, waitForImage) && this.maybeIncrementHighWatermark())
      this.wake();
  }
  // #endregion isr-changes

  // #region follower
  /**
   * Appends a leader's batches as they are: their offsets (at or past the
   * log end offset) and epochs stay, and the log's epochs follow them. With
   * `leaderHighWatermark` (from the fetch answer) the HW becomes Kafka's
   * follower HW, min(it, logEndOffset); a follower's HW is only a hint.
   */
  appendAsFollower(records: Buffer, leaderHighWatermark?: number): AppendResult {
    const result = appendBatches(this.current, records, { follower: true });
    if (leaderHighWatermark !== undefined) this.updateFollowerHighWatermark(leaderHighWatermark);
    this.wake();
    return result;
  }

  /** A follower's HW from its leader's: min(it, logEndOffset), not below the log start. */
  updateFollowerHighWatermark(leaderHighWatermark: number): void {
    this._highWatermark = followerHighWatermark(
      leaderHighWatermark,
      this.current.logEndOffset,
      this.current.logStartOffset,
    );
  }

  /**
   * A follower cuts its divergent tail (see src/replication/divergence.ts):
   * the log and its epochs are truncated, and the HW is capped at the new
   * log end offset (Kafka's UnifiedLog.truncateTo). A leader never truncates.
   */
  truncateTo(offset: number): void {
    this.current.truncateTo(offset);
    this._highWatermark = this.bounded(this._highWatermark);
  }
  // #endregion follower

  /** Calls `listener` after every append, HW move, role or ISR change (and close) until unsubscribed. */
  onChange(listener: () => void): () => void {
    this.waiters.add(listener);
    return () => this.waiters.delete(listener);
  }

  private wake(): void {
    if (this.waiters.size === 0) return;
    for (const waiter of [...this.waiters]) waiter();
  }

  /** Swaps in a reopened log (a config change); users wait on `ready()` meanwhile. */
  async reopen(open: () => Promise<Log>): Promise<void> {
    const swap = (async () => {
      await this.current.close();
      this.current = await open();
      this._highWatermark = this.bounded(this._highWatermark);
      if (this._role === 'leader') this.becomeLeader(this._leaderEpoch);
    })();
    this.swapping = swap;
    try {
      await swap;
    } finally {
      this.swapping = undefined;
      this.wake();
    }
  }

  async close(): Promise<void> {
    await this.swapping;
    await this.current.close();
    this.wake(); // waiting fetches now read LOG_CLOSED: UNKNOWN_TOPIC_OR_PARTITION
  }

  get isClosed(): boolean {
    return this.current.isClosed && this.swapping === undefined;
  }

  /** Throws LOG_CLOSED when the partition has been closed (deleted, or the broker stops). */
  ensureOpen(): void {
    if (this.isClosed) throw new LogClosedError(this.current.dir);
  }
}
