/**
 * The replicas of one partition as its leader sees them: the controller's
 * assignment (replicas, ISR, partition epoch), an ISR change in flight to
 * the controller, and each follower's fetch state (Kafka's Partition
 * `partitionState` and `remoteReplicasMap`). The rules are the pure
 * functions of src/replication/; this class only keeps their state.
 *
 * Invariants: the ISR is the controller's, never changed here on this
 * leader's own authority; at most one change is in flight (`pending`), and
 * while it is, the HW counts the union of the ISR and the proposed one
 * (Kafka's maximal ISR), so whichever the controller accepts holds every
 * committed record. With one broker there is no assignment: the ISR is the
 * leader alone, and any replicaId ≥ 0 may fetch as a follower.
 */
import { needsExpandIsr, outOfSyncReplicas } from '../../replication/isr.js';
import {
  EMPTY_FOLLOWER_STATE,
  type FollowerState,
  resetFollowerState,
  updateFollowerFetchState,
} from '../../replication/replica-state.js';

/** The controller's word on a partition (its PartitionRegistration, less the leader). */
export interface ReplicaAssignment {
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  readonly partitionEpoch: number;
}

/** An ISR change this leader sent to the controller and that is not settled yet. */
export interface IsrProposal {
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
  readonly newIsr: readonly number[];
}

interface Assigned {
  readonly replicas: readonly number[];
  readonly isr: ReadonlySet<number>;
  readonly partitionEpoch: number;
}

export class ReplicaSet {
  private assigned: Assigned | undefined;
  private pending: (IsrProposal & { waitForImage: boolean }) | undefined;
  private readonly solo: ReadonlySet<number>;
  /** Where the current leader epoch began in this leader's log (Kafka's leaderEpochStartOffsetOpt). */
  private epochStartOffset = 0;
  private readonly states = new Map<number, FollowerState>();

  constructor(private readonly leaderId: number) {
    this.solo = new Set([leaderId]);
  }

  /** Whether the controller has assigned replicas (a cluster); false with one broker. */
  get replicated(): boolean {
    return this.assigned !== undefined;
  }

  get isr(): ReadonlySet<number> {
    return this.assigned?.isr ?? this.solo;
  }

  get replicas(): readonly number[] {
    return this.assigned?.replicas ?? [];
  }

  get partitionEpoch(): number {
    return this.assigned?.partitionEpoch ?? 0;
  }

  get pendingIsr(): IsrProposal | undefined {
    return this.pending;
  }

  get followers(): ReadonlyMap<number, FollowerState> {
    return this.states;
  }

  /** The ISR and, while a change is in flight, its proposed members too (Kafka's maximalIsr). */
  maximalIsr(): ReadonlySet<number> {
    const isr = this.isr;
    if (this.pending === undefined || this.pending.newIsr.every((id) => isr.has(id))) return isr;
    return new Set([...isr, ...this.pending.newIsr]);
  }

  isAssigned(replicaId: number): boolean {
    return this.assigned === undefined || this.assigned.replicas.includes(replicaId);
  }

  // #region assign
  /**
   * Takes the controller's assignment. A new leader epoch resets every
   * follower's state (Kafka's makeLeader: in-sync ones get a fresh lag
   * allowance, the others none; a new leader forgets where their logs end)
   * and drops any change in flight. In the same epoch, an assignment older
   * than the one held (by partition epoch) is ignored; a newer one settles
   * the change in flight, whatever it was.
   */
  assign(
    assignment: ReplicaAssignment,
    leader: { newEpoch: boolean; wasLeader: boolean; logEndOffset: number; nowMs: number },
  ): void {
    if (!leader.newEpoch && assignment.partitionEpoch < this.partitionEpoch && this.replicated)
      return;
    if (leader.newEpoch) {
      this.epochStartOffset = leader.logEndOffset;
      for (const id of [...this.states.keys()])
        if (!assignment.replicas.includes(id)) this.states.delete(id);
      for (const id of assignment.replicas) {
        if (id === this.leaderId) continue;
        const reset = resetFollowerState(this.states.get(id) ?? EMPTY_FOLLOWER_STATE, {
          nowMs: leader.nowMs,
          leaderEpochStartOffset: this.epochStartOffset,
          isNewLeader: !leader.wasLeader,
          inSync: assignment.isr.includes(id),
        });
        this.states.set(id, reset);
      }
    }
    if (leader.newEpoch || assignment.partitionEpoch > this.partitionEpoch)
      this.pending = undefined;
    this.assigned = {
      replicas: [...assignment.replicas],
      isr: new Set(assignment.isr),
      partitionEpoch: assignment.partitionEpoch,
    };
  }

  /** This broker stopped leading: nothing it proposed is pending any more. */
  stopLeading(): void {
    this.pending = undefined;
  }
  // #endregion assign

  /** Kafka's updateFollowerFetchState: the follower's log ends at `fetchOffset`. */
  followerFetched(
    replicaId: number,
    fetch: { fetchOffset: number; logStartOffset: number },
    nowMs: number,
    leaderLogEndOffset: number,
  ): void {
    const state = this.states.get(replicaId) ?? EMPTY_FOLLOWER_STATE;
    this.states.set(
      replicaId,
      updateFollowerFetchState(state, { ...fetch, fetchTimeMs: nowMs, leaderLogEndOffset }),
    );
  }

  // #region isr-changes
  /**
   * Kafka's needsExpandIsr: the ISR with `replicaId` added (in replica
   * order) when that follower is now in sync and no change is in flight.
   */
  isrToExpand(
    replicaId: number,
    leader: { logEndOffset: number; highWatermark: number },
  ): number[] | undefined {
    const a = this.assigned;
    if (a === undefined || this.pending !== undefined) return undefined;
    const view = {
      leaderId: this.leaderId,
      isr: a.isr,
      followers: this.states,
      leaderLogEndOffset: leader.logEndOffset,
      highWatermark: leader.highWatermark,
      leaderEpochStartOffset: this.epochStartOffset,
    };
    if (!needsExpandIsr(view, replicaId)) return undefined;
    return a.replicas.filter((id) => id === replicaId || a.isr.has(id));
  }

  /**
   * Kafka's getOutOfSyncReplicas: the ISR followers not caught up for more
   * than `lagMs`, when no change is in flight; undefined when there are none.
   */
  outOfSync(nowMs: number, lagMs: number, leaderLogEndOffset: number): number[] | undefined {
    const a = this.assigned;
    if (a === undefined || this.pending !== undefined) return undefined;
    const view = {
      leaderId: this.leaderId,
      isr: a.isr,
      followers: this.states,
      leaderLogEndOffset,
    };
    const out = outOfSyncReplicas(view, nowMs, lagMs);
    return out.size === 0 ? undefined : [...out];
  }

  /** Records an ISR change as sent: it counts for the HW until settled. */
  propose(newIsr: readonly number[], leaderEpoch: number): IsrProposal {
    const proposal = {
      leaderEpoch,
      partitionEpoch: this.partitionEpoch,
      newIsr: [...newIsr],
      waitForImage: false,
    };
    this.pending = proposal;
    return proposal;
  }

  /**
   * The controller refused `proposal`. A refusal the next image will explain
   * (a stale epoch) keeps it pending until that image, so nothing else is
   * proposed meanwhile (Kafka does the same); any other makes way for a new
   * proposal. False when the proposal was no longer the one pending.
   */
  refused(proposal: IsrProposal, waitForImage: boolean): boolean {
    if (this.pending !== proposal) return false;
    if (waitForImage) this.pending.waitForImage = true;
    else this.pending = undefined;
    return true;
  }

  /** Whether `proposal` is still the change in flight. */
  isPending(proposal: IsrProposal): boolean {
    return this.pending === proposal;
  }
  // #endregion isr-changes
}
