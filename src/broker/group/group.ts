/**
 * A consumer group's membership and state (Kafka's ClassicGroup): the
 * members, the pending members (handed an id by MEMBER_ID_REQUIRED, not yet
 * rejoined), the generation, the chosen protocol and the leader. Policy
 * (when to rebalance, what to answer) lives in `rebalance.ts` and
 * `membership.ts`; this class keeps the facts consistent.
 *
 * Invariants: the state changes only by `transitionTo` (illegal transitions
 * throw); `supported` counts, for each protocol name, the members that
 * support it; the leader, when set, is a member; the protocol type is the
 * one of every member. Not shared across event-loop turns in the middle of
 * a change: every method runs to completion.
 */
import type { JoinGroupResponse, SyncGroupResponse } from '../../protocol/apis/index.js';
import type { GroupMember, MemberProtocol } from './member.js';
import { GroupState, checkTransition } from './state.js';

export class Group {
  state: GroupState = GroupState.EMPTY;
  previousState: GroupState = GroupState.EMPTY;
  /** When the group last changed state; offsets of an empty group expire counting from it. */
  currentStateTimestamp: number | undefined;
  generationId = 0;
  protocolType: string | undefined;
  protocolName: string | undefined;
  leaderId: string | undefined;
  readonly members = new Map<string, GroupMember>();
  /** Member ids handed out with MEMBER_ID_REQUIRED, with the cancel of their expiry. */
  readonly pendingMembers = new Map<string, () => void>();
  /** Members that have not sent SyncGroup since the join phase ended. */
  readonly pendingSyncMembers = new Set<string>();
  /** In the initial rebalance: a member arrived since the delay last started (extend it). */
  newMemberAdded = false;
  /** The initial rebalance's delay is running: the join phase does not end early. */
  initialDelayRunning = false;
  cancelJoinTimer: (() => void) | undefined;
  cancelSyncTimer: (() => void) | undefined;
  private readonly supported = new Map<string, number>();

  constructor(
    readonly groupId: string,
    now: number | undefined,
  ) {
    this.currentStateTimestamp = now;
  }

  is(state: GroupState): boolean {
    return this.state === state;
  }

  transitionTo(state: GroupState, now: number): void {
    checkTransition(this.groupId, this.state, state);
    this.previousState = this.state;
    this.state = state;
    this.currentStateTimestamp = now;
  }

  get size(): number {
    return this.members.size;
  }

  has(memberId: string): boolean {
    return this.members.has(memberId);
  }

  get(memberId: string): GroupMember | undefined {
    return this.members.get(memberId);
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId;
  }

  isPending(memberId: string): boolean {
    return this.pendingMembers.has(memberId);
  }

  add(member: GroupMember, awaitingJoin?: (r: JoinGroupResponse) => void): void {
    if (this.members.size === 0) this.protocolType = member.protocolType;
    if (this.protocolType !== member.protocolType)
      throw new Error(
        `group ${this.groupId}: protocol type ${member.protocolType} ≠ ${this.protocolType}`,
      );
    this.leaderId ??= member.memberId;
    this.members.set(member.memberId, member);
    this.count(member.protocols, 1);
    member.awaitingJoin = awaitingJoin;
    this.pendingMembers.get(member.memberId)?.();
    this.pendingMembers.delete(member.memberId);
  }

  /** Removes a member or a pending member; a removed leader is replaced by the first member left. */
  remove(memberId: string): GroupMember | undefined {
    const member = this.members.get(memberId);
    if (member !== undefined) {
      this.members.delete(memberId);
      this.count(member.protocols, -1);
      member.cancelHeartbeat?.();
      member.cancelHeartbeat = undefined;
    }
    if (this.isLeader(memberId)) this.leaderId = this.members.keys().next().value;
    this.pendingMembers.get(memberId)?.();
    this.pendingMembers.delete(memberId);
    this.pendingSyncMembers.delete(memberId);
    return member;
  }

  /** New protocols and timeouts of a member that rejoins; parks its JoinGroup. */
  update(
    member: GroupMember,
    protocols: readonly MemberProtocol[],
    timeouts: { sessionTimeoutMs: number; rebalanceTimeoutMs: number },
    awaitingJoin: (r: JoinGroupResponse) => void,
  ): void {
    this.count(member.protocols, -1);
    member.protocols = protocols;
    this.count(protocols, 1);
    member.sessionTimeoutMs = timeouts.sessionTimeoutMs;
    member.rebalanceTimeoutMs = timeouts.rebalanceTimeoutMs;
    member.awaitingJoin = awaitingJoin;
  }

  /** Kafka's `supportsProtocols`: an empty group takes any type; otherwise the same type and a protocol every member has. */
  supportsProtocols(protocolType: string, protocols: readonly MemberProtocol[]): boolean {
    if (this.is(GroupState.EMPTY)) return protocolType !== '' && protocols.length > 0;
    return (
      this.protocolType === protocolType &&
      protocols.some((p) => (this.supported.get(p.name) ?? 0) === this.members.size)
    );
  }

  /**
   * Each member votes for its most preferred protocol among those every
   * member supports; the most votes wins. A tie goes to the protocol the
   * leader prefers (Kafka leaves ties to hash order).
   */
  selectProtocol(): string {
    const candidates = new Set(
      [...this.supported].filter(([, n]) => n === this.members.size).map(([name]) => name),
    );
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      const vote = m.vote(candidates);
      if (vote !== undefined) votes.set(vote, (votes.get(vote) ?? 0) + 1);
    }
    const most = Math.max(0, ...votes.values());
    const tied = new Set([...votes].filter(([, n]) => n === most).map(([name]) => name));
    const leader = this.leaderId === undefined ? undefined : this.members.get(this.leaderId);
    const chosen = leader?.vote(tied) ?? [...tied][0];
    if (chosen === undefined)
      throw new Error(`group ${this.groupId}: no protocol every member supports`);
    return chosen;
  }

  get numAwaitingJoin(): number {
    let n = 0;
    for (const m of this.members.values()) if (m.isAwaitingJoin) n++;
    return n;
  }

  hasAllMembersJoined(): boolean {
    return this.numAwaitingJoin === this.members.size && this.pendingMembers.size === 0;
  }

  notYetRejoined(): GroupMember[] {
    return [...this.members.values()].filter((m) => !m.isAwaitingJoin);
  }

  /** Keeps the leader if it rejoined, else picks the first member that did; false when none did. */
  maybeElectNewJoinedLeader(): boolean {
    if (this.leaderId === undefined) return false;
    if (this.members.get(this.leaderId)?.isAwaitingJoin === true) return true;
    const next = [...this.members.values()].find((m) => m.isAwaitingJoin);
    if (next === undefined) return false;
    this.leaderId = next.memberId;
    return true;
  }

  /** The largest rebalance timeout among the members (Kafka's rule). */
  get rebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  /** Ends a join phase: the generation goes up by one; CompletingRebalance, or Empty if no one is left. */
  initNextGeneration(now: number): void {
    this.generationId++;
    if (this.members.size > 0) {
      this.protocolName = this.selectProtocol();
      this.transitionTo(GroupState.COMPLETING_REBALANCE, now);
    } else {
      this.protocolName = undefined;
      this.transitionTo(GroupState.EMPTY, now);
    }
    this.pendingSyncMembers.clear();
  }

  /** The members and their metadata for the chosen protocol: what the leader is given. */
  joinedMembers(): { memberId: string; metadata: Buffer }[] {
    return [...this.members.values()].map((m) => ({
      memberId: m.memberId,
      metadata: m.metadata(this.protocolName),
    }));
  }

  joinResponse(
    memberId: string,
    members: { memberId: string; metadata: Buffer }[] = [],
  ): JoinGroupResponse {
    return {
      errorCode: 0,
      generationId: this.generationId,
      protocolType: this.protocolType ?? null,
      protocolName: this.protocolName ?? null,
      leader: this.leaderId ?? '',
      memberId,
      members,
    };
  }

  syncResponse(assignment: Buffer): SyncGroupResponse {
    return {
      errorCode: 0,
      protocolType: this.protocolType ?? null,
      protocolName: this.protocolName ?? null,
      assignment,
    };
  }

  private count(protocols: readonly MemberProtocol[], delta: number): void {
    for (const { name } of protocols) {
      const n = (this.supported.get(name) ?? 0) + delta;
      if (n === 0) this.supported.delete(name);
      else this.supported.set(name, n);
    }
  }
}

/** A JoinGroup answer carrying only an error (Kafka's `JoinGroupResult(memberId, error)`). */
export function joinError(errorCode: number, memberId = ''): JoinGroupResponse {
  return {
    errorCode,
    generationId: -1,
    protocolType: null,
    protocolName: null,
    leader: '',
    memberId,
    members: [],
  };
}

export function syncError(errorCode: number): SyncGroupResponse {
  return { errorCode, protocolType: null, protocolName: null, assignment: Buffer.alloc(0) };
}
