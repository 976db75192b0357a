/**
 * Metadata and ListOffsets in cluster mode: the image → Metadata mapping on
 * its own (images built with the controller's applyEvent), then the two
 * handlers in process over a real broker given a fake ClusterView (an image
 * the test sets, a channel that applies CreateTopic to it). Also ListOffsets
 * without a cluster: a consumer's latest is the HW, a replica's or a tool's
 * (replicaId -2) the log end offset.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Broker } from '../src/broker/index.js';
import type { BrokerContext } from '../src/broker/handlers/context.js';
import { listOffsets } from '../src/broker/handlers/list-offsets.js';
import { metadata } from '../src/broker/handlers/metadata.js';
import {
  allTopicsFromImage,
  brokersFromImage,
  topicFromImage,
} from '../src/broker/handlers/metadata-from-image.js';
import {
  type ControllerEvent,
  type MetadataImage,
  applyEvent,
  emptyImage,
} from '../src/cluster/index.js';
import type { ClusterView, CreateTopicCall } from '../src/cluster/runtime/channels.js';
import { encodeBatch, patchBaseOffset } from '../src/log/index.js';
import { ErrorCode, ProtocolError } from '../src/protocol/index.js';
import { openBroker } from './broker-support.js';

const BROKERS = [0, 1, 2].map((id) => ({ id, host: `h${id}`, port: 9000 + id }));

function step(image: MetadataImage, event: ControllerEvent): MetadataImage {
  const result = applyEvent(image, event);
  if (result.error !== undefined) throw new Error(result.error.message);
  return result.image;
}

/** Brokers 0, 1, 2 live, 0 the controller. */
function started(): MetadataImage {
  return step(emptyImage(BROKERS), {
    type: 'BecomeController',
    brokerId: 0,
    controllerEpoch: 1,
    liveBrokerIds: [0, 1, 2],
  });
}

/** A topic whose partition 0 is led by the broker at `startIndex`; every partition on `rf` of the 3. */
function withTopic(image: MetadataImage, name: string, rf: number, startIndex = 0, partitions = 1) {
  return step(image, {
    type: 'CreateTopic',
    name,
    partitions,
    replicationFactor: rf,
    placement: { startIndex, replicaShift: 0 },
  });
}

describe('Metadata from the image', () => {
  it('lists the live brokers at their image addresses and the controller', () => {
    const image = step(started(), { type: 'BrokerFenced', brokerId: 2 });
    expect(brokersFromImage(image)).toEqual({
      controllerId: 0,
      brokers: [
        { nodeId: 0, host: 'h0', port: 9000, rack: null },
        { nodeId: 1, host: 'h1', port: 9001, rack: null },
      ],
    });
    expect(brokersFromImage(emptyImage(BROKERS))).toEqual({ controllerId: -1, brokers: [] });
  });

  it('gives each partition the image leader, epoch, replicas and ISR; dead replicas are offline', () => {
    let image = withTopic(started(), 't', 3, 0, 3);
    const before = image.topics.t!.partitions;
    image = step(image, { type: 'BrokerFenced', brokerId: 2 });
    const t = topicFromImage(image, 't');
    expect(t).toMatchObject({ errorCode: 0, name: 't', isInternal: false });
    expect(t.partitions).toHaveLength(3);
    t.partitions.forEach((p, i) => {
      const reg = image.topics.t!.partitions[i]!;
      expect(p).toEqual({
        errorCode: 0,
        partitionIndex: i,
        leaderId: reg.leader,
        leaderEpoch: reg.leaderEpoch,
        replicaNodes: reg.replicas,
        isrNodes: reg.isr,
        offlineReplicas: [2],
      });
      expect(p.replicaNodes).toEqual(before[i]!.replicas);
      expect(p.isrNodes).not.toContain(2);
      expect(p.leaderId).not.toBe(2);
    });
    // The partition 2 led moved, with a new epoch.
    const moved = before.findIndex((p) => p.leader === 2);
    expect(t.partitions[moved]!.leaderEpoch).toBe(before[moved]!.leaderEpoch + 1);
  });

  it('answers LEADER_NOT_AVAILABLE, leader -1, for a partition whose only replica is dead', () => {
    let image = withTopic(started(), 'lonely', 1, 2);
    expect(image.topics.lonely!.partitions[0]!.replicas).toEqual([2]);
    image = step(image, { type: 'BrokerFenced', brokerId: 2 });
    expect(topicFromImage(image, 'lonely').partitions).toEqual([
      {
        errorCode: ErrorCode.LEADER_NOT_AVAILABLE,
        partitionIndex: 0,
        leaderId: -1,
        leaderEpoch: 1,
        replicaNodes: [2],
        isrNodes: [2],
        offlineReplicas: [2],
      },
    ]);
  });

  it('answers UNKNOWN_TOPIC_OR_PARTITION for a topic the image does not hold; lists all by name', () => {
    const image = withTopic(withTopic(started(), 'b', 1), '__consumer_offsets', 1);
    expect(topicFromImage(image, 'a')).toEqual({
      errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      name: 'a',
      isInternal: false,
      partitions: [],
    });
    expect(allTopicsFromImage(image).map((t) => [t.name, t.isInternal])).toEqual([
      ['__consumer_offsets', true],
      ['b', false],
    ]);
  });
});

// #region handlers
let opened: Broker[] = [];
afterEach(async () => {
  await Promise.all(opened.map((b) => b.close()));
  opened = [];
});

/** A broker (id 0) whose handlers see `view` as their ClusterView. */
async function brokerIn(
  view: ClusterView | undefined,
): Promise<{ broker: Broker; ctx: BrokerContext }> {
  const broker = await openBroker();
  opened.push(broker);
  const ctx = Object.create(broker, { clusterView: { value: view } }) as BrokerContext;
  return { broker, ctx };
}

/** A view over an image the test replaces; createTopic applies CreateTopic (or what `onCreate` says). */
function fakeView(
  initial: MetadataImage,
  onCreate?: (call: CreateTopicCall, view: { image: MetadataImage }) => void,
) {
  const state = { image: initial, creates: [] as CreateTopicCall[] };
  const view: ClusterView = {
    image: () => state.image,
    channel: {
      createTopic: async (call) => {
        state.creates.push(call);
        if (onCreate !== undefined) return onCreate(call, state);
        const result = applyEvent(state.image, { type: 'CreateTopic', ...call });
        if (result.error !== undefined) throw new ProtocolError('INVALID_REPLICATION_FACTOR');
        state.image = result.image;
      },
      alterPartition: () => Promise.reject(new Error('not in this test')),
      deleteTopic: () => Promise.reject(new Error('not in this test')),
      alterTopicConfigs: () => Promise.reject(new Error('not in this test')),
    },
  };
  return { view, state };
}

/** `values` as a leader's batch at `baseOffset`, for appendAsFollower. */
function copied(baseOffset: number, values: string[], timestamp = 1000): Buffer {
  const bytes = encodeBatch(
    values.map((v) => ({ key: null, value: Buffer.from(v) })),
    { timestamp, partitionLeaderEpoch: 0 },
  );
  patchBaseOffset(bytes, baseOffset);
  return bytes;
}

async function latestOf(ctx: BrokerContext, topic: string, replicaId?: number, timestamp = -1) {
  const res = await listOffsets(
    ctx,
    { replicaId, topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp }] }] },
    {},
  );
  return res.topics[0]!.partitions[0]!;
}

describe('the Metadata handler in cluster mode', () => {
  it('answers from the image, not from the local data dir', async () => {
    const { view } = fakeView(withTopic(started(), 'in-image', 3, 1, 2));
    const { broker, ctx } = await brokerIn(view);
    await broker.topics.create('local-only', 1, {});
    const res = await metadata(ctx, { topics: null }, {});
    expect(res.controllerId).toBe(0);
    expect(res.brokers.map((b) => b.nodeId)).toEqual([0, 1, 2]);
    expect(res.topics.map((t) => t.name)).toEqual(['in-image']);
    expect(res.topics[0]!.partitions[0]).toMatchObject({ leaderId: 1, replicaNodes: [1, 2, 0] });
    const named = await metadata(ctx, { topics: [{ name: 'local-only' }] }, {});
    expect(named.topics[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });

  it('auto-creates a missing topic through the controller, with num.partitions and the default factor', async () => {
    const { view, state } = fakeView(started());
    const { ctx } = await brokerIn(view);
    const notAllowed = await metadata(ctx, { topics: [{ name: 'fresh' }] }, {});
    expect(notAllowed.topics[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect(state.creates).toEqual([]);
    const res = await metadata(
      ctx,
      { topics: [{ name: 'fresh' }], allowAutoTopicCreation: true },
      {},
    );
    expect(state.creates).toEqual([
      { name: 'fresh', partitions: 1, replicationFactor: 1, configs: {} },
    ]);
    expect(res.topics[0]).toMatchObject({ errorCode: 0, name: 'fresh' });
    expect(res.topics[0]!.partitions[0]!.replicaNodes).toEqual(
      state.image.topics.fresh!.partitions[0]!.replicas,
    );
  });

  it('leaves __consumer_offsets to the group coordinator', async () => {
    const { view, state } = fakeView(started());
    const { ctx: base } = await brokerIn(view);
    let ensured = 0;
    const groups = {
      requestOffsetsTopic: async () => {
        ensured++;
        state.image = withTopic(state.image, '__consumer_offsets', 1);
      },
    };
    const ctx = Object.create(base, { groups: { value: groups } }) as BrokerContext;
    const res = await metadata(
      ctx,
      { topics: [{ name: '__consumer_offsets' }], allowAutoTopicCreation: true },
      {},
    );
    expect(ensured).toBe(1);
    expect(state.creates).toEqual([]);
    expect(res.topics[0]).toMatchObject({ errorCode: 0, isInternal: true });
  });

  it('takes a creation race (TOPIC_ALREADY_EXISTS) as success, and answers other refusals per topic', async () => {
    const { view } = fakeView(started(), (call, state) => {
      state.image = withTopic(state.image, call.name, 1);
      throw new ProtocolError('TOPIC_ALREADY_EXISTS');
    });
    const { ctx } = await brokerIn(view);
    const raced = await metadata(
      ctx,
      { topics: [{ name: 'r' }], allowAutoTopicCreation: true },
      {},
    );
    expect(raced.topics[0]).toMatchObject({ errorCode: 0, name: 'r' });

    const refusing = fakeView(started(), () => {
      throw new ProtocolError('INVALID_REPLICATION_FACTOR', 'too few brokers');
    });
    const other = await brokerIn(refusing.view);
    const refused = await metadata(
      other.ctx,
      { topics: [{ name: 'x' }, { name: 'bad name!' }], allowAutoTopicCreation: true },
      {},
    );
    expect(refused.topics.map((t) => t.errorCode)).toEqual([
      ErrorCode.INVALID_REPLICATION_FACTOR,
      ErrorCode.INVALID_TOPIC_EXCEPTION,
    ]);
  });
});

describe('ListOffsets', () => {
  it('alone: a consumer gets the HW, a replica or a tool (-2) the log end offset', async () => {
    const { broker, ctx } = await brokerIn(undefined);
    await broker.topics.create('t', 1, {});
    const p = broker.topics.partition('t', 0)!;
    p.appendAsFollower(copied(0, ['a', 'b', 'c'])); // no leader HW: the HW stays 0
    expect([p.highWatermark, p.logEndOffset]).toEqual([0, 3]);
    expect((await latestOf(ctx, 't')).offset).toBe(0);
    expect((await latestOf(ctx, 't', -1)).offset).toBe(0);
    expect((await latestOf(ctx, 't', -2)).offset).toBe(3);
    expect((await latestOf(ctx, 't', 4)).offset).toBe(3);
    // A time lookup looks below the same bound.
    expect((await latestOf(ctx, 't', -1, 500)).offset).toBe(-1);
    expect(await latestOf(ctx, 't', -2, 500)).toMatchObject({ offset: 0, timestamp: 1000 });
  });

  it('in a cluster: consumers only at the leader; -2 at any replica; others NOT_LEADER_OR_FOLLOWER', async () => {
    // Broker 0 follows 'f' (led by 1), leads 'l', holds no replica of 'elsewhere'.
    let image = withTopic(started(), 'f', 3, 1);
    image = withTopic(image, 'l', 3, 0);
    image = withTopic(image, 'elsewhere', 1, 2);
    const { view } = fakeView(image);
    const { broker, ctx } = await brokerIn(view);
    for (const name of ['f', 'l', 'elsewhere', 'not-in-image']) {
      await broker.topics.create(name, 1, {});
      broker.topics.partition(name, 0)!.appendAsFollower(copied(0, ['a', 'b']));
    }
    expect(await latestOf(ctx, 'f')).toMatchObject({ errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER });
    expect(await latestOf(ctx, 'f', -2)).toMatchObject({ errorCode: 0, offset: 2 });
    expect(await latestOf(ctx, 'f', 1)).toMatchObject({ errorCode: 0, offset: 2 });
    expect(await latestOf(ctx, 'l', -1)).toMatchObject({ errorCode: 0, offset: 0 });
    expect(await latestOf(ctx, 'l', -2)).toMatchObject({ errorCode: 0, offset: 2 });
    expect(await latestOf(ctx, 'elsewhere', -2)).toMatchObject({
      errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER,
    });
    expect(await latestOf(ctx, 'not-in-image', -2)).toMatchObject({
      errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    });
  });

  it('in a cluster: a replica in the image without a local log yet is NOT_LEADER_OR_FOLLOWER', async () => {
    const { view } = fakeView(withTopic(started(), 'pending', 3, 0));
    const { ctx } = await brokerIn(view);
    expect(await latestOf(ctx, 'pending')).toMatchObject({
      errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER,
    });
  });
});
// #endregion handlers
