/**
 * The group coordinator: one object the broker holds, with a method per group
 * API. It owns the groups and the committed offsets in memory and the
 * `__consumer_offsets` topic they are kept in, and delegates: membership
 * (`membership.ts`), rebalances and timers (`rebalance.ts`), offsets
 * (`offsets.ts`), the admin APIs (`admin.ts`), records and replay
 * (`records.ts`, `persistence.ts`).
 *
 * Lifecycle: `open` replays `__consumer_offsets` if it exists (before the
 * broker answers anything, so COORDINATOR_LOAD_IN_PROGRESS is never needed)
 * and starts the expiry schedule; `shutdown` answers every parked JoinGroup
 * and SyncGroup with NOT_COORDINATOR and cancels every timer. Everything runs
 * on the event loop; nothing is shared across processes.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from '../../log/index.js';
import { ErrorCode } from '../../protocol/index.js';
import type {
  DeleteGroupsRequest,
  DeleteGroupsResponse,
  DescribeGroupsRequest,
  DescribeGroupsResponse,
  HeartbeatRequest,
  JoinGroupRequest,
  JoinGroupResponse,
  LeaveGroupRequest,
  LeaveGroupResponse,
  ListGroupsRequest,
  ListGroupsResponse,
  OffsetCommitRequest,
  OffsetCommitResponse,
  OffsetFetchRequest,
  OffsetFetchResponse,
  SyncGroupRequest,
  SyncGroupResponse,
} from '../../protocol/apis/index.js';
import type { BrokerSettings } from '../config.js';
import type { Topic, TopicManager } from '../topics.js';
import { type AdminContext, deleteGroups, describeGroups, listGroups } from './admin.js';
import { type Group, joinError, syncError } from './group.js';
import { type Caller, Membership, type MembershipContext } from './membership.js';
import { OffsetStore } from './offset-store.js';
import { GroupOffsets } from './offsets.js';
import { OFFSETS_TOPIC, OffsetsTopic } from './offsets-topic.js';
import { groupRecord, replay, restoreGroup } from './persistence.js';
import { Rebalancer } from './rebalance.js';
import type { Scheduler } from './scheduler.js';
import { GroupState } from './state.js';

export interface GroupCoordinatorOptions {
  topics: TopicManager;
  settings: BrokerSettings;
  logger: Logger;
  scheduler: Scheduler;
}

/** What `inspect` shows of a group. */
export interface GroupSnapshot {
  state: GroupState;
  generationId: number;
  protocolName: string | undefined;
  leaderId: string | undefined;
  /** Member ids, in the order they joined. */
  members: string[];
}

export class GroupCoordinator {
  private readonly groups = new Map<string, Group>();
  private readonly offsets = new OffsetStore();
  private readonly topic: OffsetsTopic;
  private readonly rebalancer: Rebalancer;
  private readonly membership: Membership;
  private readonly offsetsApi: GroupOffsets;
  private cancelExpiry: (() => void) | undefined;
  private stopped = false;

  private constructor(private readonly options: GroupCoordinatorOptions) {
    const { topics, settings, logger, scheduler } = options;
    this.topic = new OffsetsTopic(topics, settings, () => scheduler.now());
    const base = {
      groups: this.groups,
      settings,
      scheduler,
      logger,
      storeGroup: (group: Group, assignment: ReadonlyMap<string, Buffer>) =>
        this.topic.append(group.groupId, [groupRecord(group, assignment)]),
    };
    this.rebalancer = new Rebalancer(base);
    const ctx: MembershipContext = { ...base, rebalancer: this.rebalancer };
    this.membership = new Membership(ctx);
    this.offsetsApi = new GroupOffsets({
      ...ctx,
      offsets: this.offsets,
      topic: this.topic,
      topics,
    });
  }

  /** Replays `__consumer_offsets` when it exists, then starts the offsets expiry schedule. */
  static open(options: GroupCoordinatorOptions): GroupCoordinator {
    const coordinator = new GroupCoordinator(options);
    const topic = coordinator.topic.topic;
    if (topic !== undefined) coordinator.load(topic);
    coordinator.scheduleExpiry();
    return coordinator;
  }

  private load(topic: Topic): void {
    const started = performance.now();
    const { groups, records, skipped } = replay(topic, this.offsets);
    const offsets = this.offsets;
    for (const id of new Set([...groups.keys(), ...offsets.groups()])) {
      const group = restoreGroup(id, groups.get(id));
      this.groups.set(id, group);
      for (const member of group.members.values())
        this.rebalancer.rescheduleHeartbeat(group, member);
    }
    const ms = Math.round(performance.now() - started);
    const { logger } = this.options;
    if (skipped > 0)
      logger.warn(
        `skipped ${skipped} record(s) of ${OFFSETS_TOPIC} in a layout this broker does not know`,
      );
    logger.info(
      `loaded ${this.groups.size} group(s) and ${offsets.size} offset(s) from ${OFFSETS_TOPIC} ` +
        `(${records} record(s)) in ${ms} ms`,
    );
  }

  private scheduleExpiry(): void {
    if (this.stopped) return;
    const every = this.options.settings['offsets.retention.check.interval.ms'];
    this.cancelExpiry = this.options.scheduler.schedule(every, () => {
      // The next check is due on time even while this one writes its tombstones; two passes
      // cannot overlap in memory (a pass decides and forgets synchronously).
      this.scheduleExpiry();
      void this.expireOffsets();
    });
  }

  /** Creates `__consumer_offsets` if it does not exist yet (first use). */
  ensureTopic(): Promise<Topic> {
    return this.topic.ensure();
  }

  /** The `__consumer_offsets` partition that holds a group's records. */
  partitionFor(groupId: string): number {
    return this.topic.partitionFor(groupId);
  }

  async joinGroup(req: JoinGroupRequest, caller: Caller): Promise<JoinGroupResponse> {
    if (this.stopped) return joinError(ErrorCode.NOT_COORDINATOR, req.memberId);
    if (req.groupId !== '') await this.topic.ensure();
    return this.membership.join(req, caller);
  }

  syncGroup(req: SyncGroupRequest): Promise<SyncGroupResponse> {
    if (this.stopped) return Promise.resolve(syncError(ErrorCode.NOT_COORDINATOR));
    return this.membership.sync(req);
  }

  heartbeat(req: HeartbeatRequest): number {
    return this.membership.heartbeat(req);
  }

  leaveGroup(req: LeaveGroupRequest): LeaveGroupResponse {
    return this.membership.leave(req);
  }

  commitOffsets(req: OffsetCommitRequest): Promise<OffsetCommitResponse> {
    return this.offsetsApi.commit(req);
  }

  fetchOffsets(req: OffsetFetchRequest): OffsetFetchResponse {
    return this.offsetsApi.fetch(req);
  }

  listGroups(req: ListGroupsRequest): ListGroupsResponse {
    return listGroups(this.admin(), req);
  }

  describeGroups(req: DescribeGroupsRequest): DescribeGroupsResponse {
    return describeGroups(this.admin(), req);
  }

  deleteGroups(req: DeleteGroupsRequest): Promise<DeleteGroupsResponse> {
    return deleteGroups(this.admin(), req);
  }

  /** One offsets expiry pass now (it also runs every `offsets.retention.check.interval.ms`). */
  expireOffsets(): Promise<{ offsets: number; groups: number }> {
    return this.offsetsApi.expire();
  }

  /** A group's state, generation and members, for tests and tools; undefined when unknown. */
  inspect(groupId: string): GroupSnapshot | undefined {
    const g = this.groups.get(groupId);
    if (g === undefined) return undefined;
    const { state, generationId, protocolName, leaderId } = g;
    return { state, generationId, protocolName, leaderId, members: [...g.members.keys()] };
  }

  /** Answers parked requests with NOT_COORDINATOR, cancels every timer, and waits for queued writes. */
  async shutdown(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      this.cancelExpiry?.();
      for (const group of this.groups.values())
        this.rebalancer.unload(group, ErrorCode.NOT_COORDINATOR);
    }
    await this.topic.drain();
  }

  private admin(): AdminContext {
    const { scheduler, logger } = this.options;
    return {
      groups: this.groups,
      offsets: this.offsets,
      topic: this.topic,
      scheduler,
      logger,
      rebalancer: this.rebalancer,
    };
  }
}
