/**
 * Consumer groups through a broker's death, with processes: three brokers,
 * a replicated topic, a consumer group reading it. The broker that
 * coordinates the group (the leader of its __consumer_offsets partition) is
 * killed with SIGKILL mid-stream. The group finds the new coordinator,
 * keeps reading, and every record is read (at least once: a commit in
 * flight when the coordinator died may be read again); the offsets it
 * committed before the kill are still there, on the new coordinator.
 */
import { afterEach, expect, it } from 'vitest';
import { partitionForGroup } from '../src/broker/group/offsets-topic.js';
import { Admin, Consumer, Producer } from '../src/client/index.js';
import { LocalCluster } from '../src/cluster/local-cluster.js';

const OFFSETS_PARTITIONS = 3;
const SETTINGS = {
  'broker.heartbeat.interval.ms': 100,
  'broker.session.timeout.ms': 1_500,
  'offsets.topic.num.partitions': OFFSETS_PARTITIONS,
  'group.initial.rebalance.delay.ms': 0,
};

let cluster: LocalCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('a group keeps reading, and keeps its commits, when its coordinator is killed', async () => {
  cluster = await LocalCluster.start({ brokers: 3, config: SETTINGS });
  const brokers = cluster.bootstrap;
  const admin = new Admin({ brokers });
  await admin.createTopic({ name: 'events', numPartitions: 3, replicationFactor: 3 });
  const producer = new Producer({ brokers, acks: 'all', retryBackoffMs: 50 });
  const send = (from: number, count: number) =>
    producer.send(
      'events',
      Array.from({ length: count }, (_, i) => ({ value: Buffer.from(String(from + i)) })),
    );
  await send(0, 300);

  const consumer = new Consumer<null, string>({
    brokers,
    groupId: 'billing',
    autoOffsetReset: 'earliest',
    autoCommitIntervalMs: 100,
    sessionTimeoutMs: 6_000,
    heartbeatIntervalMs: 200,
    retryBackoffMs: 50,
    keyDeserializer: () => null,
    valueDeserializer: (v) => (v === null ? '' : v.toString()),
  });
  consumer.subscribe(['events']);
  const seen = new Set<string>();
  let reads = 0;
  const reading = (async () => {
    for await (const record of consumer) {
      seen.add(record.value);
      reads++;
      if (seen.size === 600) break;
    }
  })();
  try {
    while (seen.size < 300) await sleep(20);
    const committed = async () =>
      (await admin.listGroupOffsets('billing')).reduce((sum, o) => sum + Math.max(0, o.offset), 0);
    for (let i = 0; i < 300 && (await committed()) < 300; i++) await sleep(50); // auto-commits
    expect(await committed()).toBe(300);

    const [offsetsTopic] = await admin.describeTopics(['__consumer_offsets']);
    const p = partitionForGroup('billing', OFFSETS_PARTITIONS);
    const coordinator = offsetsTopic!.partitions[p]!.leader;
    await cluster.kill(coordinator);
    // The new coordinator (a follower of that partition until now) has the commits.
    for (let i = 0; i < 600; i++) {
      const [t] = await admin.describeTopics(['__consumer_offsets']);
      const leader = t!.partitions[p]!.leader;
      if (leader >= 0 && leader !== coordinator) break;
      await sleep(50);
    }
    let kept = 0;
    for (let i = 0; i < 200 && kept < 300; i++) {
      kept = await committed().catch(() => 0);
      if (kept < 300) await sleep(50);
    }
    expect(kept).toBe(300);

    await send(300, 300); // written to the survivors while the group moves
    const deadline = Date.now() + 60_000;
    while (seen.size < 600 && Date.now() < deadline) await sleep(50);
    expect(seen.size).toBe(600);
    await reading; // leaving the loop closed the consumer, which committed its positions

    const [after] = await admin.describeTopics(['__consumer_offsets']);
    expect(after!.partitions[p]!.leader).not.toBe(coordinator);
    expect(await committed()).toBe(600); // kept by the new coordinator
    console.log(`coordinator broker ${coordinator} killed; 600 records, ${reads - 600} read twice`);
  } finally {
    await consumer.close();
    await producer.close();
    await admin.close();
  }
}, 120_000);
