/**
 * The administrative group APIs: ListGroups, DescribeGroups, DeleteGroups.
 *
 * DescribeGroups shows members' metadata and assignments only while the
 * group is Stable (as Kafka does: otherwise they are in flux), and answers an
 * unknown group as Dead with no members and no error. DeleteGroups removes
 * Empty groups only: the group is Dead at once, and tombstones for its
 * offsets and its metadata go to `__consumer_offsets`. In a cluster each
 * answers only for the groups this broker coordinates (the others:
 * NOT_COORDINATOR, or COORDINATOR_LOAD_IN_PROGRESS while they load); the
 * groups in memory are exactly those.
 */
import type { Logger } from '../../log/index.js';
import { ErrorCode, toProtocolError } from '../../protocol/index.js';
import type {
  DeleteGroupsRequest,
  DeleteGroupsResponse,
  DescribeGroupsRequest,
  DescribeGroupsResponse,
  ListGroupsRequest,
  ListGroupsResponse,
} from '../../protocol/apis/index.js';
import type { Group } from './group.js';
import type { OffsetStore } from './offset-store.js';
import type { OffsetsTopic } from './offsets-topic.js';
import { groupTombstone, offsetRecord } from './persistence.js';
import type { Rebalancer } from './rebalance.js';
import type { Scheduler } from './scheduler.js';
import { GroupState } from './state.js';

type DescribedGroup = DescribeGroupsResponse['groups'][number];

export interface AdminContext {
  readonly groups: Map<string, Group>;
  readonly offsets: OffsetStore;
  readonly topic: OffsetsTopic;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  readonly rebalancer: Rebalancer;
  /** 0 when this broker coordinates the group, else the error (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS). */
  readonly refusal: (groupId: string) => number;
  /** True while offsets partitions load here: ListGroups says COORDINATOR_LOAD_IN_PROGRESS, as Kafka's does. */
  readonly loading: boolean;
}

export function listGroups(ctx: AdminContext, req: ListGroupsRequest): ListGroupsResponse {
  // Kafka compares states without regard to case.
  const filter = req.statesFilter?.map((s) => s.toLowerCase());
  const groups = [...ctx.groups.values()]
    .filter(
      (g) => filter === undefined || filter.length === 0 || filter.includes(g.state.toLowerCase()),
    )
    .sort((a, b) => (a.groupId < b.groupId ? -1 : 1))
    .map((g) => ({ groupId: g.groupId, protocolType: g.protocolType ?? '', groupState: g.state }));
  return { errorCode: ctx.loading ? ErrorCode.COORDINATOR_LOAD_IN_PROGRESS : 0, groups };
}

export function describeGroups(
  ctx: AdminContext,
  req: DescribeGroupsRequest,
): DescribeGroupsResponse {
  return {
    groups: req.groups.map((id) => {
      const refused = id === '' ? 0 : ctx.refusal(id);
      // Kafka's answer for a group it cannot describe here: no state, no members.
      if (refused !== 0) return { ...dead(id), groupState: '', errorCode: refused };
      return describeGroup(ctx.groups.get(id), id);
    }),
  };
}

function describeGroup(group: Group | undefined, groupId: string): DescribedGroup {
  if (groupId === '') return { ...dead(groupId), errorCode: ErrorCode.INVALID_GROUP_ID };
  if (group === undefined) return dead(groupId);
  const stable = group.is(GroupState.STABLE);
  return {
    errorCode: 0,
    groupId,
    groupState: group.state,
    generationId: group.generationId === 0 ? -1 : group.generationId,
    protocolType: group.protocolType ?? '',
    protocolData: stable ? (group.protocolName ?? '') : '',
    leader: group.leaderId ?? '',
    members: [...group.members.values()].map((m) => ({
      memberId: m.memberId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      memberMetadata: stable ? m.metadata(group.protocolName) : Buffer.alloc(0),
      memberAssignment: stable ? m.assignment : Buffer.alloc(0),
    })),
  };
}

function dead(groupId: string): DescribedGroup {
  return {
    errorCode: 0,
    groupId,
    groupState: GroupState.DEAD,
    generationId: -1,
    protocolType: '',
    protocolData: '',
    leader: '',
    members: [],
  };
}

export async function deleteGroups(
  ctx: AdminContext,
  req: DeleteGroupsRequest,
): Promise<DeleteGroupsResponse> {
  const results = await Promise.all(
    req.groupsNames.map(async (groupId) => ({
      groupId,
      errorCode: await deleteGroup(ctx, groupId),
    })),
  );
  return { results };
}

async function deleteGroup(ctx: AdminContext, groupId: string): Promise<number> {
  if (groupId === '') return ErrorCode.INVALID_GROUP_ID;
  const refused = ctx.refusal(groupId);
  if (refused !== 0) return refused;
  const group = ctx.groups.get(groupId);
  if (group === undefined || group.is(GroupState.DEAD)) return ErrorCode.GROUP_ID_NOT_FOUND;
  if (!group.is(GroupState.EMPTY)) return ErrorCode.NON_EMPTY_GROUP;
  ctx.rebalancer.unload(group, ErrorCode.UNKNOWN_MEMBER_ID);
  group.transitionTo(GroupState.DEAD, ctx.scheduler.now());
  ctx.groups.delete(groupId);
  const offsets = ctx.offsets.all(groupId);
  ctx.offsets.deleteGroup(groupId);
  const records = offsets.map((o) => offsetRecord(groupId, o.topic, o.partition, null));
  records.push(groupTombstone(groupId));
  try {
    await ctx.topic.append(groupId, records);
  } catch (err) {
    const e = toProtocolError(err);
    ctx.logger.warn(
      `group ${groupId}: deleted, but its tombstones could not be written: ${e.message}`,
    );
    return ErrorCode.COORDINATOR_NOT_AVAILABLE;
  }
  ctx.logger.info(`group ${groupId}: deleted with ${offsets.length} committed offset(s)`);
  return 0;
}
