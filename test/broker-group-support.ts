/**
 * Helpers for the group coordinator tests: an in-process broker whose group
 * timers run on a ManualScheduler, and request bodies with sensible defaults.
 */
import { Broker, ManualScheduler } from '../src/broker/index.js';
import type { BrokerConfigInput } from '../src/broker/index.js';
import type { RequestBody, ResponseBody } from '../src/protocol/index.js';
import { quiet, recordingLogger } from './broker-support.js';
import { tempDir } from './support/temp.js';

export const SESSION_MS = 10_000;
export const REBALANCE_MS = 30_000;

export interface GroupTestBroker {
  broker: Broker;
  scheduler: ManualScheduler;
  dataDir: string;
  lines: string[];
}

export async function openGroupBroker(
  o: { config?: BrokerConfigInput; dataDir?: string; scheduler?: ManualScheduler } = {},
): Promise<GroupTestBroker> {
  const scheduler = o.scheduler ?? new ManualScheduler();
  const dataDir = o.dataDir ?? tempDir('samsa-group-');
  const logger = recordingLogger();
  const broker = await Broker.open({
    dataDir,
    logger,
    scheduler,
    config: {
      'group.initial.rebalance.delay.ms': 0,
      'group.min.session.timeout.ms': 10,
      'offsets.topic.num.partitions': 3,
      ...o.config,
    },
  });
  // Created up front, so a JoinGroup reaches the coordinator within one turn of the event loop.
  await broker.groups.ensureTopic();
  return { broker, scheduler, dataDir, lines: logger.lines };
}

/** Moves the group clock forward in steps, the given members heartbeating after each. */
export async function advanceWithHeartbeats(
  t: GroupTestBroker,
  ms: number,
  step: number,
  groupId: string,
  members: { memberId: string; generationId: number }[],
): Promise<number[]> {
  let codes: number[] = [];
  for (let done = 0; done < ms; done += step) {
    t.scheduler.advance(Math.min(step, ms - done));
    codes = [];
    for (const m of members)
      codes.push(await heartbeat(t.broker, groupId, m.generationId, m.memberId));
  }
  return codes;
}

export { quiet };

/** Lets promise callbacks (appends, parked answers) run. */
export const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

export function joinBody(
  groupId: string,
  memberId: string,
  o: {
    protocols?: { name: string; metadata: Buffer }[];
    protocolType?: string;
    sessionTimeoutMs?: number;
    rebalanceTimeoutMs?: number;
  } = {},
): RequestBody<'JoinGroup'> {
  return {
    groupId,
    memberId,
    sessionTimeoutMs: o.sessionTimeoutMs ?? SESSION_MS,
    rebalanceTimeoutMs: o.rebalanceTimeoutMs ?? REBALANCE_MS,
    protocolType: o.protocolType ?? 'consumer',
    protocols: o.protocols ?? [{ name: 'range', metadata: Buffer.from('sub') }],
  };
}

/** JoinGroup in the broker's way for a client id, with the MEMBER_ID_REQUIRED round trip done. */
export async function newMemberId(
  broker: Broker,
  groupId: string,
  clientId = 'app',
  o: Parameters<typeof joinBody>[2] = {},
): Promise<string> {
  const first = await broker.groups.joinGroup(joinBody(groupId, '', o), {
    clientId,
    clientHost: '',
  });
  if (first.errorCode !== 79)
    throw new Error(`expected MEMBER_ID_REQUIRED, got ${first.errorCode}`);
  return first.memberId;
}

export function join(
  broker: Broker,
  groupId: string,
  memberId: string,
  o: Parameters<typeof joinBody>[2] = {},
): Promise<ResponseBody<'JoinGroup'>> {
  return broker.call('JoinGroup', joinBody(groupId, memberId, o));
}

export function sync(
  broker: Broker,
  groupId: string,
  generationId: number,
  memberId: string,
  assignments: { memberId: string; assignment: Buffer }[] = [],
): Promise<ResponseBody<'SyncGroup'>> {
  return broker.call('SyncGroup', {
    groupId,
    generationId,
    memberId,
    protocolType: null,
    protocolName: null,
    assignments,
  });
}

export async function heartbeat(
  broker: Broker,
  groupId: string,
  generationId: number,
  memberId: string,
): Promise<number> {
  return (await broker.call('Heartbeat', { groupId, generationId, memberId })).errorCode;
}

export function commitBody(
  groupId: string,
  generationId: number,
  memberId: string,
  offsets: [topic: string, partition: number, offset: number, metadata?: string | null][],
): RequestBody<'OffsetCommit'> {
  const byTopic = new Map<string, RequestBody<'OffsetCommit'>['topics'][number]['partitions']>();
  for (const [topic, partitionIndex, committedOffset, metadata] of offsets) {
    const list = byTopic.get(topic) ?? [];
    list.push({
      partitionIndex,
      committedOffset,
      committedLeaderEpoch: -1,
      committedMetadata: metadata ?? null,
    });
    byTopic.set(topic, list);
  }
  return {
    groupId,
    generationId,
    memberId,
    topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
  };
}

/** A member alone in a fresh group, Stable at generation 1 (or the next generation). */
export async function stableSingle(
  broker: Broker,
  groupId: string,
  clientId = 'app',
  o: Parameters<typeof joinBody>[2] = {},
) {
  const memberId = await newMemberId(broker, groupId, clientId, o);
  const joined = await join(broker, groupId, memberId, o);
  if (joined.errorCode !== 0) throw new Error(`join failed: ${joined.errorCode}`);
  const synced = await sync(broker, groupId, joined.generationId, memberId, [
    { memberId, assignment: Buffer.from('all') },
  ]);
  if (synced.errorCode !== 0) throw new Error(`sync failed: ${synced.errorCode}`);
  return { memberId, generationId: joined.generationId };
}

/** A group broker with one topic to commit offsets for. */
export async function withTopic(
  name = 'payments',
  partitions = 3,
  o: Parameters<typeof openGroupBroker>[0] = {},
) {
  const t = await openGroupBroker(o);
  await t.broker.call('CreateTopics', {
    topics: [
      { name, numPartitions: partitions, replicationFactor: -1, assignments: [], configs: [] },
    ],
    timeoutMs: 1000,
    validateOnly: false,
  });
  return t;
}

export async function fetchOffsets(
  broker: Broker,
  groupId: string,
  topics: { name: string; partitionIndexes: number[] }[] | null,
) {
  return broker.call('OffsetFetch', { groupId, topics });
}
