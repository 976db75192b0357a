/**
 * The member-facing requests of the group protocol: JoinGroup, SyncGroup,
 * Heartbeat and LeaveGroup, with Kafka's checks in Kafka's order. Each
 * answers at once, except a JoinGroup that waits for the join phase to end
 * and a SyncGroup that waits for the leader's assignment: those resolve
 * later, from `rebalance.ts`.
 *
 * Fencing: a request naming a member the group does not have is
 * UNKNOWN_MEMBER_ID; one from another generation is ILLEGAL_GENERATION.
 */
import { randomUUID } from 'node:crypto';
import { ErrorCode } from '../../protocol/index.js';
import type {
  HeartbeatRequest,
  JoinGroupRequest,
  JoinGroupResponse,
  LeaveGroupRequest,
  LeaveGroupResponse,
  SyncGroupRequest,
  SyncGroupResponse,
} from '../../protocol/apis/index.js';
import { Group, joinError, syncError } from './group.js';
import { EMPTY_BYTES, GroupMember, type MemberProtocol } from './member.js';
import {
  NEW_MEMBER_JOIN_TIMEOUT_MS,
  type RebalanceContext,
  type Rebalancer,
  describe,
} from './rebalance.js';
import { GroupState } from './state.js';

const { EMPTY, PREPARING_REBALANCE, COMPLETING_REBALANCE, STABLE, DEAD } = GroupState;

export interface MembershipContext extends RebalanceContext {
  readonly groups: Map<string, Group>;
  readonly rebalancer: Rebalancer;
}

/** Who sent the request: Kafka builds member ids from the client id. */
export interface Caller {
  clientId: string;
  clientHost: string;
}

type Answer<T> = (response: T) => void;

export class Membership {
  constructor(private readonly ctx: MembershipContext) {}

  // #region join
  join(req: JoinGroupRequest, caller: Caller): Promise<JoinGroupResponse> {
    return new Promise((resolve) => this.doJoin(req, caller, resolve));
  }

  private doJoin(req: JoinGroupRequest, caller: Caller, answer: Answer<JoinGroupResponse>): void {
    const s = this.ctx.settings;
    if (req.groupId === '') return answer(joinError(ErrorCode.INVALID_GROUP_ID, req.memberId));
    if (
      req.sessionTimeoutMs < s['group.min.session.timeout.ms'] ||
      req.sessionTimeoutMs > s['group.max.session.timeout.ms']
    )
      return answer(joinError(ErrorCode.INVALID_SESSION_TIMEOUT, req.memberId));
    const unknown = req.memberId === '';
    let group = this.ctx.groups.get(req.groupId);
    const created = group === undefined;
    if (group === undefined) {
      if (!unknown) return answer(joinError(ErrorCode.UNKNOWN_MEMBER_ID, req.memberId));
      group = new Group(req.groupId, this.ctx.scheduler.now());
      this.ctx.groups.set(req.groupId, group);
    }
    if (!this.acceptJoiningMember(group, req.memberId)) {
      group.remove(req.memberId);
      answer(joinError(ErrorCode.GROUP_MAX_SIZE_REACHED));
    } else if (unknown) {
      this.joinNewMember(group, req, caller, answer);
    } else {
      this.joinExistingMember(group, req, caller, answer);
    }
    // A group this request created and then refused leaves no trace.
    if (created && group.is(EMPTY) && group.size === 0 && group.pendingMembers.size === 0)
      this.ctx.groups.delete(req.groupId);
  }

  /** Kafka's `acceptJoiningMember`: room for a new member, counted as Kafka counts it per state. */
  private acceptJoiningMember(group: Group, memberId: string): boolean {
    const max = this.ctx.settings['group.max.size'];
    switch (group.state) {
      case EMPTY:
      case DEAD:
        return true;
      case PREPARING_REBALANCE:
        return group.get(memberId)?.isAwaitingJoin === true || group.numAwaitingJoin < max;
      default:
        return group.has(memberId) || group.size < max;
    }
  }

  private joinNewMember(
    group: Group,
    req: JoinGroupRequest,
    caller: Caller,
    answer: Answer<JoinGroupResponse>,
  ): void {
    const protocols = uniqueProtocols(req.protocols);
    if (group.is(DEAD)) return answer(joinError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (!group.supportsProtocols(req.protocolType, protocols))
      return answer(joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    const memberId = `${caller.clientId}-${randomUUID()}`;
    this.ctx.rebalancer.schedulePendingMemberExpiry(group, memberId, req.sessionTimeoutMs);
    this.ctx.logger.debug(
      `group ${group.groupId}: handed member id ${memberId} to a new member (${group.state})`,
    );
    answer(joinError(ErrorCode.MEMBER_ID_REQUIRED, memberId));
  }

  private joinExistingMember(
    group: Group,
    req: JoinGroupRequest,
    caller: Caller,
    answer: Answer<JoinGroupResponse>,
  ): void {
    const { memberId } = req;
    const protocols = uniqueProtocols(req.protocols);
    if (group.is(DEAD)) return answer(joinError(ErrorCode.COORDINATOR_NOT_AVAILABLE, memberId));
    if (!group.supportsProtocols(req.protocolType, protocols))
      return answer(joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, memberId));
    if (group.isPending(memberId)) return this.addMember(group, req, protocols, caller, answer);
    const member = group.get(memberId);
    if (member === undefined) return answer(joinError(ErrorCode.UNKNOWN_MEMBER_ID, memberId));
    const rejoin = (why: string) => this.updateMember(group, member, req, protocols, why, answer);
    switch (group.state) {
      case PREPARING_REBALANCE:
        return rejoin(`member ${memberId} rejoined`);
      case COMPLETING_REBALANCE:
        // The same metadata: it missed the answer; give it again.
        if (member.matches(protocols))
          return answer(
            group.joinResponse(memberId, group.isLeader(memberId) ? group.joinedMembers() : []),
          );
        return rejoin(`member ${memberId} rejoined with new metadata`);
      case STABLE:
        // The leader rejoining forces a rebalance (it may have seen new partitions); a follower only with new metadata.
        if (group.isLeader(memberId)) return rejoin(`leader ${memberId} rejoined`);
        if (!member.matches(protocols))
          return rejoin(`member ${memberId} rejoined with new metadata`);
        return answer(group.joinResponse(memberId));
      default:
        return answer(joinError(ErrorCode.UNKNOWN_MEMBER_ID, memberId));
    }
  }

  private addMember(
    group: Group,
    req: JoinGroupRequest,
    protocols: MemberProtocol[],
    caller: Caller,
    answer: Answer<JoinGroupResponse>,
  ): void {
    const member = new GroupMember({
      memberId: req.memberId,
      clientId: caller.clientId,
      clientHost: caller.clientHost,
      sessionTimeoutMs: req.sessionTimeoutMs,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs,
      protocolType: req.protocolType,
      protocols,
    });
    member.isNew = true;
    if (group.is(PREPARING_REBALANCE) && group.previousState === EMPTY) group.newMemberAdded = true;
    group.add(member, answer);
    // It cannot heartbeat while its JoinGroup is parked: a longer timer catches one that went away.
    this.ctx.rebalancer.rescheduleHeartbeat(group, member, NEW_MEMBER_JOIN_TIMEOUT_MS);
    const reason = `member ${member.memberId} joined (${plural(group.size, 'member')})`;
    if (group.is(PREPARING_REBALANCE))
      this.ctx.logger.info(`group ${group.groupId}: ${reason} during the rebalance`);
    this.ctx.rebalancer.maybePrepareRebalanceOrCompleteJoin(group, reason);
  }

  private updateMember(
    group: Group,
    member: GroupMember,
    req: JoinGroupRequest,
    protocols: MemberProtocol[],
    reason: string,
    answer: Answer<JoinGroupResponse>,
  ): void {
    // A second JoinGroup replaces the first, which is told to rejoin (Kafka drops it unanswered).
    member.completeJoin(joinError(ErrorCode.REBALANCE_IN_PROGRESS, member.memberId));
    group.update(member, protocols, req, answer);
    this.ctx.rebalancer.maybePrepareRebalanceOrCompleteJoin(group, reason);
  }
  // #endregion join

  // #region sync
  sync(req: SyncGroupRequest): Promise<SyncGroupResponse> {
    return new Promise((resolve) => this.doSync(req, resolve));
  }

  private doSync(req: SyncGroupRequest, answer: Answer<SyncGroupResponse>): void {
    const group = this.ctx.groups.get(req.groupId);
    const error = this.checkSync(group, req);
    if (error !== 0 || group === undefined) return answer(syncError(error));
    const member = group.get(req.memberId)!;
    switch (group.state) {
      case PREPARING_REBALANCE:
        return answer(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      case STABLE:
        group.pendingSyncMembers.delete(member.memberId);
        answer(group.syncResponse(member.assignment));
        return this.ctx.rebalancer.rescheduleHeartbeat(group, member);
      case COMPLETING_REBALANCE:
        member.completeSync(syncError(ErrorCode.REBALANCE_IN_PROGRESS)); // a repeated SyncGroup replaces the first
        member.awaitingSync = answer;
        group.pendingSyncMembers.delete(member.memberId);
        if (group.isLeader(member.memberId)) this.storeAssignment(group, req);
        return;
      default:
        return answer(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    }
  }

  private checkSync(group: Group | undefined, req: SyncGroupRequest): number {
    if (group === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (group.is(DEAD)) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (!group.has(req.memberId)) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (req.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    if (req.protocolType !== null && req.protocolType !== group.protocolType)
      return ErrorCode.INCONSISTENT_GROUP_PROTOCOL;
    if (req.protocolName !== null && req.protocolName !== group.protocolName)
      return ErrorCode.INCONSISTENT_GROUP_PROTOCOL;
    return 0;
  }

  /** The leader's assignments: written to the log, then every parked SyncGroup answered, and Stable. */
  private storeAssignment(group: Group, req: SyncGroupRequest): void {
    const assignment = new Map<string, Buffer>();
    for (const a of req.assignments)
      if (group.has(a.memberId)) assignment.set(a.memberId, a.assignment);
    const missing = [...group.members.keys()].filter((id) => !assignment.has(id));
    for (const id of missing) assignment.set(id, EMPTY_BYTES);
    if (missing.length > 0)
      this.ctx.logger.warn(
        `group ${group.groupId}: the leader gave no assignment to ${missing.join(', ')} (empty for now)`,
      );
    const generation = group.generationId;
    const stillCurrent = () =>
      this.ctx.groups.get(group.groupId) === group &&
      group.is(COMPLETING_REBALANCE) &&
      group.generationId === generation;
    this.ctx.storeGroup(group, assignment).then(
      () => {
        if (!stillCurrent()) return;
        this.ctx.rebalancer.setAndPropagateAssignment(group, assignment);
        group.transitionTo(STABLE, this.ctx.scheduler.now());
        this.ctx.logger.info(
          `group ${group.groupId}: generation ${generation} stable with ` +
            `${plural(group.size, 'member')} (${group.protocolName})`,
        );
      },
      (err: unknown) => {
        this.ctx.logger.warn(
          `group ${group.groupId}: could not write its assignment: ${describe(err)}`,
        );
        if (!stillCurrent()) return;
        this.ctx.rebalancer.propagateError(group, ErrorCode.COORDINATOR_NOT_AVAILABLE);
        this.ctx.rebalancer.maybePrepareRebalanceOrCompleteJoin(
          group,
          'its assignment could not be written',
        );
      },
    );
  }
  // #endregion sync

  // #region heartbeat-leave
  heartbeat(req: HeartbeatRequest): number {
    const group = this.ctx.groups.get(req.groupId);
    if (group === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (group.is(DEAD)) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const member = group.get(req.memberId);
    if (member === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (req.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    switch (group.state) {
      case PREPARING_REBALANCE:
        this.ctx.rebalancer.rescheduleHeartbeat(group, member);
        return ErrorCode.REBALANCE_IN_PROGRESS;
      case COMPLETING_REBALANCE:
      case STABLE:
        this.ctx.rebalancer.rescheduleHeartbeat(group, member);
        return 0;
      default:
        return ErrorCode.UNKNOWN_MEMBER_ID;
    }
  }

  leave(req: LeaveGroupRequest): LeaveGroupResponse {
    const group = this.ctx.groups.get(req.groupId);
    if (group === undefined)
      return {
        errorCode: 0,
        members: req.members.map(({ memberId }) => ({
          memberId,
          errorCode: ErrorCode.UNKNOWN_MEMBER_ID,
        })),
      };
    if (group.is(DEAD)) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] };
    const members = req.members.map(({ memberId }) => {
      if (group.isPending(memberId)) {
        group.remove(memberId);
        return { memberId, errorCode: 0 };
      }
      if (!group.has(memberId)) return { memberId, errorCode: ErrorCode.UNKNOWN_MEMBER_ID };
      this.ctx.rebalancer.dropMember(group, memberId);
      return { memberId, errorCode: 0 };
    });
    const left = members.filter((m) => m.errorCode === 0).map((m) => m.memberId);
    if (left.length > 0) {
      const reason = `${left.join(', ')} left (${plural(group.size, 'member')})`;
      if (group.is(STABLE) || group.is(COMPLETING_REBALANCE))
        this.ctx.rebalancer.maybePrepareRebalanceOrCompleteJoin(group, reason);
      else {
        this.ctx.logger.info(`group ${group.groupId}: ${reason}`);
        this.ctx.rebalancer.maybeCompleteJoinPhase(group);
      }
    }
    return { errorCode: 0, members };
  }
  // #endregion heartbeat-leave
}

/** A member's protocols, the first of each name kept (Kafka keeps them in a set by name). */
function uniqueProtocols(protocols: readonly MemberProtocol[]): MemberProtocol[] {
  const seen = new Set<string>();
  return protocols.filter((p) => !seen.has(p.name) && seen.add(p.name) !== undefined);
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
