/**
 * The admin client's consumer group calls (Kafka's AdminClient: list,
 * describe and delete groups; list and alter their committed offsets). Each
 * group request goes to the group's coordinator, found with FindCoordinator
 * and asked again when it answers NOT_COORDINATOR or is not available yet.
 *
 * Member metadata and assignments are bytes the broker never reads; for a
 * group of protocol type 'consumer' they are decoded with the consumer's own
 * decoders, so what `describeGroups` shows is what the members sent.
 */
import { ErrorCode, ProtocolError } from '../protocol/index.js';
import type { ApiName, RequestBody, ResponseBody } from '../protocol/index.js';
import type { Cluster } from './cluster.js';
import { GroupState } from '../protocol/group-state.js';
import type { Connection } from './connection.js';
import { sleep } from './errors.js';
import { decodeAssignment, decodeSubscription } from './group/consumer-protocol.js';
import { type TopicPartition, tpKey } from './list-offsets.js';

export { GroupState } from '../protocol/group-state.js';

export interface GroupListing {
  groupId: string;
  /** 'consumer' for consumer groups; '' for a group that only commits offsets. */
  protocolType: string;
  state: string;
}

export interface MemberDescription {
  memberId: string;
  clientId: string;
  /** As the coordinator saw the connection: `/127.0.0.1`. */
  host: string;
  /** The topics the member subscribed to (a consumer group's members only; else []). */
  subscription: string[];
  /** The partitions the leader assigned it (a consumer group's members only; else []). */
  assignment: TopicPartition[];
  /** The raw bytes, for other protocol types. */
  metadata: Buffer;
  assignmentBytes: Buffer;
}

export interface GroupDescription {
  groupId: string;
  state: string;
  /** -1 before the first rebalance. */
  generationId: number;
  protocolType: string;
  /** The assignor the members chose (JoinGroup's protocolName); '' when none. */
  assignor: string;
  /** The leader's member id; '' when none. */
  leader: string;
  members: MemberDescription[];
  /** Set when this group failed. */
  error?: ProtocolError;
}

export interface GroupOffset extends TopicPartition {
  /** The offset of the next record the group will read; -1: nothing committed. */
  offset: number;
  leaderEpoch: number;
  metadata: string | null;
}

export interface OffsetToCommit extends TopicPartition {
  offset: number;
  metadata?: string | null;
}

export interface GroupResult {
  groupId: string;
  error?: ProtocolError;
}

export interface PartitionResult extends TopicPartition {
  error?: ProtocolError;
}

/** How long to keep asking while the coordinator is loading or moving. */
const COORDINATOR_RETRY_MS = 10_000;
const COORDINATOR_BACKOFF_MS = 100;

const COORDINATOR_ERRORS: ReadonlySet<number> = new Set([
  ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
  ErrorCode.NOT_COORDINATOR,
]);

// #region coordinator
/** The connection to the broker that coordinates `groupId`. */
async function findCoordinator(cluster: Cluster, groupId: string): Promise<Connection> {
  const deadline = Date.now() + COORDINATOR_RETRY_MS;
  for (;;) {
    const r = await cluster.requestAny('FindCoordinator', { key: groupId, keyType: 0 });
    if (r.errorCode === ErrorCode.NONE) return cluster.connectionTo({ host: r.host, port: r.port });
    const error = ProtocolError.fromCode(r.errorCode, r.errorMessage ?? `group '${groupId}'`);
    if (!error.retriable || Date.now() > deadline) throw error;
    await sleep(COORDINATOR_BACKOFF_MS);
  }
}

/**
 * Sends a request to the group's coordinator; `codes` picks the error codes
 * of the answer, and while one of them says the coordinator is loading or
 * elsewhere, finds it again and resends.
 */
async function toCoordinator<A extends ApiName>(
  cluster: Cluster,
  groupId: string,
  api: A,
  body: RequestBody<A>,
  codes: (response: ResponseBody<A>) => readonly number[],
): Promise<ResponseBody<A>> {
  const deadline = Date.now() + COORDINATOR_RETRY_MS;
  for (;;) {
    const coordinator = await findCoordinator(cluster, groupId);
    const response = await coordinator.request(api, body);
    if (!codes(response).some((c) => COORDINATOR_ERRORS.has(c)) || Date.now() > deadline)
      return response;
    await sleep(COORDINATOR_BACKOFF_MS);
  }
}
// #endregion coordinator

// #region groups
/** Every group of every broker (ListGroups goes to each one, as Kafka's AdminClient does). */
export async function listGroups(cluster: Cluster): Promise<GroupListing[]> {
  const metadata = await cluster.fetchMetadata([]);
  const brokers =
    metadata.brokers.length > 0
      ? metadata.brokers.map((b) => cluster.connectionTo({ host: b.host, port: b.port }))
      : [undefined];
  const answers = await Promise.all(
    brokers.map((b) =>
      b === undefined
        ? cluster.requestAny('ListGroups', { statesFilter: undefined })
        : b.request('ListGroups', { statesFilter: undefined }),
    ),
  );
  const groups = new Map<string, GroupListing>();
  for (const r of answers) {
    if (r.errorCode !== ErrorCode.NONE) throw ProtocolError.fromCode(r.errorCode, 'ListGroups');
    for (const g of r.groups)
      groups.set(g.groupId, {
        groupId: g.groupId,
        protocolType: g.protocolType,
        state: g.groupState,
      });
  }
  return [...groups.values()].sort((a, b) => a.groupId.localeCompare(b.groupId));
}

export async function describeGroups(
  cluster: Cluster,
  groupIds: readonly string[],
): Promise<GroupDescription[]> {
  return Promise.all(
    groupIds.map(async (groupId) => {
      const r = await toCoordinator(
        cluster,
        groupId,
        'DescribeGroups',
        { groups: [groupId] },
        (x) => x.groups.map((g) => g.errorCode),
      );
      const g = r.groups.find((x) => x.groupId === groupId);
      if (g === undefined)
        return { ...emptyDescription(groupId), error: noAnswer(`group '${groupId}'`) };
      const consumer = g.protocolType === 'consumer';
      return {
        groupId,
        state: g.groupState,
        generationId: g.generationId,
        protocolType: g.protocolType,
        assignor: g.protocolData,
        leader: g.leader,
        members: g.members.map((m) => ({
          memberId: m.memberId,
          clientId: m.clientId,
          host: m.clientHost,
          subscription: consumer ? subscribedTopics(m.memberMetadata) : [],
          assignment: consumer ? assignedPartitions(m.memberAssignment) : [],
          metadata: m.memberMetadata,
          assignmentBytes: m.memberAssignment,
        })),
        ...errorOf(g.errorCode, `group '${groupId}'`),
      };
    }),
  );
}

/** Deletes empty groups with their committed offsets (NON_EMPTY_GROUP while a group has members). */
export async function deleteGroups(
  cluster: Cluster,
  groupIds: readonly string[],
): Promise<GroupResult[]> {
  return Promise.all(
    groupIds.map(async (groupId) => {
      const r = await toCoordinator(
        cluster,
        groupId,
        'DeleteGroups',
        { groupsNames: [groupId] },
        (x) => x.results.map((g) => g.errorCode),
      );
      const g = r.results.find((x) => x.groupId === groupId);
      if (g === undefined) return { groupId, error: noAnswer(`group '${groupId}'`) };
      return { groupId, ...errorOf(g.errorCode, `group '${groupId}'`) };
    }),
  );
}
// #endregion groups

// #region offsets
/**
 * A group's committed offsets (OffsetFetch): of the partitions given, or of
 * every partition it has committed. Sorted by topic and partition.
 */
export async function listGroupOffsets(
  cluster: Cluster,
  groupId: string,
  partitions?: readonly TopicPartition[],
): Promise<GroupOffset[]> {
  const topics = partitions === undefined ? null : byTopic(partitions, (tp) => tp.partition);
  const r = await toCoordinator(
    cluster,
    groupId,
    'OffsetFetch',
    {
      groupId,
      topics:
        topics === null
          ? null
          : [...topics].map(([name, partitionIndexes]) => ({ name, partitionIndexes })),
    },
    (x) => [x.errorCode],
  );
  if (r.errorCode !== ErrorCode.NONE)
    throw ProtocolError.fromCode(r.errorCode, `OffsetFetch for group '${groupId}'`);
  const out: GroupOffset[] = [];
  for (const t of r.topics) {
    for (const p of t.partitions) {
      const tp = { topic: t.name, partition: p.partitionIndex };
      if (p.errorCode !== ErrorCode.NONE)
        throw ProtocolError.fromCode(p.errorCode, `OffsetFetch for ${tpKey(tp)}`);
      out.push({
        ...tp,
        offset: p.committedOffset,
        leaderEpoch: p.committedLeaderEpoch,
        metadata: p.metadata,
      });
    }
  }
  return out.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
}

/**
 * Commits offsets for a group as a tool, not a member (generation -1, member
 * id ""): the coordinator allows it only while the group has no members.
 * Answers per partition.
 */
export async function alterGroupOffsets(
  cluster: Cluster,
  groupId: string,
  offsets: readonly OffsetToCommit[],
): Promise<PartitionResult[]> {
  for (const o of offsets)
    if (!Number.isSafeInteger(o.offset) || o.offset < 0)
      throw new TypeError(`an offset to commit must be an integer ≥ 0, not ${o.offset}`);
  const topics = byTopic(offsets, (o) => ({
    partitionIndex: o.partition,
    committedOffset: o.offset,
    committedLeaderEpoch: -1,
    committedMetadata: o.metadata ?? null,
  }));
  const r = await toCoordinator(
    cluster,
    groupId,
    'OffsetCommit',
    {
      groupId,
      generationId: -1,
      memberId: '',
      topics: [...topics].map(([name, partitions]) => ({ name, partitions })),
    },
    (x) => x.topics.flatMap((t) => t.partitions.map((p) => p.errorCode)),
  );
  const answers = new Map<string, number>();
  for (const t of r.topics)
    for (const p of t.partitions)
      answers.set(tpKey({ topic: t.name, partition: p.partitionIndex }), p.errorCode);
  return offsets.map((o) => {
    const tp = { topic: o.topic, partition: o.partition };
    const code = answers.get(tpKey(tp));
    if (code === undefined) return { ...tp, error: noAnswer(tpKey(tp)) };
    return { ...tp, ...errorOf(code, `committing ${tpKey(tp)} for group '${groupId}'`) };
  });
}
// #endregion offsets

// A member wrote these bytes: ones that do not decode are shown as nothing (the raw bytes stay).
function subscribedTopics(bytes: Buffer): string[] {
  if (bytes.length === 0) return [];
  try {
    return [...decodeSubscription(bytes).topics].sort();
  } catch {
    return [];
  }
}

function assignedPartitions(bytes: Buffer): TopicPartition[] {
  try {
    return decodeAssignment(bytes)
      .partitions.flatMap((t) => t.partitions.map((partition) => ({ topic: t.topic, partition })))
      .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  } catch {
    return [];
  }
}

function byTopic<T extends TopicPartition, U>(
  items: readonly T[],
  map: (t: T) => U,
): Map<string, U[]> {
  const topics = new Map<string, U[]>();
  for (const item of items) {
    let list = topics.get(item.topic);
    if (list === undefined) topics.set(item.topic, (list = []));
    list.push(map(item));
  }
  return topics;
}

function emptyDescription(groupId: string): GroupDescription {
  return {
    groupId,
    state: GroupState.DEAD,
    generationId: -1,
    protocolType: '',
    assignor: '',
    leader: '',
    members: [],
  };
}

function noAnswer(what: string): ProtocolError {
  return new ProtocolError('UNKNOWN_SERVER_ERROR', `no answer for ${what}`);
}

function errorOf(code: number, what: string): { error?: ProtocolError } {
  return code === ErrorCode.NONE ? {} : { error: ProtocolError.fromCode(code, what) };
}
