/**
 * The controller at run time (src/cluster/runtime/): three brokers' runtimes
 * wired in memory on one ManualScheduler. The controller pushes every image
 * to every live broker; a peer is unfenced only once it has acknowledged the
 * current image; a dead broker is fenced and its leaderships move; a broker
 * coming back as the lowest id takes over from its peers' newer image; a
 * leader's AlterPartition is forwarded to the controller; a call that finds
 * no controller ends REQUEST_TIMED_OUT.
 */
import { afterEach, expect, it } from 'vitest';
import { HANDLERS } from '../src/broker/handlers/index.js';
import { type MetadataImage, NO_LEADER, allPartitions } from '../src/cluster/index.js';
import {
  INTERVAL,
  SESSION,
  contextOf,
  memoryRuntimes,
  recorder,
  unfencedAt,
} from './cluster-sync-support.js';

let cluster: ReturnType<typeof memoryRuntimes> | undefined;
afterEach(async () => {
  await cluster?.closeAll();
  cluster = undefined;
});

async function started(): Promise<ReturnType<typeof memoryRuntimes>> {
  const c = memoryRuntimes();
  cluster = c;
  for (const id of [1, 2, 3]) c.up(id);
  await c.advance(3 * INTERVAL);
  return c;
}

const live = (image: MetadataImage) => image.brokers.filter((b) => b.live).map((b) => b.id);

/**
 * Broker `peer` saved the image just before the one that unfenced it, before
 * the controller saved that one: it had acknowledged the current image.
 */
function expectAcknowledgedBeforeUnfenced(
  c: ReturnType<typeof memoryRuntimes>,
  controller: number,
  peer: number,
  fromOffset = 0,
) {
  const unfencing = unfencedAt(c.stores.get(controller)!.saved, peer, fromOffset)!;
  expect(unfencing).toBeDefined();
  const { controllerEpoch: e, metadataOffset: k } = unfencing;
  const acked = c.saves.indexOf(`${peer} saved ${e}:${k - 1}`);
  const made = c.saves.indexOf(`${controller} saved ${e}:${k}`);
  expect(acked).toBeGreaterThanOrEqual(0);
  expect(acked).toBeLessThan(made);
}

it('three brokers agree on one image; each peer is unfenced only after it acknowledged the image before', async () => {
  const c = await started();
  expect(c.agreed()).toBe(true);
  for (const image of c.images())
    expect(image).toMatchObject({ controllerId: 1, controllerEpoch: 1 });
  expect(live(c.get(3).image())).toEqual([1, 2, 3]);
  // BecomeController found an empty image: only the controller itself was live in it.
  expect(c.stores.get(1)!.saved[0]).toMatchObject({ metadataOffset: 1 });
  expect(live(c.stores.get(1)!.saved[0]!)).toEqual([1]);
  expectAcknowledgedBeforeUnfenced(c, 1, 2);
  expectAcknowledgedBeforeUnfenced(c, 1, 3);
  expect(c.logs.get(1)).toEqual(
    expect.arrayContaining([
      'broker 1 acts as the controller from its own image (epoch 0, offset 0): 0 topic(s), brokers 1 live; 2, 3 unfenced once they acknowledge',
      expect.stringMatching(
        /^broker 2 holds the current image \(epoch 1, offset \d+\): unfencing it$/,
      ),
    ]),
  );
  // Heartbeats now carry the image's offset.
  const offset = c.get(1).image().metadataOffset;
  expect(
    c.get(2).node.receiveHeartbeat({ brokerId: 1, controllerEpoch: 1, metadataOffset: 0 }),
  ).toMatchObject({ metadataOffset: offset });
});

it('a topic reaches every broker; a dead broker is fenced and loses its leaderships; back, it is unfenced after acknowledging', async () => {
  const c = await started();
  await c
    .get(1)
    .channel.createTopic({ name: 't', partitions: 6, replicationFactor: 3, configs: {} });
  expect(Object.keys(c.get(1).image().topics)).toEqual(['t']); // applied before the call returned
  await c.advance(INTERVAL);
  expect(c.agreed()).toBe(true);
  const led = [...allPartitions(c.get(2).image())].filter((p) => p.registration.leader === 3);
  expect(led.length).toBeGreaterThan(0);

  await c.down(3);
  await c.advance(SESSION + 2 * INTERVAL);
  const fenced = c.get(1).image();
  expect(live(fenced)).toEqual([1, 2]);
  for (const { registration: p } of allPartitions(fenced)) {
    expect(p.leader).not.toBe(3);
    expect(p.leader).not.toBe(NO_LEADER);
    expect(p.isr).not.toContain(3);
  }
  for (const { topic, partition } of led)
    expect(fenced.topics[topic]!.partitions[partition]!.leaderEpoch).toBe(1);
  expect(c.agreed()).toBe(true);

  c.up(3); // with the image it had when it stopped
  await c.advance(3 * INTERVAL);
  expect(c.agreed()).toBe(true);
  expect(live(c.get(3).image())).toEqual([1, 2, 3]);
  expectAcknowledgedBeforeUnfenced(c, 1, 3, fenced.metadataOffset);
  // It follows again; its leader puts it back into the ISR (AlterPartition), not the controller.
  for (const { registration: p } of allPartitions(c.get(3).image())) expect(p.isr).not.toContain(3);
});

it('a new controller starts from the newest image among the live brokers (FetchSnapshot)', async () => {
  const c = await started();
  c.losePushesTo.add(2);
  await c
    .get(1)
    .channel.createTopic({ name: 'only-on-3', partitions: 1, replicationFactor: 2, configs: {} });
  await c.advance(INTERVAL);
  expect(Object.keys(c.get(3).image().topics)).toEqual(['only-on-3']);
  expect(Object.keys(c.get(2).image().topics)).toEqual([]);
  c.losePushesTo.clear();

  await c.down(1);
  await c.advance(SESSION + 2 * INTERVAL);
  expect(c.get(2).node.state()).toMatchObject({ isController: true, controllerEpoch: 2 });
  expect(c.agreed()).toBe(true);
  expect(Object.keys(c.get(2).image().topics)).toEqual(['only-on-3']);
  expect(c.logs.get(2)).toEqual(
    expect.arrayContaining([
      expect.stringMatching(
        /^broker 2 acts as the controller from broker 3's image \(epoch 1, offset \d+\): 1 topic\(s\), brokers 2, 3 live$/,
      ),
    ]),
  );
});

it('the lowest id, coming back, takes the role over from the image its peers hold, not its stale own', async () => {
  const c = await started();
  await c.down(1);
  await c.advance(SESSION + 2 * INTERVAL);
  await c
    .get(2)
    .channel.createTopic({ name: 'while-away', partitions: 2, replicationFactor: 2, configs: {} });
  await c.advance(INTERVAL);
  expect(Object.keys(c.get(3).image().topics)).toEqual(['while-away']);

  c.losePushesTo.add(1); // broker 2's last pushes, as it hands over, never reach broker 1
  c.up(1);
  await c.advance(2 * INTERVAL);
  c.losePushesTo.clear();
  await c.advance(2 * INTERVAL);
  expect(c.get(1).node.state()).toMatchObject({ isController: true, controllerEpoch: 3 });
  const image = c.get(1).image();
  expect(image).toMatchObject({ controllerId: 1, controllerEpoch: 3 });
  expect(Object.keys(image.topics)).toEqual(['while-away']);
  expect(live(image)).toEqual([1, 2, 3]);
  expect(c.agreed()).toBe(true);
  expect(c.logs.get(1)).toEqual(
    expect.arrayContaining([
      expect.stringMatching(
        /^broker 1 acts as the controller from broker [23]'s image \(epoch 2, /,
      ),
    ]),
  );
});

it("a leader's AlterPartition is forwarded to the controller; a stale one gets the controller's error", async () => {
  const c = await started();
  await c
    .get(1)
    .channel.createTopic({ name: 'isr', partitions: 6, replicationFactor: 3, configs: {} });
  await c.advance(INTERVAL);
  const picked = [...allPartitions(c.get(1).image())].find((p) => p.registration.leader !== 1)!;
  const { topic, partition, registration: p } = picked;
  const leader = p.leader;
  const newIsr = p.replicas.filter((r) => r === leader || r === 1);
  const request = {
    brokerId: leader,
    topic,
    partition,
    leaderEpoch: p.leaderEpoch,
    partitionEpoch: p.partitionEpoch,
    newIsr,
  };
  const after = await c.get(leader).channel.alterPartition(request);
  expect(after).toEqual({
    replicas: p.replicas,
    isr: newIsr,
    leader,
    leaderEpoch: p.leaderEpoch,
    partitionEpoch: p.partitionEpoch + 1,
  });
  // Resolved only once the leader's own image shows it.
  expect(c.get(leader).image().topics[topic]!.partitions[partition]).toEqual(after);
  await expect(c.get(leader).channel.alterPartition(request)).rejects.toMatchObject({
    name: 'INVALID_UPDATE_VERSION',
  });

  // Sent to a broker that is not the controller, AlterPartition is NOT_CONTROLLER as a whole.
  const body = {
    brokerId: leader,
    topics: [
      {
        name: topic,
        partitions: [{ partitionIndex: partition, leaderEpoch: 0, partitionEpoch: 0, newIsr }],
      },
    ],
  };
  expect(await HANDLERS.AlterPartition(contextOf(c.get(2), recorder()), body, {})).toEqual({
    errorCode: 41,
    topics: [],
  });
});

it('a call that finds no controller to take it ends REQUEST_TIMED_OUT', async () => {
  const c = memoryRuntimes();
  cluster = c;
  const alone = c.up(2, { requestTimeoutMs: 300 }); // broker 1, the controller it waits for, is down
  const call = alone.channel
    .createTopic({ name: 't', partitions: 1, replicationFactor: 1, configs: {} })
    .catch((err: unknown) => err);
  await c.advance(400);
  expect(await call).toMatchObject({
    name: 'REQUEST_TIMED_OUT',
    message: expect.stringContaining(
      'creating topic t: the controller did not take it within 300 ms',
    ),
  });
});

it('a call under way ends NOT_CONTROLLER when the broker begins to stop, instead of retrying', async () => {
  const c = memoryRuntimes();
  cluster = c;
  const alone = c.up(2); // it forwards to broker 1, which is down, and retries
  const call = alone.channel.deleteTopic('t').catch((err: unknown) => err);
  await c.advance(INTERVAL);
  alone.beginShutdown();
  await c.advance(INTERVAL);
  expect(await call).toMatchObject({
    name: 'NOT_CONTROLLER',
    message: 'this broker is shutting down',
  });
});
