/**
 * FindCoordinator in a cluster: the leader of the group's
 * `__consumer_offsets` partition in the image this broker applied, with its
 * host and port; COORDINATOR_NOT_AVAILABLE while the partition has no live
 * leader, and while the topic does not exist, when the controller is asked
 * (once at a time) to create it with the offsets settings.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { CreateTopicCall, ControllerChannel } from '../src/cluster/runtime/channels.js';
import type { MetadataImage } from '../src/cluster/metadata-image.js';
import { OFFSETS_TOPIC, partitionForGroup } from '../src/broker/group/index.js';
import { lookUpCoordinator, offsetsTopicCreation } from '../src/broker/group/cluster.js';
import type { BrokerContext } from '../src/broker/handlers/context.js';
import { findCoordinator } from '../src/broker/handlers/groups-admin.js';
import { resolveBrokerConfig } from '../src/broker/config.js';
import { ErrorCode, ProtocolError } from '../src/protocol/index.js';
import {
  type ClusterCoordinator,
  OFFSETS_PARTITIONS,
  clusterImage,
  groupOn,
  openClusterCoordinator,
  settle,
  step,
} from './group-cluster-support.js';

let t: ClusterCoordinator | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

interface FakeController {
  calls: CreateTopicCall[];
  /** How the next createTopic calls end: resolve, or reject with this. */
  outcome: () => Promise<void>;
}

/** What the handler sees of a broker in a cluster: the coordinator and a view of a fabricated image. */
function brokerIn(t: ClusterCoordinator, controller: FakeController): BrokerContext {
  const channel: Partial<ControllerChannel> = {
    createTopic: (call) => {
      controller.calls.push(call);
      return controller.outcome();
    },
  };
  return {
    groups: t.coordinator,
    clusterView: { image: () => t.image, channel: channel as ControllerChannel },
  } as unknown as BrokerContext;
}

const ask = (broker: BrokerContext, key: string) =>
  findCoordinator(broker, { key, keyType: 0 }, {}) as Promise<{
    errorCode: number;
    errorMessage: string | null;
    nodeId: number;
    host: string;
    port: number;
  }>;

describe('FindCoordinator in a cluster', () => {
  it("names the leader of the group's offsets partition, from the image", async () => {
    t = await openClusterCoordinator();
    const broker = brokerIn(t, { calls: [], outcome: () => Promise.resolve() });
    const partitions = t.image.topics[OFFSETS_TOPIC]!.partitions;
    for (let p = 0; p < OFFSETS_PARTITIONS; p++) {
      const group = groupOn(p);
      const leader = partitions[p]!.leader;
      expect(await ask(broker, group)).toEqual({
        errorCode: 0,
        errorMessage: null,
        nodeId: leader,
        host: `broker-${leader}`,
        port: 9100 + leader,
      });
    }
    // Both brokers coordinate some group: the leaders are spread.
    expect(new Set(partitions.map((p) => p.leader))).toEqual(new Set([0, 1]));
  });

  it('follows the leader when it moves, and is not available while there is none', async () => {
    t = await openClusterCoordinator();
    const broker = brokerIn(t, { calls: [], outcome: () => Promise.resolve() });
    const group = groupOn(0);
    const first = t.image.topics[OFFSETS_TOPIC]!.partitions[0]!.leader;
    const other = 1 - first;
    t.image = step(t.image, { type: 'BrokerFenced', brokerId: first });
    expect(await ask(broker, group)).toMatchObject({ errorCode: 0, nodeId: other });
    t.image = step(t.image, { type: 'BrokerFenced', brokerId: other });
    expect(await ask(broker, group)).toMatchObject({
      errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE,
      errorMessage: `${OFFSETS_TOPIC}-0 has no live leader`,
      nodeId: -1,
      host: '',
      port: -1,
    });
  });

  it('asks the controller to create the topic while it does not exist, once at a time', async () => {
    t = await openClusterCoordinator();
    t.image = clusterImage({ payments: 2 });
    let release = () => {};
    const controller: FakeController = {
      calls: [],
      outcome: () => new Promise<void>((resolve) => (release = resolve)),
    };
    const broker = brokerIn(t, controller);
    const answers = await Promise.all([ask(broker, 'billing'), ask(broker, 'audit')]);
    for (const a of answers)
      expect(a).toMatchObject({ errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, nodeId: -1 });
    expect(controller.calls).toEqual([
      {
        name: OFFSETS_TOPIC,
        partitions: OFFSETS_PARTITIONS,
        replicationFactor: 2, // Kafka's 3, capped at the two brokers
        configs: { 'cleanup.policy': 'compact', 'segment.bytes': String(100 * 1024 * 1024) },
      },
    ]);
    release();
    await settle();
    // The controller made it: the next question is answered from the new image.
    t.image = step(t.image, {
      type: 'CreateTopic',
      name: OFFSETS_TOPIC,
      partitions: OFFSETS_PARTITIONS,
      replicationFactor: 2,
    });
    expect((await ask(broker, 'billing')).errorCode).toBe(0);
    expect(controller.calls).toHaveLength(1);
  });

  it('takes a topic another broker created first quietly, and logs any other refusal', async () => {
    t = await openClusterCoordinator();
    t.image = clusterImage({});
    const refusals = [
      new ProtocolError('TOPIC_ALREADY_EXISTS'),
      new ProtocolError('INVALID_REPLICATION_FACTOR', 'only 1 live broker'),
    ];
    const controller: FakeController = {
      calls: [],
      outcome: () => Promise.reject(refusals.shift()!),
    };
    const broker = brokerIn(t, controller);
    await ask(broker, 'billing');
    await settle();
    expect(t.lines.filter((l) => l.startsWith('warn'))).toEqual([]);
    await ask(broker, 'billing');
    await settle();
    expect(t.lines.filter((l) => l.startsWith('warn'))).toEqual([
      `warn could not create ${OFFSETS_TOPIC}: INVALID_REPLICATION_FACTOR (only 1 live broker)`,
    ]);
    expect(controller.calls).toHaveLength(2);
  });
});

describe('the rule', () => {
  const image = (brokers: number): MetadataImage =>
    clusterImage({ [OFFSETS_TOPIC]: 5 }, brokers, Math.min(3, brokers));

  it('maps a group to its partition as Kafka does', () => {
    const found = lookUpCoordinator(image(3), 'billing');
    expect(found).toMatchObject({ found: true, partition: partitionForGroup('billing', 5) });
  });

  it("uses offsets.topic.replication.factor when the broker has it, capped at the cluster's brokers", () => {
    const settings = resolveBrokerConfig({}).settings;
    const configs = { 'cleanup.policy': 'compact' };
    expect(offsetsTopicCreation(settings, image(5), configs).replicationFactor).toBe(3);
    expect(offsetsTopicCreation(settings, image(1), configs).replicationFactor).toBe(1);
    const one = { ...settings, 'offsets.topic.replication.factor': 1 };
    expect(offsetsTopicCreation(one, image(5), configs)).toEqual({
      name: OFFSETS_TOPIC,
      partitions: 50,
      replicationFactor: 1,
      configs,
    });
  });
});
