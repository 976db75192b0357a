/**
 * OffsetCommit, OffsetFetch and the expiry of old offsets.
 *
 * A commit is checked as Kafka checks it (the group's state, the member and
 * its generation; a "simple" committer with generationId -1 and memberId ""
 * only while the group is Empty or unknown), then each partition (it must
 * exist; metadata at most `offset.metadata.max.bytes` UTF-16 units, Java's
 * String.length), then written to `__consumer_offsets` as one batch, and
 * answered once the batch is in the log (in a cluster that can wait, on
 * every in-sync replica). Memory changes after the append.
 *
 * Expiry (every `offsets.retention.check.interval.ms`): the offsets of an
 * Empty group go `offsets.retention.ms` after it became empty (or after
 * their commit, when the broker has no such time); a group that only ever
 * committed (no protocol type) loses each offset that long after its commit.
 * An Empty group left with no offsets is Dead and removed. Deletions write
 * tombstones; memory changes first, as in Kafka.
 */
import type { Logger } from '../../log/index.js';
import { ErrorCode, toProtocolError } from '../../protocol/index.js';
import type {
  OffsetCommitRequest,
  OffsetCommitResponse,
  OffsetFetchRequest,
  OffsetFetchResponse,
} from '../../protocol/apis/index.js';
import type { BrokerSettings } from '../config.js';
import { Group } from './group.js';
import type { OffsetStore } from './offset-store.js';
import type { OffsetsRecordInput, OffsetsTopic } from './offsets-topic.js';
import { groupTombstone, offsetRecord } from './persistence.js';
import type { Rebalancer } from './rebalance.js';
import type { OffsetValue } from './records.js';
import type { Scheduler } from './scheduler.js';
import { GroupState } from './state.js';

const { EMPTY, PREPARING_REBALANCE, COMPLETING_REBALANCE, STABLE, DEAD } = GroupState;

export interface OffsetsContext {
  readonly groups: Map<string, Group>;
  readonly offsets: OffsetStore;
  readonly topic: OffsetsTopic;
  /** 0 when this broker coordinates the group now, else the error (leadership may move during a wait). */
  readonly refusal: (groupId: string) => number;
  /** Whether the topic partition exists (this broker's topics, or the cluster's image). */
  readonly knowsPartition: (topic: string, partition: number) => boolean;
  readonly settings: BrokerSettings;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  readonly rebalancer: Rebalancer;
}

export class GroupOffsets {
  /** Commits written but not yet in memory, per group: expiry leaves those groups alone. */
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly ctx: OffsetsContext) {}

  // #region commit
  async commit(req: OffsetCommitRequest): Promise<OffsetCommitResponse> {
    const all = (errorCode: number) => commitRefused(req, errorCode);
    if (req.groupId === '') return all(ErrorCode.INVALID_GROUP_ID);
    try {
      await this.ctx.topic.whenUsable();
    } catch (err) {
      this.ctx.logger.warn(`could not create the offsets topic: ${toProtocolError(err).message}`);
      return all(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    }
    const refused = this.ctx.refusal(req.groupId);
    if (refused !== 0) return all(refused);
    let group = this.ctx.groups.get(req.groupId);
    if (group === undefined) {
      // Not relying on the coordinator for membership: a group that only stores offsets.
      if (req.generationId >= 0) return all(ErrorCode.ILLEGAL_GENERATION);
      group = new Group(req.groupId, this.ctx.scheduler.now());
      this.ctx.groups.set(req.groupId, group);
    }
    const error = this.checkCommit(group, req);
    if (error !== 0) return all(error);
    const member = group.get(req.memberId);
    if (member !== undefined && (group.is(STABLE) || group.is(PREPARING_REBALANCE)))
      this.ctx.rebalancer.rescheduleHeartbeat(group, member);
    return this.write(group, req);
  }

  /** Kafka's `validateOffsetCommit` for a classic group: 0 when the commit may go ahead. */
  private checkCommit(group: Group, req: OffsetCommitRequest): number {
    if (group.is(DEAD)) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (req.generationId < 0 && group.is(EMPTY)) return 0;
    if (req.generationId >= 0 || req.memberId !== '') {
      if (!group.has(req.memberId)) return ErrorCode.UNKNOWN_MEMBER_ID;
      if (req.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    } else {
      return ErrorCode.UNKNOWN_MEMBER_ID; // a simple commit to a group with members
    }
    if (group.is(COMPLETING_REBALANCE)) return ErrorCode.REBALANCE_IN_PROGRESS;
    return 0;
  }

  private async write(group: Group, req: OffsetCommitRequest): Promise<OffsetCommitResponse> {
    const maxMetadata = this.ctx.settings['offset.metadata.max.bytes'];
    const commitTimestamp = this.ctx.scheduler.now();
    const codes = new Map<string, number>();
    const accepted: { topic: string; partition: number; value: OffsetValue }[] = [];
    for (const t of req.topics)
      for (const p of t.partitions) {
        const key = `${p.partitionIndex} ${t.name}`;
        if (!this.ctx.knowsPartition(t.name, p.partitionIndex))
          codes.set(key, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        else if (p.committedMetadata !== null && p.committedMetadata.length > maxMetadata)
          codes.set(key, ErrorCode.OFFSET_METADATA_TOO_LARGE);
        else
          accepted.push({
            topic: t.name,
            partition: p.partitionIndex,
            value: {
              offset: p.committedOffset,
              leaderEpoch: p.committedLeaderEpoch ?? -1,
              metadata: p.committedMetadata,
              commitTimestamp,
            },
          });
      }
    const id = group.groupId;
    const written = await this.track(id, async () => {
      try {
        const records = accepted.map((a) => offsetRecord(id, a.topic, a.partition, a.value));
        await this.ctx.topic.append(id, records);
        // A group deleted meanwhile keeps nothing (its tombstones follow this batch in the log).
        if (this.ctx.groups.get(id) === group && !group.is(DEAD))
          for (const a of accepted) this.ctx.offsets.set(id, a.topic, a.partition, a.value);
        return 0;
      } catch (err) {
        const e = toProtocolError(err);
        this.ctx.logger.warn(`group ${id}: could not write its commit: ${e.message}`);
        return commitErrorCode(e.name);
      }
    });
    for (const a of accepted) codes.set(`${a.partition} ${a.topic}`, written);
    return {
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partitionIndex,
          errorCode: codes.get(`${p.partitionIndex} ${t.name}`) ?? 0,
        })),
      })),
    };
  }

  private async track<T>(groupId: string, fn: () => Promise<T>): Promise<T> {
    this.inFlight.set(groupId, (this.inFlight.get(groupId) ?? 0) + 1);
    try {
      return await fn();
    } finally {
      const n = this.inFlight.get(groupId)! - 1;
      if (n === 0) this.inFlight.delete(groupId);
      else this.inFlight.set(groupId, n);
    }
  }
  // #endregion commit

  // #region fetch
  fetch(req: OffsetFetchRequest): OffsetFetchResponse {
    if (req.groupId === '') return { errorCode: ErrorCode.INVALID_GROUP_ID, topics: [] };
    const store = this.ctx.offsets;
    const none = { committedOffset: -1, committedLeaderEpoch: -1, metadata: null, errorCode: 0 };
    const found = (v: OffsetValue | undefined) =>
      v === undefined
        ? none
        : {
            committedOffset: v.offset,
            committedLeaderEpoch: v.leaderEpoch,
            metadata: v.metadata,
            errorCode: 0,
          };
    if (req.topics === null) {
      const byTopic = new Map<string, OffsetFetchResponse['topics'][number]['partitions']>();
      for (const o of store.all(req.groupId)) {
        let list = byTopic.get(o.topic);
        if (list === undefined) byTopic.set(o.topic, (list = []));
        list.push({ partitionIndex: o.partition, ...found(o) });
      }
      return {
        errorCode: 0,
        topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
      };
    }
    return {
      errorCode: 0,
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((partitionIndex) => ({
          partitionIndex,
          ...found(store.get(req.groupId, t.name, partitionIndex)),
        })),
      })),
    };
  }
  // #endregion fetch

  // #region expiry
  /** One expiry pass: tombstones for expired offsets and for empty groups left with none. */
  async expire(): Promise<{ offsets: number; groups: number }> {
    const now = this.ctx.scheduler.now();
    const retention = this.ctx.settings['offsets.retention.ms'];
    const writes: Promise<void>[] = [];
    let offsets = 0;
    let groups = 0;
    for (const [id, group] of [...this.ctx.groups]) {
      if (this.inFlight.has(id)) continue;
      const base = this.expiryBase(group);
      const records: OffsetsRecordInput[] = [];
      if (base !== undefined)
        for (const o of this.ctx.offsets.all(id)) {
          if (base(o) + retention > now) continue;
          this.ctx.offsets.delete(id, o.topic, o.partition);
          records.push(offsetRecord(id, o.topic, o.partition, null));
          offsets++;
        }
      if (group.is(EMPTY) && !this.ctx.offsets.has(id) && group.pendingMembers.size === 0) {
        group.transitionTo(DEAD, now);
        this.ctx.groups.delete(id);
        records.push(groupTombstone(id));
        groups++;
      }
      if (records.length > 0)
        writes.push(
          this.ctx.topic.append(id, records).catch((err: unknown) => {
            this.ctx.logger.warn(
              `group ${id}: could not write tombstones: ${toProtocolError(err).message}`,
            );
          }),
        );
    }
    await Promise.all(writes);
    if (offsets > 0 || groups > 0)
      this.ctx.logger.info(
        `removed ${offsets} expired offset(s) and ${groups} empty group(s) (offsets.retention.ms ${retention})`,
      );
    return { offsets, groups };
  }

  /** From when an offset's retention counts, or undefined when the group's offsets do not expire now. */
  private expiryBase(group: Group): ((o: OffsetValue) => number) | undefined {
    if (group.protocolType === undefined || group.protocolType === '')
      return group.is(EMPTY) ? (o) => o.commitTimestamp : undefined;
    if (!group.is(EMPTY)) return undefined;
    const since = group.currentStateTimestamp;
    return since === undefined ? (o) => o.commitTimestamp : () => since;
  }
  // #endregion expiry
}

/** Kafka's mapping of a failed write to `__consumer_offsets` onto a commit's error. */
export function commitErrorCode(appendError: string): number {
  switch (appendError) {
    case 'MESSAGE_TOO_LARGE':
    case 'RECORD_LIST_TOO_LARGE':
    case 'INVALID_FETCH_SIZE':
      return ErrorCode.INVALID_COMMIT_OFFSET_SIZE;
    case 'NOT_COORDINATOR':
    case 'NOT_LEADER_OR_FOLLOWER':
    case 'KAFKA_STORAGE_ERROR':
      return ErrorCode.NOT_COORDINATOR;
    default: // UNKNOWN_TOPIC_OR_PARTITION, NOT_ENOUGH_REPLICAS, REQUEST_TIMED_OUT, ...
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
  }
}

/** Every partition of a commit answered with `errorCode`. */
export function commitRefused(req: OffsetCommitRequest, errorCode: number): OffsetCommitResponse {
  return {
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })),
    })),
  };
}
