/**
 * Three real brokers on real ports (startBroker with --cluster strings and
 * short heartbeats): they share one cluster.id, agree on one metadata image,
 * and take CreateTopics, AlterConfigs and DeleteTopics through any broker,
 * each answered once the answering broker applied the change. A closed
 * broker is fenced and its leaderships move; started again, it is unfenced
 * and every broker agrees again. AlterPartition is answered NOT_CONTROLLER
 * by a broker that is not the controller.
 */
import { afterEach, expect, it } from 'vitest';
import {
  Broker,
  InconsistentClusterIdError,
  type RunningBroker,
  startBroker,
} from '../src/broker/index.js';
import { type MetadataImage, allPartitions, parseClusterBrokers } from '../src/cluster/index.js';
import { CLUSTER_METADATA_FILE, clusterIdFor } from '../src/cluster/runtime/index.js';
import { tempDir } from './support/temp.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePorts, until } from './support/ports.js';

const CONFIG = {
  'broker.heartbeat.interval.ms': 100,
  'broker.session.timeout.ms': 1_000,
  'request.timeout.ms': 10_000,
};

let brokers: (RunningBroker | undefined)[] = [];
afterEach(async () => {
  await Promise.all(brokers.map((b) => b?.close()));
  brokers = [];
});

const imageOf = (b: RunningBroker | undefined) => b!.broker.clusterView!.image();
const live = (image: MetadataImage) => image.brokers.filter((b) => b.live).map((b) => b.id);

/** The image every running broker holds, once they all hold the same one and it passes `check`. */
function agreed(check: (image: MetadataImage) => boolean) {
  return () => {
    const images = brokers.flatMap((b) => (b === undefined ? [] : [imageOf(b)]));
    const first = images[0]!;
    const same = images.every(
      (i) =>
        i.controllerEpoch === first.controllerEpoch && i.metadataOffset === first.metadataOffset,
    );
    return same && check(first) ? first : undefined;
  };
}

it('three brokers share a cluster id and one image; topics go through any broker; a dead broker is fenced, and unfenced when back', async () => {
  const ports = await freePorts(3);
  const cluster = ports.map((port, i) => `${i + 1}@127.0.0.1:${port}`).join(',');
  const dirs = [1, 2, 3].map((id) => tempDir(`samsa-sync-${id}-`));
  const start = (id: number) =>
    startBroker({
      brokerId: id,
      cluster,
      dataDir: dirs[id - 1],
      config: CONFIG,
      logLevel: 'error',
    });
  brokers = await Promise.all([1, 2, 3].map(start));

  const clusterId = clusterIdFor(parseClusterBrokers(cluster));
  expect(brokers.map((b) => b!.broker.meta.clusterId)).toEqual([clusterId, clusterId, clusterId]);

  const first = await until(
    'one image with every broker live',
    agreed((i) => live(i).length === 3),
  );
  expect(first).toMatchObject({ controllerId: 1 });

  // CreateTopics at broker 3, not the controller: answered once broker 3 applied the topic.
  const created = await brokers[2]!.broker.call('CreateTopics', {
    topics: [
      { name: 'orders', numPartitions: 3, replicationFactor: 3, assignments: [], configs: [] },
    ],
    timeoutMs: 10_000,
  });
  expect(created.topics).toEqual([
    { name: 'orders', errorCode: 0, errorMessage: null, numPartitions: 3, replicationFactor: 3 },
  ]);
  expect(imageOf(brokers[2]).topics.orders!.partitions).toHaveLength(3);
  const withTopic = await until(
    'every broker holding orders',
    agreed((i) => 'orders' in i.topics),
  );
  for (const { registration: p } of allPartitions(withTopic)) expect(p.replicas).toHaveLength(3);

  // replicationFactor -1 is default.replication.factor (1); a factor above the brokers is refused.
  const more = await brokers[1]!.broker.call('CreateTopics', {
    topics: [
      { name: 'one-copy', numPartitions: -1, replicationFactor: -1, assignments: [], configs: [] },
      { name: 'too-many', numPartitions: 1, replicationFactor: 4, assignments: [], configs: [] },
      { name: 'orders', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
    ],
    timeoutMs: 10_000,
  });
  expect(more.topics.map((t) => [t.name, t.errorCode, t.replicationFactor])).toEqual([
    ['one-copy', 0, 1],
    ['too-many', 38, -1], // INVALID_REPLICATION_FACTOR
    ['orders', 36, -1], // TOPIC_ALREADY_EXISTS
  ]);

  // AlterConfigs at broker 2 replaces the topic's set; a bad log config is refused before.
  const altered = await brokers[1]!.broker.call('AlterConfigs', {
    resources: [
      {
        resourceType: 2,
        resourceName: 'orders',
        configs: [
          { name: 'min.insync.replicas', value: '2' },
          { name: 'retention.ms', value: '60000' },
        ],
      },
      {
        resourceType: 2,
        resourceName: 'one-copy',
        configs: [{ name: 'retention.ms', value: 'soon' }],
      },
    ],
  });
  expect(altered.resources.map((r) => r.errorCode)).toEqual([0, 40]);
  expect(imageOf(brokers[1]).topics.orders!.configs).toEqual({
    'min.insync.replicas': '2',
    'retention.ms': '60000',
  });

  // DeleteTopics at broker 3.
  const deleted = await brokers[2]!.broker.call('DeleteTopics', {
    topics: [{ name: 'one-copy' }, { name: 'never-was' }],
    timeoutMs: 10_000,
  });
  expect(deleted.topics.map((t) => t.errorCode)).toEqual([0, 3]);
  expect('one-copy' in imageOf(brokers[2]).topics).toBe(false);

  // A client may not create __consumer_offsets; a broker's channel (its group coordinator) may.
  const internal = await brokers[2]!.broker.call('CreateTopics', {
    topics: [
      {
        name: '__consumer_offsets',
        numPartitions: 1,
        replicationFactor: 1,
        assignments: [],
        configs: [],
      },
    ],
    timeoutMs: 10_000,
  });
  expect(internal.topics[0]!.errorCode).toBe(42);
  await brokers[2]!.broker.clusterView!.channel.createTopic({
    name: '__consumer_offsets',
    partitions: 2,
    replicationFactor: 3,
    configs: { 'cleanup.policy': 'compact' },
  });
  expect(imageOf(brokers[2]).topics.__consumer_offsets!.partitions).toHaveLength(2);

  // AlterPartition goes to the controller only.
  const refused = await brokers[1]!.broker.call('AlterPartition', {
    brokerId: 2,
    topics: [
      {
        name: 'orders',
        partitions: [{ partitionIndex: 0, leaderEpoch: 0, partitionEpoch: 0, newIsr: [2] }],
      },
    ],
  });
  expect(refused).toEqual({ errorCode: 41, topics: [] });

  // Broker 3 stops: it is fenced, and leads nothing, nor is in any ISR.
  const ledBy3 = [...allPartitions(imageOf(brokers[0]))].filter((p) => p.registration.leader === 3);
  await brokers[2]!.close();
  brokers[2] = undefined;
  const fenced = await until(
    'broker 3 fenced',
    agreed((i) => live(i).join() === '1,2'),
  );
  for (const { registration: p } of allPartitions(fenced)) {
    expect([1, 2]).toContain(p.leader);
    expect(p.isr).not.toContain(3);
  }
  for (const { topic, partition } of ledBy3)
    expect(fenced.topics[topic]!.partitions[partition]!.leaderEpoch).toBe(1);

  // Back, with the image it had persisted; unfenced once it holds the current one.
  expect(existsSync(join(dirs[2]!, CLUSTER_METADATA_FILE))).toBe(true);
  brokers[2] = await start(3);
  const back = await until(
    'broker 3 unfenced',
    agreed((i) => live(i).length === 3),
  );
  expect(back.controllerId).toBe(1);
  expect(back.metadataOffset).toBeGreaterThan(fenced.metadataOffset);
  expect(Object.keys(back.topics).sort()).toEqual(['__consumer_offsets', 'orders']);
}, 60_000);

it('a data dir written without --cluster, or for another list, is refused', async () => {
  const dataDir = tempDir('samsa-sync-id-');
  const [port] = await freePorts(1);
  await (await startBroker({ dataDir, brokerId: 1, logLevel: 'error' })).close();
  await expect(
    startBroker({ dataDir, brokerId: 1, cluster: `1@127.0.0.1:${port}`, logLevel: 'error' }),
  ).rejects.toBeInstanceOf(InconsistentClusterIdError);
});

it('a broker hands each image it applies to its ImageListener, in order, and closes it after the last', async () => {
  const [port] = await freePorts(1);
  const calls: [number, number][] = [];
  let closedAfter: number | undefined;
  let sawView = false;
  const broker = await Broker.open({
    dataDir: tempDir('samsa-sync-listener-'),
    brokerId: 1,
    cluster: `1@127.0.0.1:${port}`, // a cluster of one: it is its own controller
    config: CONFIG,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    imageListener: (b) => {
      sawView = b.clusterView !== undefined;
      return {
        applyImage: async (before, after) => {
          calls.push([before.metadataOffset, after.metadataOffset]);
        },
        close: () => {
          closedAfter = calls.length;
        },
      };
    },
  });
  expect(sawView).toBe(true);
  const created = await broker.call('CreateTopics', {
    topics: [{ name: 't', numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 10_000,
  });
  expect(created.topics[0]!.errorCode).toBe(0);
  expect(calls).toEqual([
    [0, 1], // BecomeController
    [1, 2], // CreateTopic
  ]);
  await broker.close();
  expect(closedAfter).toBe(2);
});

it('a broker restarted within its session is fenced as Kafka fences a re-registration: its leaderships move to a new epoch, then it is unfenced', async () => {
  const ports = await freePorts(3);
  const cluster = ports.map((port, i) => `${i + 1}@127.0.0.1:${port}`).join(',');
  const dirs = [1, 2, 3].map((id) => tempDir(`samsa-restart-${id}-`));
  // A long session: nobody's heartbeats run out while a broker restarts.
  const config = { ...CONFIG, 'broker.session.timeout.ms': 30_000 };
  // A drain timeout longer than the test's: a close must end with its peers' connections.
  const start = (id: number) =>
    startBroker({
      brokerId: id,
      cluster,
      dataDir: dirs[id - 1],
      config,
      logLevel: 'error',
      drainTimeoutMs: 600_000,
    });
  brokers = await Promise.all([1, 2, 3].map(start));
  await until(
    'every broker live',
    agreed((i) => live(i).length === 3),
  );
  await brokers[1]!.broker.clusterView!.channel.createTopic({
    name: 'orders',
    partitions: 3,
    replicationFactor: 3,
    configs: {},
  });
  for (const id of [3, 1]) {
    // 3 is a peer of the controller; 1 is the controller itself.
    const before = await until(
      'the topic everywhere',
      agreed((i) => 'orders' in i.topics),
    );
    const led = before.topics.orders!.partitions.flatMap((p, i) => (p.leader === id ? [i] : []));
    expect(led.length).toBeGreaterThan(0);
    await brokers[id - 1]!.close();
    brokers[id - 1] = await start(id);
    const after = await until(
      `broker ${id}'s leaderships moved and broker ${id} unfenced`,
      agreed((i) => {
        const moved = led.every((p) => {
          const r = i.topics.orders!.partitions[p]!;
          return (
            r.leader !== id && r.leaderEpoch > before.topics.orders!.partitions[p]!.leaderEpoch
          );
        });
        return moved && live(i).length === 3;
      }),
      30_000,
    );
    expect(after.controllerId).toBe(1);
  }
}, 90_000);
