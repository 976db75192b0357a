/**
 * The group coordinator: one object the broker holds, with a method per group
 * API. It owns the groups and the committed offsets in memory and the
 * `__consumer_offsets` topic they are kept in, and delegates: membership
 * (`membership.ts`), rebalances and timers (`rebalance.ts`), offsets
 * (`offsets.ts`), the admin APIs (`admin.ts`), records and replay
 * (`records.ts`, `persistence.ts`).
 *
 * Two modes (`ownership.ts`). A broker alone owns every group: `open`
 * replays all of `__consumer_offsets` if it exists, before the broker
 * answers anything. A broker in a cluster (`cluster` option) owns the groups
 * of the offsets partitions it leads, as Kafka's GroupMetadataManager: the
 * ReplicaManager calls `onLeadershipChange` for each change of leadership of
 * an offsets partition; becoming leader loads that partition's groups
 * (COORDINATOR_LOAD_IN_PROGRESS meanwhile), resigning unloads them (parked
 * requests answered NOT_COORDINATOR, timers cancelled). A request for a
 * group this broker does not own is NOT_COORDINATOR; FindCoordinator's rule
 * is in `cluster.ts`.
 *
 * Lifecycle: `open` then starts the expiry schedule; `shutdown` answers
 * every parked JoinGroup and SyncGroup with NOT_COORDINATOR and cancels
 * every timer. Everything runs on the event loop; nothing is shared across
 * processes.
 */
import { performance } from 'node:perf_hooks';
import type { ClusterView } from '../../cluster/runtime/channels.js';
import type { Logger } from '../../log/index.js';
import { ErrorCode, toProtocolError } from '../../protocol/index.js';
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
import { type GroupCluster, imageHasPartition, offsetsTopicCreation } from './cluster.js';
import { type Group, joinError, syncError } from './group.js';
import { type Caller, Membership, type MembershipContext } from './membership.js';
import { OffsetStore } from './offset-store.js';
import { GroupOffsets, commitRefused } from './offsets.js';
import { OFFSETS_TOPIC, OffsetsTopic } from './offsets-topic.js';
import { OffsetsPartitions } from './ownership.js';
import { type LoaderContext, loadPartition, unloadPartition } from './partition-loader.js';
import { groupRecord, replay, restoreGroup } from './persistence.js';
import { Rebalancer } from './rebalance.js';
import type { Scheduler } from './scheduler.js';
import { GroupState } from './state.js';

export interface GroupCoordinatorOptions {
  topics: TopicManager;
  settings: BrokerSettings;
  logger: Logger;
  scheduler: Scheduler;
  /**
   * A broker in a cluster: it coordinates only the groups of the offsets
   * partitions it leads (`onLeadershipChange`). Absent: a broker alone,
   * which coordinates every group.
   */
  cluster?: GroupCluster;
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
  private readonly partitions: OffsetsPartitions;
  /** The load under way per offsets partition, for `onLeadershipChange` to hand back. */
  private readonly loads = new Map<number, Promise<void>>();
  private creatingTopic: Promise<void> | undefined;
  private cancelExpiry: (() => void) | undefined;
  private stopped = false;

  private constructor(private readonly options: GroupCoordinatorOptions) {
    const { topics, settings, logger, scheduler, cluster } = options;
    this.partitions = new OffsetsPartitions(cluster === undefined);
    this.topic = new OffsetsTopic({
      topics,
      settings,
      scheduler,
      owns: (index) => this.partitions.owns(index),
      cluster,
    });
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
      refusal: (groupId) => this.refusal(groupId),
      knowsPartition: (topic, partition) =>
        cluster === undefined
          ? topics.partition(topic, partition) !== undefined
          : imageHasPartition(cluster.image(), topic, partition),
    });
  }

  /**
   * Alone: replays `__consumer_offsets` when it exists. In a cluster: loads
   * nothing until the ReplicaManager says which partitions this broker
   * leads. Then starts the offsets expiry schedule.
   */
  static open(options: GroupCoordinatorOptions): GroupCoordinator {
    const coordinator = new GroupCoordinator(options);
    const topic = coordinator.topic.topic;
    if (topic !== undefined && options.cluster === undefined) coordinator.load(topic);
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

  // #region leadership
  /**
   * The ReplicaManager's call, for each offsets partition whose leadership
   * changed in an applied image: this broker now leads `partition` at
   * `leaderEpoch` (its groups are loaded from the log; their requests get
   * COORDINATOR_LOAD_IN_PROGRESS meanwhile), or no longer does (its groups
   * are unloaded: parked requests NOT_COORDINATOR, timers cancelled). A
   * call with an epoch below one seen for the partition is stale and
   * ignored; being elected again while leading or loading changes nothing.
   * Resolves when the load, if any, is over; never rejects; need not be
   * awaited. Ignored by a broker alone, which owns every partition.
   */
  onLeadershipChange(partition: number, isLeader: boolean, leaderEpoch: number): Promise<void> {
    const { logger } = this.options;
    if (this.options.cluster === undefined) {
      logger.warn(
        `ignored a leadership change of ${OFFSETS_TOPIC}-${partition}: this broker is not in a cluster`,
      );
      return Promise.resolve();
    }
    if (this.stopped) return Promise.resolve();
    if (!isLeader) {
      const outcome = this.partitions.resign(partition, leaderEpoch);
      if (outcome === 'unload') unloadPartition(this.loader(), partition, leaderEpoch);
      else if (outcome === 'stale')
        logger.debug(
          `ignored a stale resignation of ${OFFSETS_TOPIC}-${partition} at epoch ${leaderEpoch}`,
        );
      return Promise.resolve();
    }
    const election = this.partitions.elect(partition, leaderEpoch);
    if (election.kind !== 'load') return this.loads.get(partition) ?? Promise.resolve();
    const { token } = election;
    const wanted = () => !this.stopped && this.partitions.isCurrent(partition, token);
    const run = loadPartition(this.loader(), partition, leaderEpoch, wanted).then(
      (done) => {
        if (done) this.partitions.loaded(partition, token);
      },
      (err: unknown) => {
        this.partitions.failed(partition, token);
        logger.error(
          `could not load the groups of ${OFFSETS_TOPIC}-${partition}: ${toProtocolError(err).message}; ` +
            `its groups are not served here until its leadership changes`,
        );
      },
    );
    const tracked = run.finally(() => {
      if (this.loads.get(partition) === tracked) this.loads.delete(partition);
    });
    this.loads.set(partition, tracked);
    return tracked;
  }

  /** The offsets partitions whose groups this broker serves now, in a cluster (a broker alone serves all and lists none). */
  ownedPartitions(): number[] {
    return this.partitions.ownedPartitions();
  }

  /** 0 when this broker coordinates the group now; else NOT_COORDINATOR or COORDINATOR_LOAD_IN_PROGRESS. */
  refusal(groupId: string): number {
    if (groupId === '') return 0; // each API answers INVALID_GROUP_ID its own way
    return this.partitions.status(this.partitionFor(groupId));
  }

  private loader(): LoaderContext {
    const { topics, scheduler, logger } = this.options;
    return {
      groups: this.groups,
      offsets: this.offsets,
      topics,
      rebalancer: this.rebalancer,
      scheduler,
      logger,
      partitionFor: (id) => this.partitionFor(id),
    };
  }
  // #endregion leadership

  /** Creates `__consumer_offsets` if it does not exist yet (first use; a broker alone only). */
  ensureTopic(): Promise<Topic> {
    return this.topic.ensure();
  }

  /**
   * In a cluster, asks the controller to create `__consumer_offsets`
   * (FindCoordinator does, while the image has no such topic). One request
   * at a time; resolves when it is answered; never rejects (the client asks
   * FindCoordinator again).
   */
  requestOffsetsTopic(view: ClusterView): Promise<void> {
    const { settings, logger } = this.options;
    this.creatingTopic ??= (async () => {
      const call = offsetsTopicCreation(settings, view.image(), this.topic.topicConfigs());
      try {
        await view.channel.createTopic(call);
        logger.info(
          `created ${OFFSETS_TOPIC} with ${call.partitions} partition(s) and ` +
            `replication factor ${call.replicationFactor}`,
        );
      } catch (err) {
        const e = toProtocolError(err);
        if (e.name !== 'TOPIC_ALREADY_EXISTS')
          logger.warn(`could not create ${OFFSETS_TOPIC}: ${e.name} (${e.message})`);
      }
    })().finally(() => (this.creatingTopic = undefined));
    return this.creatingTopic;
  }

  /** The `__consumer_offsets` partition that holds a group's records. */
  partitionFor(groupId: string): number {
    return this.topic.partitionFor(groupId);
  }

  async joinGroup(req: JoinGroupRequest, caller: Caller): Promise<JoinGroupResponse> {
    if (this.stopped) return joinError(ErrorCode.NOT_COORDINATOR, req.memberId);
    if (req.groupId !== '') await this.topic.whenUsable();
    const refused = this.refusal(req.groupId);
    if (refused !== 0) return joinError(refused, req.memberId);
    return this.membership.join(req, caller);
  }

  syncGroup(req: SyncGroupRequest): Promise<SyncGroupResponse> {
    if (this.stopped) return Promise.resolve(syncError(ErrorCode.NOT_COORDINATOR));
    const refused = this.refusal(req.groupId);
    // Kafka: a loading coordinator lost the rebalance; REBALANCE_IN_PROGRESS sends the member to rejoin.
    if (refused === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS)
      return Promise.resolve(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
    if (refused !== 0) return Promise.resolve(syncError(refused));
    return this.membership.sync(req);
  }

  heartbeat(req: HeartbeatRequest): number {
    const refused = this.refusal(req.groupId);
    // Kafka answers a heartbeat blindly while the group loads: the member is not to look elsewhere.
    if (refused === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) return 0;
    if (refused !== 0) return refused;
    return this.membership.heartbeat(req);
  }

  leaveGroup(req: LeaveGroupRequest): LeaveGroupResponse {
    const refused = this.refusal(req.groupId);
    if (refused !== 0) return { errorCode: refused, members: [] };
    return this.membership.leave(req);
  }

  async commitOffsets(req: OffsetCommitRequest): Promise<OffsetCommitResponse> {
    const refused = this.refusal(req.groupId);
    if (refused !== 0) return commitRefused(req, refused);
    return this.offsetsApi.commit(req);
  }

  fetchOffsets(req: OffsetFetchRequest): OffsetFetchResponse {
    const refused = this.refusal(req.groupId);
    if (refused !== 0) return { errorCode: refused, topics: [] };
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
      this.partitions.clear();
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
      refusal: (groupId) => this.refusal(groupId),
      loading: this.partitions.isLoading,
    };
  }
}
