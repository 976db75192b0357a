/**
 * Helpers for the group coordinator in a cluster, without a cluster: a
 * coordinator in cluster mode over a TopicManager of its own, its timers on
 * a ManualScheduler, reading a metadata image the test fabricates with the
 * controller's own steps (applyEvent). Leadership is what the test says
 * through `onLeadershipChange`, as the ReplicaManager would.
 */
import { type ControllerEvent, applyEvent } from '../src/cluster/controller.js';
import { type MetadataImage, emptyImage } from '../src/cluster/metadata-image.js';
import { resolveBrokerConfig } from '../src/broker/config.js';
import {
  GroupCoordinator,
  ManualScheduler,
  OFFSETS_TOPIC,
  partitionForGroup,
} from '../src/broker/group/index.js';
import type { GroupCluster } from '../src/broker/group/cluster.js';
import {
  type GroupValue,
  groupKey,
  groupValue,
  offsetKey,
  offsetValue,
} from '../src/broker/group/records.js';
import { TopicManager } from '../src/broker/topics.js';
import { encodeBatch } from '../src/log/index.js';
import type { RequestBody } from '../src/protocol/index.js';
import { recordingLogger } from './broker-support.js';
import { tempDir } from './support/temp.js';

export const OFFSETS_PARTITIONS = 3;
export const SESSION_MS = 10_000;

/** One controller step; a refusal fails the test. */
export function step(image: MetadataImage, event: ControllerEvent): MetadataImage {
  const result = applyEvent(image, event);
  if (result.error !== undefined) throw new Error(result.error.message);
  return result.image;
}

/** A cluster of `brokers` live brokers (ids 0..n-1, host `broker-<id>`, port 9100+id) with these topics. */
export function clusterImage(
  topics: Record<string, number>,
  brokers = 2,
  replicationFactor = Math.min(2, brokers),
): MetadataImage {
  const ids = Array.from({ length: brokers }, (_, i) => i);
  let image = emptyImage(ids.map((id) => ({ id, host: `broker-${id}`, port: 9100 + id })));
  image = step(image, {
    type: 'BecomeController',
    brokerId: 0,
    controllerEpoch: 1,
    liveBrokerIds: ids,
  });
  for (const [name, partitions] of Object.entries(topics))
    image = step(image, { type: 'CreateTopic', name, partitions, replicationFactor });
  return image;
}

/** The first id `<prefix>-<n>` whose records go to offsets partition `p`. */
export function groupOn(p: number, prefix = 'group', partitions = OFFSETS_PARTITIONS): string {
  for (let n = 0; ; n++) {
    const id = `${prefix}-${n}`;
    if (partitionForGroup(id, partitions) === p) return id;
  }
}

export interface ClusterCoordinator {
  coordinator: GroupCoordinator;
  topics: TopicManager;
  scheduler: ManualScheduler;
  lines: string[];
  /** The image the coordinator reads; replace it to move the cluster on. */
  image: MetadataImage;
  close(): Promise<void>;
}

export async function openClusterCoordinator(
  o: { config?: Record<string, number> } = {},
): Promise<ClusterCoordinator> {
  const scheduler = new ManualScheduler();
  const logger = recordingLogger();
  const config = resolveBrokerConfig({
    'group.initial.rebalance.delay.ms': 0,
    'group.min.session.timeout.ms': 10,
    'offsets.topic.num.partitions': OFFSETS_PARTITIONS,
    ...o.config,
  });
  const topics = await TopicManager.open({
    dataDir: tempDir('samsa-group-cluster-'),
    config,
    logger,
    clock: () => scheduler.now(),
  });
  // This broker's replicas, as the ReplicaManager would have made them.
  await topics.create(OFFSETS_TOPIC, OFFSETS_PARTITIONS, { 'cleanup.policy': 'compact' });
  await topics.create('payments', 2, {});
  const t: ClusterCoordinator = {
    coordinator: undefined as never,
    topics,
    scheduler,
    lines: logger.lines,
    image: clusterImage({ [OFFSETS_TOPIC]: OFFSETS_PARTITIONS, payments: 2 }),
    async close() {
      await t.coordinator.shutdown();
      await topics.close();
    },
  };
  const cluster: GroupCluster = { image: () => t.image };
  t.coordinator = GroupCoordinator.open({
    topics,
    settings: config.settings,
    logger,
    scheduler,
    cluster,
  });
  return t;
}

/** Offset records appended to an offsets partition's log directly, as a follower's copy arrives. */
export function appendOffsets(
  t: ClusterCoordinator,
  p: number,
  offsets: [group: string, topic: string, partition: number, offset: number][],
): void {
  const records = offsets.map(([group, topic, partition, offset]) => ({
    key: offsetKey(group, topic, partition),
    value: offsetValue({
      offset,
      leaderEpoch: -1,
      metadata: null,
      commitTimestamp: t.scheduler.now(),
    }),
  }));
  t.topics.partition(OFFSETS_TOPIC, p)!.append(encodeBatch(records));
}

/** A group's metadata record appended to its offsets partition's log directly. */
export function appendGroup(
  t: ClusterCoordinator,
  p: number,
  group: string,
  value: GroupValue,
): void {
  t.topics
    .partition(OFFSETS_TOPIC, p)!
    .append(encodeBatch([{ key: groupKey(group), value: groupValue(value) }]));
}

/** A Stable group's record: one member `member`, generation 3, protocol range. */
export function stableGroupValue(member: string, now: number): GroupValue {
  return {
    protocolType: 'consumer',
    generation: 3,
    protocol: 'range',
    leader: member,
    currentStateTimestamp: now,
    members: [
      {
        memberId: member,
        clientId: 'app',
        clientHost: '/10.0.0.1',
        sessionTimeoutMs: SESSION_MS,
        rebalanceTimeoutMs: 30_000,
        subscription: Buffer.from('sub'),
        assignment: Buffer.from('all'),
      },
    ],
  };
}

export function joinBody(groupId: string, memberId: string): RequestBody<'JoinGroup'> {
  return {
    groupId,
    memberId,
    sessionTimeoutMs: SESSION_MS,
    rebalanceTimeoutMs: 30_000,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: Buffer.from('sub') }],
  };
}

export function commitBody(
  groupId: string,
  offsets: [topic: string, partition: number, offset: number][],
  generationId = -1,
  memberId = '',
): RequestBody<'OffsetCommit'> {
  const byTopic = new Map<string, RequestBody<'OffsetCommit'>['topics'][number]['partitions']>();
  for (const [topic, partitionIndex, committedOffset] of offsets)
    byTopic.set(topic, [
      ...(byTopic.get(topic) ?? []),
      { partitionIndex, committedOffset, committedLeaderEpoch: -1, committedMetadata: null },
    ]);
  return {
    groupId,
    generationId,
    memberId,
    topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
  };
}

/** The committed offsets of a group as [topic, partition, offset], or the group-level error code. */
export function committed(
  t: ClusterCoordinator,
  groupId: string,
): [string, number, number][] | number {
  const r = t.coordinator.fetchOffsets({ groupId, topics: null });
  if (r.errorCode !== 0) return r.errorCode;
  return r.topics.flatMap((x) =>
    x.partitions.map((p): [string, number, number] => [
      x.name,
      p.partitionIndex,
      p.committedOffset,
    ]),
  );
}

/** Lets promise callbacks (appends, parked answers) run. */
export const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
