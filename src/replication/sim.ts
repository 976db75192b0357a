/**
 * A partition replicated on a few simulated brokers, driven one step at a
 * time: produce on the leader, a follower's fetch, time passing, a crash, a
 * restart, a leader election. Every decision goes through the real rules of
 * this folder (epoch cache, truncation, ISR, high watermark), so the tests can
 * throw random histories at them and the book can replay a chosen one.
 *
 * The controller here is one object that sees everything at once (the role
 * ZooKeeper or KRaft plays in Kafka), with two simplifications: it removes a
 * crashed replica from the ISR at once (Kafka notices within a session
 * timeout), except the last member, which stays as Kafka keeps it; and ISR
 * changes apply at once (no AlterPartition round trip).
 *
 * `committed` records every record that ever sat below the leader's high
 * watermark, so a test can ask whether any of them was lost.
 */
import {
  checkLastFetchedEpoch,
  epochToAsk,
  offsetTruncationState,
  reconcileWithLeader,
} from './divergence.js';
import { followerHighWatermark, leaderHighWatermark } from './high-watermark.js';
import { needsExpandIsr, outOfSyncReplicas } from './isr.js';
import {
  DEFAULT_REPLICA_LAG_TIME_MAX_MS,
  EMPTY_FOLLOWER_STATE,
  type FollowerState,
  type ReplicaId,
  resetFollowerState,
  updateFollowerFetchState,
} from './replica-state.js';
import { type SimRecord, SimReplica } from './sim-replica.js';

export { type SimRecord, SimReplica } from './sim-replica.js';

export interface SimOptions {
  replicas: number;
  replicaLagTimeMaxMs?: number;
  minInsyncReplicas?: number;
  /**
   * true: followers find divergence from Fetch answers (KIP-595, Kafka ≥ 2.7);
   * false: with OffsetsForLeaderEpoch before their first fetch of an epoch.
   */
  truncateOnFetch?: boolean;
  /** unclean.leader.election.enable: with no live ISR member, any live replica may lead. */
  uncleanLeaderElection?: boolean;
}

export interface SimStats {
  elections: number;
  uncleanElections: number;
  /** OffsetsForLeaderEpoch questions, and Fetch answers that carried a diverging epoch. */
  epochQuestions: number;
  divergingFetches: number;
  /** Records cut from followers by truncation. */
  truncatedRecords: number;
  /** Fetches the leader answered OFFSET_OUT_OF_RANGE (should stay 0: epochs place every fetch). */
  outOfRange: number;
  isrShrinks: number;
  isrExpands: number;
  /** Truncations that cut below the longest prefix the follower shared with the leader (should stay 0). */
  overTruncations: number;
}

export class SimCluster {
  readonly replicas: SimReplica[];
  leaderId: ReplicaId | undefined = 0;
  /** The controller's latest leader epoch. */
  leaderEpoch = 0;
  isr: Set<ReplicaId>;
  nowMs = 0;
  /** offset → the record that was below a leader's high watermark there. */
  readonly committed = new Map<number, SimRecord>();
  /** Committed records later replaced: only an unclean election, or a power loss of the last ISR member, causes these. */
  readonly lostCommitted: SimRecord[] = [];
  readonly stats: SimStats = {
    elections: 1,
    uncleanElections: 0,
    epochQuestions: 0,
    divergingFetches: 0,
    truncatedRecords: 0,
    outOfRange: 0,
    isrShrinks: 0,
    isrExpands: 0,
    overTruncations: 0,
  };

  private readonly options: Required<SimOptions>;
  private followers = new Map<ReplicaId, FollowerState>();
  private leaderEpochStartOffset = 0;
  /** Followers that have not yet reconciled their log with the current epoch. */
  private readonly truncating = new Set<ReplicaId>();
  private nextId = 1;

  constructor(options: SimOptions) {
    this.options = {
      replicaLagTimeMaxMs: DEFAULT_REPLICA_LAG_TIME_MAX_MS,
      minInsyncReplicas: 1,
      truncateOnFetch: false,
      uncleanLeaderElection: false,
      ...options,
    };
    this.replicas = Array.from({ length: options.replicas }, (_, id) => new SimReplica(id));
    this.isr = new Set(this.replicas.map((r) => r.id));
    this.replicas[0]!.epochCache.assign(0, 0);
    for (const r of this.replicas.slice(1)) this.followers.set(r.id, EMPTY_FOLLOWER_STATE);
  }

  get leader(): SimReplica | undefined {
    return this.leaderId === undefined ? undefined : this.replicas[this.leaderId];
  }

  // #region produce
  /** Appends `count` records on the leader, stamped with its epoch; none when there is no leader. */
  produce(count: number): SimRecord[] {
    const leader = this.leader;
    if (leader === undefined) return [];
    const base = leader.logEndOffset;
    const records = Array.from({ length: count }, (_, i) => ({
      offset: base + i,
      epoch: this.leaderEpoch,
      id: this.nextId++,
    }));
    leader.append(records);
    this.maybeIncrementHighWatermark();
    return records;
  }
  // #endregion produce

  // #region fetch
  /** One fetch by `followerId` of at most `maxRecords`; false when it could not happen. */
  fetch(followerId: ReplicaId, maxRecords = Infinity): boolean {
    const leader = this.leader;
    const follower = this.replicas[followerId]!;
    if (leader === undefined || follower === leader || !follower.alive) return false;
    if (this.truncating.has(followerId)) {
      this.truncating.delete(followerId);
      if (!this.options.truncateOnFetch || epochToAsk(follower) === undefined) {
        const { rounds } = reconcileWithLeader(
          () => follower,
          (epoch) => leader.epochCache.endOffsetFor(epoch, leader.logEndOffset),
          (offset) => this.truncate(follower, offset),
        );
        this.stats.epochQuestions += rounds;
      }
    }
    const lastFetchedEpoch = follower.epochCache.latestEpoch;
    if (this.options.truncateOnFetch && lastFetchedEpoch !== undefined) {
      const check = checkLastFetchedEpoch(
        { epochCache: leader.epochCache, logEndOffset: leader.logEndOffset, logStartOffset: 0 },
        follower.logEndOffset,
        lastFetchedEpoch,
      );
      if (check.kind === 'diverging') {
        this.stats.divergingFetches++;
        const state = offsetTruncationState(check.divergingEpoch, follower);
        this.truncate(follower, state.offset);
        return true; // Kafka answers with no records; the next fetch asks again
      }
      if (check.kind === 'offset-out-of-range') return this.outOfRange(follower, leader);
    }
    if (follower.logEndOffset > leader.logEndOffset) return this.outOfRange(follower, leader);
    this.serveFetch(leader, follower, maxRecords);
    return true;
  }

  private serveFetch(leader: SimReplica, follower: SimReplica, maxRecords: number): void {
    const fetchOffset = follower.logEndOffset;
    const leaderLogEndOffset = leader.logEndOffset;
    const highWatermark = leader.highWatermark; // as read before this fetch moves it (Kafka's initialHighWatermark)
    const records = leader.log.slice(
      fetchOffset,
      Math.min(leaderLogEndOffset, fetchOffset + maxRecords),
    );
    const previous = this.followers.get(follower.id) ?? EMPTY_FOLLOWER_STATE;
    this.followers.set(
      follower.id,
      updateFollowerFetchState(previous, {
        fetchOffset,
        logStartOffset: 0,
        fetchTimeMs: this.nowMs,
        leaderLogEndOffset,
      }),
    );
    const view = {
      ...this.isrView(),
      highWatermark: leader.highWatermark,
      leaderEpochStartOffset: this.leaderEpochStartOffset,
    };
    if (needsExpandIsr(view, follower.id)) {
      this.isr.add(follower.id);
      this.stats.isrExpands++;
    }
    this.maybeIncrementHighWatermark();
    follower.append(records);
    follower.highWatermark = followerHighWatermark(highWatermark, follower.logEndOffset);
  }

  /** Kafka's fetchOffsetAndTruncate: the follower cuts back to the leader's log end offset. */
  private outOfRange(follower: SimReplica, leader: SimReplica): boolean {
    this.stats.outOfRange++;
    this.truncate(follower, leader.logEndOffset);
    return true;
  }
  // #endregion fetch

  // #region time
  /** Time passes; the leader then checks its ISR (Kafka's isr-expiration task). */
  tick(ms: number): void {
    this.nowMs += ms;
    if (this.leader === undefined) return;
    const out = outOfSyncReplicas(this.isrView(), this.nowMs, this.options.replicaLagTimeMaxMs);
    if (out.size === 0) return;
    for (const id of out) this.isr.delete(id);
    this.stats.isrShrinks++;
    this.maybeIncrementHighWatermark();
  }
  // #endregion time

  // #region failures
  /** Stops a replica; see SimReplica.crash for what a power loss takes with it. */
  crash(id: ReplicaId, { powerLoss = false } = {}): void {
    const replica = this.replicas[id]!;
    if (!replica.alive) return;
    replica.crash(powerLoss);
    if (this.isr.has(id) && this.isr.size > 1) this.isr.delete(id);
    if (id === this.leaderId) {
      this.leaderId = undefined;
      const candidate = [...this.isr].find((r) => this.replicas[r]!.alive);
      if (candidate !== undefined) this.electLeader(candidate);
    }
  }

  restart(id: ReplicaId): void {
    const replica = this.replicas[id]!;
    if (replica.alive) return;
    replica.restart();
    this.truncating.add(id);
    if (this.leaderId !== undefined) return;
    if (this.isr.has(id)) this.electLeader(id);
    else if (this.options.uncleanLeaderElection) this.electLeader(id, { unclean: true });
  }

  /** Makes `id` leader of a new epoch; false when the rules do not allow it. */
  electLeader(id: ReplicaId, { unclean = false } = {}): boolean {
    const candidate = this.replicas[id]!;
    if (!candidate.alive || (!unclean && !this.isr.has(id))) return false;
    const isNewLeader = id !== this.leaderId;
    this.leaderId = id;
    this.leaderEpoch++;
    this.stats.elections++;
    if (!this.isr.has(id)) {
      // Unclean: the ISR restarts from the one replica that leads (Kafka does the same).
      this.stats.uncleanElections++;
      this.isr = new Set([id]);
    }
    // KAFKA-7415: the new epoch is cached at once, so followers with later epochs can place theirs.
    candidate.epochCache.assign(this.leaderEpoch, candidate.logEndOffset);
    this.leaderEpochStartOffset = candidate.logEndOffset;
    this.truncating.delete(id);
    const followers = new Map<ReplicaId, FollowerState>();
    for (const r of this.replicas) {
      if (r.id === id) continue;
      this.truncating.add(r.id);
      const state = isNewLeader
        ? EMPTY_FOLLOWER_STATE
        : (this.followers.get(r.id) ?? EMPTY_FOLLOWER_STATE);
      followers.set(
        r.id,
        resetFollowerState(state, {
          nowMs: this.nowMs,
          leaderEpochStartOffset: this.leaderEpochStartOffset,
          isNewLeader,
          inSync: this.isr.has(r.id),
        }),
      );
    }
    this.followers = followers;
    this.maybeIncrementHighWatermark();
    return true;
  }
  // #endregion failures

  flush(id: ReplicaId): void {
    this.replicas[id]!.flush();
  }

  private truncate(replica: SimReplica, offset: number): void {
    if (offset < commonPrefix(replica, this.leader!)) this.stats.overTruncations++;
    const before = replica.logEndOffset;
    replica.truncateTo(offset);
    this.stats.truncatedRecords += before - replica.logEndOffset;
  }

  private isrView() {
    return {
      leaderId: this.leaderId!,
      isr: this.isr,
      followers: this.followers,
      leaderLogEndOffset: this.leader!.logEndOffset,
    };
  }

  // #region high-watermark
  private maybeIncrementHighWatermark(): void {
    const leader = this.leader!;
    const before = leader.highWatermark;
    leader.highWatermark = leaderHighWatermark({
      ...this.isrView(),
      highWatermark: before,
      minInsyncReplicas: this.options.minInsyncReplicas,
    });
    for (let offset = before; offset < leader.highWatermark; offset++) {
      const record = leader.log[offset]!;
      const earlier = this.committed.get(offset);
      if (earlier !== undefined && earlier.id !== record.id) this.lostCommitted.push(earlier);
      this.committed.set(offset, record);
    }
  }
  // #endregion high-watermark

  /** Committed records that the leader's log no longer holds at their offset (now, and replaced earlier). */
  lostRecords(): SimRecord[] {
    const leader = this.leader;
    const missing = [...this.committed.values()].filter(
      (r) => leader === undefined || leader.log[r.offset]?.id !== r.id,
    );
    return [...this.lostCommitted, ...missing];
  }
}

/** How many records, from offset 0, two replicas hold alike. */
export function commonPrefix(a: SimReplica, b: SimReplica): number {
  const n = Math.min(a.logEndOffset, b.logEndOffset);
  let i = 0;
  while (i < n && a.log[i]!.id === b.log[i]!.id) i++;
  return i;
}
