/**
 * When a group rebalances and how a rebalance ends (Kafka's classic group
 * coordinator): the join phase, the initial rebalance delay, the wait for
 * SyncGroup, session expiry, and removing members. The request-facing rules
 * are in `membership.ts`; both share this.
 *
 * Timers (all from the injected Scheduler):
 * - join: the join phase ends when every known member has rejoined, or
 *   after the group's rebalance timeout (the largest of its members'), when
 *   members that did not rejoin are removed. An empty group's first
 *   rebalance waits `group.initial.rebalance.delay.ms`, extended by that much
 *   again while members keep arriving, up to the rebalance timeout.
 * - sync: members that have not sent SyncGroup a rebalance timeout after the
 *   join phase ended are removed, and the group rebalances again.
 * - session: per member, restarted by every heartbeat, join, sync and
 *   commit; when it fires, the member is removed unless it is waiting in a
 *   rebalance (a member that is new in this rebalance gets 5 minutes,
 *   Kafka's new-member join timeout, and no such grace).
 */
import type { Logger } from '../../log/index.js';
import { ErrorCode } from '../../protocol/index.js';
import type { BrokerSettings } from '../config.js';
import { type Group, joinError, syncError } from './group.js';
import { EMPTY_BYTES, type GroupMember } from './member.js';
import type { Scheduler } from './scheduler.js';
import { GroupState } from './state.js';

const { EMPTY, PREPARING_REBALANCE, COMPLETING_REBALANCE, STABLE, DEAD } = GroupState;

/** Kafka's `group.coordinator.new.member.join.timeout.ms` default. */
export const NEW_MEMBER_JOIN_TIMEOUT_MS = 5 * 60 * 1000;

export interface RebalanceContext {
  readonly groups: ReadonlyMap<string, Group>;
  readonly settings: BrokerSettings;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  /** Writes the group's metadata (with these assignments) to `__consumer_offsets`. */
  storeGroup(group: Group, assignment: ReadonlyMap<string, Buffer>): Promise<void>;
}

export class Rebalancer {
  constructor(private readonly ctx: RebalanceContext) {}

  private now(): number {
    return this.ctx.scheduler.now();
  }

  /** The group is still the one the coordinator serves under its id (not deleted or replaced). */
  private live(group: Group): boolean {
    return this.ctx.groups.get(group.groupId) === group && !group.is(DEAD);
  }

  // #region join-phase
  maybePrepareRebalanceOrCompleteJoin(group: Group, reason: string): void {
    if (group.is(STABLE) || group.is(COMPLETING_REBALANCE) || group.is(EMPTY))
      this.prepareRebalance(group, reason);
    else this.maybeCompleteJoinPhase(group);
  }

  prepareRebalance(group: Group, reason: string): void {
    if (group.is(COMPLETING_REBALANCE)) this.propagateError(group, ErrorCode.REBALANCE_IN_PROGRESS);
    this.removeSyncExpiration(group);
    const initial = group.is(EMPTY);
    group.transitionTo(PREPARING_REBALANCE, this.now());
    this.ctx.logger.info(`group ${group.groupId}: ${reason}, rebalancing`);
    const delay = this.ctx.settings['group.initial.rebalance.delay.ms'];
    if (initial && delay > 0) {
      group.initialDelayRunning = true;
      group.newMemberAdded = false;
      const remaining = Math.max(group.rebalanceTimeoutMs - delay, 0);
      this.scheduleJoin(group, delay, () => this.initialDelayEnded(group, delay, remaining));
    } else {
      this.maybeCompleteJoinElseSchedule(group);
    }
  }

  /** Ends the join phase now if it may: not during an initial delay, and every member is in. */
  maybeCompleteJoinPhase(group: Group): void {
    if (!group.is(PREPARING_REBALANCE) || group.initialDelayRunning) return;
    if (group.hasAllMembersJoined()) this.completeJoin(group);
  }

  private maybeCompleteJoinElseSchedule(group: Group): void {
    if (group.hasAllMembersJoined()) this.completeJoin(group);
    else this.scheduleJoin(group, group.rebalanceTimeoutMs, () => this.completeJoin(group));
  }

  private scheduleJoin(group: Group, delayMs: number, fn: () => void): void {
    group.cancelJoinTimer?.();
    group.cancelJoinTimer = this.ctx.scheduler.schedule(delayMs, () => {
      group.cancelJoinTimer = undefined;
      if (this.live(group)) fn();
    });
  }

  private initialDelayEnded(group: Group, delayMs: number, remainingMs: number): void {
    if (group.newMemberAdded && remainingMs !== 0) {
      group.newMemberAdded = false;
      const next = Math.min(this.ctx.settings['group.initial.rebalance.delay.ms'], remainingMs);
      const left = Math.max(remainingMs - delayMs, 0);
      this.scheduleJoin(group, next, () => this.initialDelayEnded(group, next, left));
      return;
    }
    group.initialDelayRunning = false;
    this.completeJoin(group);
  }

  /** Ends the join phase: laggards out, generation up, every parked JoinGroup answered. */
  completeJoin(group: Group): void {
    group.cancelJoinTimer?.();
    group.cancelJoinTimer = undefined;
    group.initialDelayRunning = false;
    const id = group.groupId;
    const laggards = group.notYetRejoined();
    for (const m of laggards) group.remove(m.memberId);
    if (laggards.length > 0)
      this.ctx.logger.info(
        `group ${id}: removed ${laggards.map((m) => m.memberId).join(', ')}: ` +
          `not rejoined within the rebalance timeout`,
      );
    if (group.is(DEAD)) return;
    if (!group.maybeElectNewJoinedLeader() && group.size > 0) {
      // Unreachable with dynamic members only (laggards are gone), kept as Kafka has it.
      this.ctx.logger.error(`group ${id}: no member rejoined; waiting another rebalance timeout`);
      this.scheduleJoin(group, group.rebalanceTimeoutMs, () => this.completeJoin(group));
      return;
    }
    group.initNextGeneration(this.now());
    if (group.is(EMPTY)) {
      this.ctx.logger.info(`group ${id}: generation ${group.generationId} is empty`);
      this.ctx.storeGroup(group, new Map()).catch((err: unknown) => {
        this.ctx.logger.warn(`group ${id}: could not write its empty metadata: ${describe(err)}`);
      });
      return;
    }
    this.ctx.logger.debug(
      `group ${id}: generation ${group.generationId} joined by ${group.size} member(s) ` +
        `(${group.protocolName}), leader ${group.leaderId}; waiting for its SyncGroup`,
    );
    const all = group.joinedMembers();
    for (const member of group.members.values()) {
      member.completeJoin(
        group.joinResponse(member.memberId, group.isLeader(member.memberId) ? all : []),
      );
      this.rescheduleHeartbeat(group, member);
      member.isNew = false;
      group.pendingSyncMembers.add(member.memberId);
    }
    this.schedulePendingSync(group);
  }
  // #endregion join-phase

  // #region sync-phase
  private schedulePendingSync(group: Group): void {
    group.cancelSyncTimer?.();
    const generation = group.generationId;
    group.cancelSyncTimer = this.ctx.scheduler.schedule(group.rebalanceTimeoutMs, () => {
      group.cancelSyncTimer = undefined;
      if (this.live(group) && group.generationId === generation) this.expirePendingSync(group);
    });
  }

  private expirePendingSync(group: Group): void {
    if (!(group.is(COMPLETING_REBALANCE) || group.is(STABLE))) return;
    const late = [...group.pendingSyncMembers];
    if (late.length === 0) return;
    for (const memberId of late) this.dropMember(group, memberId);
    this.prepareRebalance(
      group,
      `removed ${late.join(', ')}: no SyncGroup within the rebalance timeout`,
    );
  }

  private removeSyncExpiration(group: Group): void {
    group.pendingSyncMembers.clear();
    group.cancelSyncTimer?.();
    group.cancelSyncTimer = undefined;
  }

  /** Every member's assignment set, and every parked SyncGroup answered with its share. */
  setAndPropagateAssignment(group: Group, assignment: ReadonlyMap<string, Buffer>): void {
    if (!group.is(COMPLETING_REBALANCE))
      throw new Error(
        `group ${group.groupId}: assignments are set in CompletingRebalance, not ${group.state}`,
      );
    for (const member of group.members.values()) {
      member.assignment = assignment.get(member.memberId) ?? EMPTY_BYTES;
      if (member.completeSync(group.syncResponse(member.assignment)))
        this.rescheduleHeartbeat(group, member);
    }
  }

  /** Every parked SyncGroup answered with `errorCode`; assignments cleared. */
  propagateError(group: Group, errorCode: number): void {
    if (!group.is(COMPLETING_REBALANCE))
      throw new Error(
        `group ${group.groupId}: errors are propagated in CompletingRebalance, not ${group.state}`,
      );
    for (const member of group.members.values()) {
      member.assignment = EMPTY_BYTES;
      if (member.completeSync(syncError(errorCode))) this.rescheduleHeartbeat(group, member);
    }
  }
  // #endregion sync-phase

  // #region session
  /** Restarts the member's session timer (`timeoutMs` defaults to its session timeout). */
  rescheduleHeartbeat(
    group: Group,
    member: GroupMember,
    timeoutMs = member.sessionTimeoutMs,
  ): void {
    member.cancelHeartbeat?.();
    member.cancelHeartbeat = this.ctx.scheduler.schedule(timeoutMs, () => {
      member.cancelHeartbeat = undefined;
      if (!this.live(group) || group.get(member.memberId) !== member) return;
      if (member.hasSatisfiedHeartbeat) return;
      this.ctx.logger.info(
        `member ${member.memberId} of group ${group.groupId} expired after ${timeoutMs} ms`,
      );
      this.removeMemberAndUpdateGroup(group, member, `member ${member.memberId} expired`);
    });
  }

  /** A member id handed out by MEMBER_ID_REQUIRED expires if it does not rejoin within its session timeout. */
  schedulePendingMemberExpiry(group: Group, memberId: string, sessionTimeoutMs: number): void {
    const cancel = this.ctx.scheduler.schedule(sessionTimeoutMs, () => {
      if (!this.live(group) || !group.pendingMembers.has(memberId)) return;
      group.pendingMembers.delete(memberId);
      this.ctx.logger.info(
        `pending member ${memberId} of group ${group.groupId} expired after ${sessionTimeoutMs} ms`,
      );
      this.removePendingMemberAndUpdateGroup(group, memberId);
    });
    group.pendingMembers.set(memberId, cancel);
  }

  removeMemberAndUpdateGroup(group: Group, member: GroupMember, reason: string): void {
    this.dropMember(group, member.memberId);
    if (group.is(STABLE) || group.is(COMPLETING_REBALANCE))
      this.maybePrepareRebalanceOrCompleteJoin(group, reason);
    else if (group.is(PREPARING_REBALANCE)) this.maybeCompleteJoinPhase(group);
  }

  removePendingMemberAndUpdateGroup(group: Group, memberId: string): void {
    group.remove(memberId);
    if (group.is(PREPARING_REBALANCE)) this.maybeCompleteJoinPhase(group);
  }

  /** Removes a member, answering what it has parked with UNKNOWN_MEMBER_ID (Kafka: "so it rejoins"). */
  dropMember(group: Group, memberId: string): void {
    const member = group.remove(memberId);
    member?.completeJoin(joinError(ErrorCode.UNKNOWN_MEMBER_ID));
    member?.completeSync(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
  }
  // #endregion session

  /** Cancels every timer of the group and answers what its members have parked (the broker stops, or the group goes). */
  unload(group: Group, errorCode: number): void {
    group.cancelJoinTimer?.();
    group.cancelSyncTimer?.();
    group.cancelJoinTimer = group.cancelSyncTimer = undefined;
    for (const cancel of group.pendingMembers.values()) cancel();
    for (const member of group.members.values()) {
      member.cancelHeartbeat?.();
      member.cancelHeartbeat = undefined;
      member.completeJoin(joinError(errorCode, member.memberId));
      member.completeSync(syncError(errorCode));
    }
  }
}

export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
