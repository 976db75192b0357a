/**
 * The durability workload of the replication process tests: a producer
 * writes numbered records (value = its number, key = number mod KEYS) into a
 * replicated topic of a LocalCluster while brokers are killed with SIGKILL
 * and started again; then every partition is read from the beginning to its
 * high watermark and compared with what was acknowledged.
 *
 * What it reports, and the test asserts for acks=all: `missing` (acknowledged
 * and not found) and `outOfOrder` (a key's records not in the order they were
 * sent, duplicates set aside). Duplicates (a batch retried after its ack was
 * lost with the leader) are counted, not refused: the producer is not
 * idempotent.
 */
import { Admin, Consumer, Producer } from '../../src/client/index.js';
import type { LocalCluster } from '../../src/cluster/local-cluster.js';

export const KEYS = 8;

export interface WorkloadOptions {
  readonly topic: string;
  readonly partitions: number;
  readonly acks: 1 | 'all';
  /** Kill rounds: a broker (the leader of partition round % partitions) killed, then restarted. */
  readonly rounds: number;
  /** Records acknowledged between the events of a round. */
  readonly step: number;
  readonly log?: (line: string) => void;
}

export interface DurabilityReport {
  sent: number;
  acked: number;
  failedSends: number;
  found: number;
  missing: number[];
  duplicates: number;
  outOfOrder: number;
  killed: number[];
}

export async function runDurabilityWorkload(
  cluster: LocalCluster,
  options: WorkloadOptions,
): Promise<DurabilityReport> {
  const log = options.log ?? (() => {});
  const admin = new Admin({ brokers: cluster.bootstrap, requestTimeoutMs: 5_000 });
  const producer = new Producer<string, string>({
    brokers: cluster.bootstrap,
    acks: options.acks,
    keySerializer: (k) => Buffer.from(k),
    valueSerializer: (v) => Buffer.from(v),
    maxInFlightRequestsPerConnection: 1, // retries keep each key's order
    retryBackoffMs: 50,
    requestTimeoutMs: 3_000,
    deliveryTimeoutMs: 60_000,
    metadataMaxAgeMs: 1_000,
  });
  const acked = new Set<number>();
  let sent = 0;
  let failedSends = 0;
  let writing = true;
  const writer = (async () => {
    while (writing) {
      const numbers = Array.from({ length: 10 }, () => sent++);
      try {
        await producer.send(
          options.topic,
          numbers.map((n) => ({ key: `k${n % KEYS}`, value: String(n) })),
        );
        for (const n of numbers) acked.add(n);
      } catch {
        failedSends += numbers.length;
      }
    }
  })();
  const ackedAtLeast = async (count: number, what: string) => {
    const deadline = Date.now() + 60_000;
    while (acked.size < count) {
      if (Date.now() > deadline) throw new Error(`no progress ${what}: ${acked.size} < ${count}`);
      await sleep(20);
    }
  };
  const killed: number[] = [];
  try {
    for (let round = 0; round < options.rounds; round++) {
      await ackedAtLeast(acked.size + options.step, `before round ${round}`);
      const [meta] = await admin.describeTopics([options.topic]);
      const leader = meta!.partitions[round % options.partitions]!.leader;
      const victim = leader >= 0 ? leader : cluster.brokerIds[round % cluster.brokerIds.length]!;
      log(`round ${round}: SIGKILL broker ${victim} (acked so far ${acked.size})`);
      await cluster.kill(victim);
      killed.push(victim);
      await ackedAtLeast(acked.size + options.step, `with broker ${victim} dead`);
      log(`round ${round}: restarting broker ${victim} (acked so far ${acked.size})`);
      await cluster.restart(victim);
      await allInSync(admin, options.topic, cluster.brokerIds.length);
    }
    await ackedAtLeast(acked.size + options.step, 'after the last round');
  } finally {
    writing = false;
    await writer;
    await producer.close();
  }
  const found = await readAll(cluster, admin, options.topic);
  await admin.close();
  return { ...compare(acked, found), sent, acked: acked.size, failedSends, killed };
}

/** Waits until every partition's ISR has every replica again. */
async function allInSync(admin: Admin, topic: string, replicas: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const [meta] = await admin.describeTopics([topic]).catch(() => [undefined]);
    if (meta?.partitions.every((p) => p.isr.length === replicas && p.leader >= 0)) return;
    if (Date.now() > deadline) throw new Error(`${topic} did not get back in sync`);
    await sleep(100);
  }
}

/** Every partition from its start to its high watermark, in offset order per partition. */
async function readAll(cluster: LocalCluster, admin: Admin, topic: string): Promise<number[][]> {
  const ends = await admin.listOffsets(topic, 'latest');
  const consumer = new Consumer<string | null, string | null>({
    brokers: cluster.bootstrap,
    valueDeserializer: (v) => (v === null ? null : v.toString()),
  });
  try {
    consumer.assign(ends.map((e) => ({ topic, partition: e.partition })));
    await consumer.seekToBeginning();
    const byPartition = ends.map(() => [] as number[]);
    let remaining = ends.filter((e) => e.offset > 0).length;
    if (remaining === 0) return byPartition;
    for await (const record of consumer) {
      byPartition[record.partition]!.push(Number(record.value));
      if (record.offset + 1 === ends[record.partition]!.offset && --remaining === 0) break;
    }
    return byPartition;
  } finally {
    await consumer.close();
  }
}

function compare(acked: ReadonlySet<number>, partitions: readonly number[][]) {
  const seen = new Set<number>();
  let duplicates = 0;
  let outOfOrder = 0;
  const lastByKey = new Map<number, number>();
  for (const values of partitions)
    for (const n of values) {
      if (seen.has(n)) {
        duplicates++;
        continue;
      }
      seen.add(n);
      const key = n % KEYS;
      if ((lastByKey.get(key) ?? -1) > n) outOfOrder++;
      lastByKey.set(key, n);
    }
  const missing = [...acked].filter((n) => !seen.has(n)).sort((a, b) => a - b);
  return { found: seen.size, missing, duplicates, outOfOrder };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
