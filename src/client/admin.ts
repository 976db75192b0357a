/**
 * The admin client: topics (create, delete, list, describe; where their
 * replicas stand: replica-offsets.ts), configs
 * (describe, alter), offsets (list), records (delete) and consumer groups
 * (list, describe, delete; their committed offsets: list, alter; the calls
 * themselves are in admin-groups.ts). The plural methods answer per item, as
 * Kafka's AdminClient does: one topic's failure does not hide the others'
 * results. The singular ones throw the item's error.
 */
import { ConfigResourceType, ProtocolError } from '../protocol/index.js';
import * as groups from './admin-groups.js';
import type {
  GroupOffset,
  GroupDescription,
  GroupListing,
  GroupResult,
  OffsetToCommit,
  PartitionResult,
} from './admin-groups.js';
import { type ClientOptions, Cluster, type TopicMetadata } from './cluster.js';
import type { Connection } from './connection.js';
import { type TopicReplicas, describeReplicas } from './replica-offsets.js';
import {
  type ListedOffset,
  type OffsetQuery,
  type TopicPartition,
  listOffsets,
  tpKey,
} from './list-offsets.js';

export { GroupState } from './admin-groups.js';
export type {
  GroupOffset,
  GroupDescription,
  GroupListing,
  GroupResult,
  MemberDescription,
  OffsetToCommit,
  PartitionResult,
} from './admin-groups.js';
export type { PartitionReplicas, ReplicaLogEndOffset, TopicReplicas } from './replica-offsets.js';

export interface NewTopic {
  name: string;
  /** Default -1: the broker's num.partitions. */
  numPartitions?: number;
  /** Default -1: the broker's default.replication.factor. */
  replicationFactor?: number;
  /** Topic configs by Kafka's names: { 'retention.ms': '60000' }. */
  configs?: Record<string, string>;
}

export interface TopicResult {
  name: string;
  /** Set when this topic failed. */
  error?: ProtocolError;
}

export interface CreatedTopic extends TopicResult {
  numPartitions: number;
  replicationFactor: number;
}

export interface ConfigEntry {
  name: string;
  value: string | null;
  readOnly: boolean;
  isDefault: boolean;
  isSensitive: boolean;
}

export type ConfigResource = { type: 'topic' | 'broker'; name: string };

export interface DeletedRecords extends TopicPartition {
  /** The partition's new log start offset. */
  lowWatermark: number;
}

export interface AdminOptions extends ClientOptions {
  /** The timeoutMs sent with CreateTopics, DeleteTopics and DeleteRecords. Default 30000. */
  operationTimeoutMs?: number;
}

export class Admin {
  private readonly cluster: Cluster;
  private readonly timeoutMs: number;

  constructor(options: AdminOptions = {}) {
    this.cluster = new Cluster(options);
    this.timeoutMs = options.operationTimeoutMs ?? 30_000;
  }

  // #region topics
  async createTopics(topics: readonly NewTopic[], validateOnly = false): Promise<CreatedTopic[]> {
    const response = await this.cluster.requestAny('CreateTopics', {
      topics: topics.map((t) => ({
        name: t.name,
        numPartitions: t.numPartitions ?? -1,
        replicationFactor: t.replicationFactor ?? -1,
        assignments: [],
        configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
      })),
      timeoutMs: this.timeoutMs,
      validateOnly,
    });
    return response.topics.map((t) => ({
      name: t.name,
      numPartitions: t.numPartitions,
      replicationFactor: t.replicationFactor,
      ...errorOf(t.errorCode, t.errorMessage, `topic '${t.name}'`),
    }));
  }

  /** Creates one topic; throws its error (TOPIC_ALREADY_EXISTS, INVALID_CONFIG, ...). */
  async createTopic(topic: NewTopic): Promise<CreatedTopic> {
    return orThrow((await this.createTopics([topic]))[0]);
  }

  async deleteTopics(names: readonly string[]): Promise<TopicResult[]> {
    const response = await this.cluster.requestAny('DeleteTopics', {
      topics: names.map((name) => ({ name })),
      timeoutMs: this.timeoutMs,
    });
    for (const name of names) this.cluster.markStale(name);
    return response.topics.map((t) => ({
      name: t.name,
      ...errorOf(t.errorCode, t.errorMessage, `topic '${t.name}'`),
    }));
  }

  async deleteTopic(name: string): Promise<void> {
    orThrow((await this.deleteTopics([name]))[0]);
  }

  /** The names of every topic, sorted. */
  async listTopics(): Promise<string[]> {
    const response = await this.cluster.fetchMetadata(null);
    return response.topics.map((t) => t.name).sort();
  }

  /** Partitions, leaders and replicas of topics; throws the first missing topic's error. */
  async describeTopics(names: readonly string[]): Promise<TopicMetadata[]> {
    const response = await this.cluster.fetchMetadata(names);
    return names.map((name) => {
      const t = response.topics.find((x) => x.name === name);
      if (t === undefined || t.errorCode !== 0)
        throw ProtocolError.fromCode(t?.errorCode ?? 3, `topic '${name}'`);
      return {
        name,
        isInternal: t.isInternal,
        partitions: t.partitions.map((p) => ({
          partition: p.partitionIndex,
          leader: p.leaderId,
          leaderEpoch: p.leaderEpoch,
          replicas: p.replicaNodes,
          isr: p.isrNodes,
          offlineReplicas: p.offlineReplicas,
        })),
      };
    });
  }

  /**
   * `describeTopics`, and where each replica stands: the HW (from the
   * leader) and each replica's log end offset (from its own broker), for
   * seeing how far followers lag. A replica that cannot be asked within
   * `timeoutMs` (default 5000) shows as null, not as an error.
   */
  async describeReplicas(
    names: readonly string[],
    options: { timeoutMs?: number } = {},
  ): Promise<TopicReplicas[]> {
    const topics = await this.describeTopics(names);
    return describeReplicas(this.cluster, topics, options.timeoutMs ?? 5_000);
  }
  // #endregion topics

  // #region configs
  /** A resource's configs (all keys, or those named). */
  async describeConfigs(
    resource: ConfigResource,
    keys?: readonly string[],
  ): Promise<ConfigEntry[]> {
    const response = await this.cluster.requestAny('DescribeConfigs', {
      resources: [
        {
          resourceType: typeOf(resource),
          resourceName: resource.name,
          configurationKeys: keys ? [...keys] : null,
        },
      ],
    });
    const r = response.resources[0];
    if (r === undefined)
      throw new ProtocolError('UNKNOWN_SERVER_ERROR', 'DescribeConfigs gave no answer');
    orThrow(errorOf(r.errorCode, r.errorMessage, `${resource.type} '${resource.name}'`));
    return r.configs;
  }

  /** Replaces a resource's configs: keys left out return to their defaults (Kafka's AlterConfigs). */
  async alterConfigs(
    resource: ConfigResource,
    configs: Record<string, string | null>,
    validateOnly = false,
  ): Promise<void> {
    const response = await this.cluster.requestAny('AlterConfigs', {
      resources: [
        {
          resourceType: typeOf(resource),
          resourceName: resource.name,
          configs: Object.entries(configs).map(([name, value]) => ({ name, value })),
        },
      ],
      validateOnly,
    });
    const r = response.resources[0];
    if (r === undefined)
      throw new ProtocolError('UNKNOWN_SERVER_ERROR', 'AlterConfigs gave no answer');
    orThrow(errorOf(r.errorCode, r.errorMessage, `${resource.type} '${resource.name}'`));
  }
  // #endregion configs

  // #region offsets
  /** Earliest, latest, or by-time offsets of partitions (default: every partition of `topic`). */
  async listOffsets(
    topic: string,
    query: OffsetQuery,
    partitions?: readonly number[],
  ): Promise<ListedOffset[]> {
    const metadata = await this.cluster.topic(topic);
    const list = partitions ?? metadata.partitions.map((p) => p.partition);
    return listOffsets(
      this.cluster,
      list.map((partition) => ({ topic, partition })),
      query,
      { retryForMs: this.timeoutMs }, // through a leader election, as Kafka's admin retries
    );
  }

  /** Moves each partition's log start offset to `offset` (-1: the high watermark): the records before go. */
  async deleteRecords(
    targets: readonly (TopicPartition & { offset: number })[],
  ): Promise<DeletedRecords[]> {
    const byLeader = new Map<
      Connection,
      Map<string, { partitionIndex: number; offset: number }[]>
    >();
    for (const t of targets) {
      const leader = await this.cluster.leaderFor(t.topic, t.partition);
      let topics = byLeader.get(leader);
      if (topics === undefined) byLeader.set(leader, (topics = new Map()));
      let list = topics.get(t.topic);
      if (list === undefined) topics.set(t.topic, (list = []));
      list.push({ partitionIndex: t.partition, offset: t.offset });
    }
    const found = new Map<string, DeletedRecords>();
    const responses = await Promise.all(
      [...byLeader].map(([leader, topics]) =>
        leader.request('DeleteRecords', {
          topics: [...topics].map(([name, partitions]) => ({ name, partitions })),
          timeoutMs: this.timeoutMs,
        }),
      ),
    );
    for (const response of responses) {
      for (const t of response.topics) {
        for (const p of t.partitions) {
          const tp = { topic: t.name, partition: p.partitionIndex };
          orThrow(errorOf(p.errorCode, null, `DeleteRecords for ${tpKey(tp)}`));
          found.set(tpKey(tp), { ...tp, lowWatermark: p.lowWatermark });
        }
      }
    }
    return targets.map((t) => {
      const deleted = found.get(tpKey(t));
      if (deleted === undefined)
        throw new ProtocolError('UNKNOWN_SERVER_ERROR', `no answer for ${tpKey(t)}`);
      return deleted;
    });
  }
  // #endregion offsets

  // #region groups
  /** Every consumer group the brokers coordinate, with its state, sorted by id. */
  listGroups(): Promise<GroupListing[]> {
    return groups.listGroups(this.cluster);
  }

  /** State, generation, assignor and members (with their decoded subscriptions and partitions) of groups. */
  describeGroups(groupIds: readonly string[]): Promise<GroupDescription[]> {
    return groups.describeGroups(this.cluster, checkIds(groupIds));
  }

  /** Deletes empty groups and their committed offsets; per group, NON_EMPTY_GROUP or GROUP_ID_NOT_FOUND. */
  deleteGroups(groupIds: readonly string[]): Promise<GroupResult[]> {
    return groups.deleteGroups(this.cluster, checkIds(groupIds));
  }

  /** A group's committed offsets: of `partitions`, or of every partition it committed (offset -1: none). */
  listGroupOffsets(
    groupId: string,
    partitions?: readonly TopicPartition[],
  ): Promise<GroupOffset[]> {
    return groups.listGroupOffsets(this.cluster, checkIds([groupId])[0]!, partitions);
  }

  /**
   * Sets a group's committed offsets from outside the group (generation -1,
   * member id ""), as kafka-consumer-groups --reset-offsets does: the
   * coordinator refuses it while the group has members. Answers per partition.
   */
  alterGroupOffsets(
    groupId: string,
    offsets: readonly OffsetToCommit[],
  ): Promise<PartitionResult[]> {
    return groups.alterGroupOffsets(this.cluster, checkIds([groupId])[0]!, offsets);
  }
  // #endregion groups

  async close(): Promise<void> {
    await this.cluster.close();
  }
}

function checkIds(groupIds: readonly string[]): readonly string[] {
  for (const id of groupIds)
    if (typeof id !== 'string' || id === '')
      throw new TypeError('a group id must be a non-empty string');
  return groupIds;
}

function typeOf(resource: ConfigResource) {
  return resource.type === 'topic' ? ConfigResourceType.TOPIC : ConfigResourceType.BROKER;
}

function errorOf(code: number, message: string | null, what: string): { error?: ProtocolError } {
  if (code === 0) return {};
  return { error: ProtocolError.fromCode(code, message ?? what) };
}

function orThrow<T extends { error?: ProtocolError }>(result: T | undefined): T {
  if (result === undefined)
    throw new ProtocolError('UNKNOWN_SERVER_ERROR', 'no answer for the item');
  if (result.error !== undefined) throw result.error;
  return result;
}
