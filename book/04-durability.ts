/**
 * Chapter 4, "Durable messages". Run it with `npm run book -- 04-durability`
 * and read 04-durability.md beside it. Three broker processes on this
 * machine (LocalCluster); what the brokers decided is what they answer
 * (Metadata, ListOffsets per replica: the same call as `samsa topics
 * describe`), records are what a consumer reads back.
 */
import { Admin, Consumer, Producer } from '../src/client/index.js';
import type { PartitionReplicas } from '../src/client/replica-offsets.js';
import { LocalCluster } from '../src/cluster/local-cluster.js';
import * as w from './lib/walkthrough.js';

const SESSION_MS = 4000;
/** Kafka's replica.fetch.wait.max.ms, which the followers use: a waiting fetch is answered by then. */
const FOLLOWER_FETCH_WAIT_MS = 500;
const SETTINGS = {
  'broker.heartbeat.interval.ms': 100,
  'broker.session.timeout.ms': SESSION_MS,
  'replica.lag.time.max.ms': 10_000,
};

function replicaRows(p: PartitionReplicas): (string | number)[][] {
  return p.replicas.map((id) => [
    id,
    id === p.leader ? 'leader' : 'follower',
    p.isr.includes(id) ? 'yes' : 'no',
    p.logEndOffsets.find((r) => r.broker === id)?.logEndOffset ?? w.NONE,
  ]);
}

async function describe(admin: Admin, topic: string): Promise<PartitionReplicas> {
  const [t] = await admin.describeReplicas([topic]);
  const p = t!.partitions[0]!;
  w.say(
    `${topic}-0: leader ${p.leader}, leader epoch ${p.leaderEpoch}, high watermark ${p.highWatermark}.`,
  );
  w.table(['broker', 'role', 'in ISR', 'log end offset'], replicaRows(p));
  return p;
}

/** Polls `describe` quietly until `test` holds. */
async function until(
  admin: Admin,
  topic: string,
  test: (p: PartitionReplicas) => boolean,
): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const [t] = await admin.describeReplicas([topic]).catch(() => [undefined]);
    const p = t?.partitions[0];
    if (p !== undefined && test(p)) return;
    if (Date.now() > deadline) throw new Error(`${topic}: gave up waiting`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every value of partition 0, from the beginning to the high watermark. */
async function readBack(bootstrap: string, admin: Admin, topic: string): Promise<string[]> {
  const [end] = await admin.listOffsets(topic, 'latest');
  const consumer = new Consumer({ brokers: bootstrap, fetchMaxWaitMs: 100 });
  const values: string[] = [];
  try {
    consumer.assign([{ topic, partition: 0 }]);
    await consumer.seekToBeginning();
    if (end!.offset === 0) return values;
    for await (const r of consumer) {
      values.push(r.value!.toString());
      if (r.offset + 1 >= end!.offset) break;
    }
  } finally {
    await consumer.close();
  }
  return values;
}

await w.runWalkthrough('Chapter 4 · Durable messages', () =>
  w.withTempDir('04-durability', async (dir) => {
    const cluster = await LocalCluster.start({ brokers: 3, dataDir: dir, config: SETTINGS });
    const admin = new Admin({ brokers: cluster.bootstrap });
    try {
      w.heading('1. Three brokers, one partition, three replicas');
      await admin.createTopic({
        name: 'payments',
        numPartitions: 1,
        replicationFactor: 3,
        configs: { 'min.insync.replicas': '2' },
      });
      const producer = new Producer({ brokers: cluster.bootstrap, acks: 'all' });
      const sent = await producer.send(
        'payments',
        Array.from({ length: 100 }, (_, i) => ({ value: Buffer.from(`payment-${i}`) })),
      );
      w.say(
        `Three brokers (${cluster.bootstrap}) and a topic with replication.factor=3 and ` +
          `min.insync.replicas=2. 100 records sent with acks=all; the last landed at offset ` +
          `${sent.at(-1)!.offset}. When the producer had its answer, the leader's high ` +
          'watermark had passed it: every replica in the ISR holds it.',
      );
      const first = await describe(admin, 'payments');
      w.check(first.isr.length === 3, 'all three replicas are in sync');
      w.check(
        first.highWatermark === 100,
        'the high watermark is past the 100 acknowledged records',
      );

      w.heading('2. acks=0, 1 and all');
      const timings: (string | number)[][] = [];
      for (const acks of [0, 1, 'all'] as const) {
        const p = new Producer({ brokers: cluster.bootstrap, acks, lingerMs: 0 });
        const started = performance.now();
        for (let i = 0; i < 200; i++) await p.send('payments', [{ value: Buffer.from(`a${i}`) }]);
        const ms = (performance.now() - started) / 200;
        await p.close();
        timings.push([String(acks), ms.toFixed(2)]);
      }
      w.say(
        '200 records one at a time, each waiting for its answer. acks=0 waits for nothing, ' +
          'acks=1 for the leader, acks=all for every in-sync replica (a follower fetch more):',
      );
      w.table(['acks', 'ms per record'], timings);

      w.heading('3. fsync is not what makes a record durable');
      const [flush] = await admin.describeConfigs({ type: 'topic', name: 'payments' }, [
        'flush.messages',
      ]);
      w.say(
        `flush.messages is ${flush?.value}: no broker calls fsync per record, as in Kafka. An ` +
          'acknowledged record is in the page cache of every in-sync replica; a process killed ' +
          'with SIGKILL loses nothing of it, a power cut of all three machines could.',
      );
      w.check(flush !== undefined, 'the topic shows its flush policy');

      w.heading('4. The leader killed mid-stream, with acks=all');
      const leader = first.leader;
      const acked: string[] = [];
      let writing = true;
      let n = 0;
      const stream = (async () => {
        while (writing) {
          const value = `order-${n++}`;
          await producer.send('payments', [{ value: Buffer.from(value) }]).then(
            () => acked.push(value),
            () => {},
          );
        }
      })();
      while (acked.length < 200) await new Promise((r) => setTimeout(r, 10));
      await cluster.kill(leader);
      const atKill = acked.length;
      w.say(`After ${atKill} acknowledged records, broker ${leader}, the leader, gets SIGKILL.`);
      await until(admin, 'payments', (p) => p.leader !== leader && p.leader >= 0);
      while (acked.length < atKill + 200) await new Promise((r) => setTimeout(r, 10));
      writing = false;
      await stream;
      const after = await describe(admin, 'payments');
      w.say(
        `The controller saw broker ${leader}'s heartbeats stop, took it out of the ISR and ` +
          `elected broker ${after.leader} in epoch ${after.leaderEpoch}; the producer's retry ` +
          `went there. ${acked.length} records acknowledged in all.`,
      );
      await cluster.restart(leader);
      await until(admin, 'payments', (p) => p.isr.length === 3);
      w.say(`Broker ${leader} restarted, fetched what it missed and is back in the ISR:`);
      await describe(admin, 'payments');
      const values = new Set(await readBack(cluster.bootstrap, admin, 'payments'));
      const lost = acked.filter((v) => !values.has(v));
      w.say(
        `Read back from the new leader: ${lost.length} of ${acked.length} acknowledged records missing.`,
      );
      w.check(after.leaderEpoch > first.leaderEpoch, 'the new leader has a higher leader epoch');
      w.check(lost.length === 0, 'no record acknowledged with acks=all was lost');

      w.heading('5. acks=1 can lose what it acknowledged');
      await admin.createTopic({ name: 'clicks', numPartitions: 1, replicationFactor: 3 });
      const fast = new Producer({ brokers: cluster.bootstrap, acks: 1 });
      await fast.send('clicks', [{ value: Buffer.from('click-0') }]);
      await until(admin, 'clicks', (p) => p.highWatermark === 1);
      const before = await describe(admin, 'clicks');
      const followers = before.replicas.filter((id) => id !== before.leader);
      for (const id of followers) cluster.pause(id);
      // Their fetches waiting at the leader time out and are answered empty: none is left to
      // carry the next records to them.
      await new Promise((r) => setTimeout(r, 3 * FOLLOWER_FETCH_WAIT_MS));
      const unsafe = Array.from({ length: 50 }, (_, i) => `click-${i + 1}`);
      await fast.send(
        'clicks',
        unsafe.map((v) => ({ value: Buffer.from(v) })),
      );
      w.say(
        `Both followers (${followers.join(', ')}) are frozen with SIGSTOP, as by a long pause ` +
          `(shorter than the ${SESSION_MS} ms session, so they stay in the cluster and in the ` +
          `ISR). The leader, broker ${before.leader}, acknowledges 50 more records with ` +
          'acks=1: it has them, nobody else does. Then it gets SIGKILL, and the followers wake up.',
      );
      await cluster.kill(before.leader);
      for (const id of followers) cluster.resume(id);
      await until(admin, 'clicks', (p) => p.leader >= 0 && p.leader !== before.leader);
      await fast.close();
      const clicks = new Set(await readBack(cluster.bootstrap, admin, 'clicks'));
      const gone = unsafe.filter((v) => !clicks.has(v)).length;
      const now = await describe(admin, 'clicks');
      w.say(
        `Broker ${now.leader} leads now, elected from the ISR, which never had those records: ` +
          `${gone} of the 50 acknowledged records are gone. With acks=all the producer would ` +
          'still have been waiting for the followers, and would have sent them again to the ' +
          'new leader.',
      );
      w.check(gone > 0, 'acks=1 lost acknowledged records when the leader died alone with them');
      const truncated = cluster.waitFor(/truncated clicks-0 to \d+: .*/, {
        brokerId: before.leader,
        fromNow: true,
        timeoutMs: 60_000,
      });
      await cluster.restart(before.leader);
      const line = (await truncated).match[0];
      await until(admin, 'clicks', (p) => p.isr.length === 3);
      const [back] = await admin.describeReplicas(['clicks']);
      const ends = back!.partitions[0]!.logEndOffsets.map((r) => r.logEndOffset);
      w.say(
        `Broker ${before.leader} came back with the 50 records in its log. Its first fetch ` +
          'named the epoch of its last record; the leader answered where that epoch ends in ' +
          'its own log (divergingEpoch, what OffsetsForLeaderEpoch answers), and the old ' +
          'leader cut its divergent tail there. Its log says:',
      );
      w.show(line);
      w.say(`It caught up and the replicas agree again: log end offsets ${ends.join(', ')}.`);
      w.check(
        new Set(ends).size === 1 && ends[0] === 1,
        'the returning replica truncated its tail to match the leader',
      );
      await producer.close();
    } finally {
      await admin.close();
      await cluster.close();
    }
  }),
);
