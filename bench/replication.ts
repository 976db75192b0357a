/**
 * `npm run bench -- replication`: a cluster of three broker processes on
 * this machine (LocalCluster), driven by a producer in this process.
 *
 * Phases:
 *   throughput  --records records of 100 bytes into a topic of 3 partitions,
 *               four times in the same run: replication factor 1 and 3, each
 *               with acks=1 and acks=all. RF 1 with acks=1 is the baseline
 *               the others are compared with (the same brokers, nothing to
 *               copy). Leaders are spread over the three brokers either way.
 *               A warm-up run (RF 3, acks=all, a third of --records) comes
 *               first and is not measured.
 *   failover    a topic of 1 partition, RF 3, min.insync.replicas=2; a
 *               producer with acks=all sends one record at a time, the next
 *               as soon as the last is acknowledged. The partition's leader
 *               is SIGKILLed; timed from the kill to the first record
 *               acknowledged after it (by the new leader). Once with the
 *               default broker session timeout (9 s, KRaft's) and once with
 *               a short one (--short-session-ms), --failovers times each.
 *
 * Everything shares two cores: three brokers, the producer, and the
 * followers' fetches, so the RF 3 figures include the copying's CPU.
 */
import { arch, cpus, platform } from 'node:os';
import { parseArgs } from 'node:util';
import { Admin, Producer, type ProducerRecord } from '../src/client/index.js';
import { LocalCluster } from '../src/cluster/local-cluster.js';
import { Progress, formatCount, formatInt, parseIntFlag, table } from './stats.js';

const HELP = `usage: npm run bench -- replication [flags]
  --records N            records per throughput run (default 1,000,000; 100 B each)
  --failovers N          leader kills per session setting (default 3)
  --short-session-ms MS  the short broker.session.timeout.ms (default 1000)
  --default-session-ms MS the default one (default 9000, Kafka's KRaft default)
  --phases LIST          throughput,failover (default both)
  --json                 one JSON line with every figure`;

interface Options {
  records: number;
  failovers: number;
  sessions: number[];
  phases: Set<string>;
  json: boolean;
}

function parseOptions(argv: string[]): Options | undefined {
  const { values: v } = parseArgs({
    args: argv,
    strict: true,
    options: {
      records: { type: 'string' },
      failovers: { type: 'string' },
      'short-session-ms': { type: 'string' },
      'default-session-ms': { type: 'string' },
      phases: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (v.help) return undefined;
  const int = (name: string, value: string | undefined, fallback: number) =>
    parseIntFlag(name, value, { fallback, min: 1 });
  return {
    records: int('records', v.records, 1_000_000),
    failovers: int('failovers', v.failovers, 3),
    sessions: [
      int('default-session-ms', v['default-session-ms'], 9_000),
      int('short-session-ms', v['short-session-ms'], 1_000),
    ],
    phases: new Set((v.phases ?? 'throughput,failover').split(',')),
    json: v.json,
  };
}

// #region throughput
interface ThroughputRun {
  replicationFactor: number;
  acks: 1 | 'all';
  seconds: number;
  recordsPerSec: number;
}

async function produceAll(
  cluster: LocalCluster,
  topic: string,
  acks: 1 | 'all',
  records: number,
  progress: Progress,
): Promise<number> {
  const producer = new Producer({
    brokers: cluster.bootstrap,
    acks,
    batchSize: 64 * 1024,
    lingerMs: 5,
  });
  const value = Buffer.alloc(90, 0x61);
  const batch: ProducerRecord[] = Array.from({ length: 1000 }, (_, i) => ({
    key: Buffer.from(String(i).padStart(10, '0')),
    value,
  }));
  const started = performance.now();
  const pending: Promise<unknown>[] = [];
  for (let sent = 0; sent < records; sent += batch.length) {
    pending.push(producer.send(topic, batch.slice(0, Math.min(batch.length, records - sent))));
    if (pending.length >= 64) await pending.shift();
    progress.update(topic, sent, records);
  }
  await Promise.all(pending);
  const seconds = (performance.now() - started) / 1000;
  await producer.close();
  return seconds;
}

async function throughputPhase(o: Options, progress: Progress): Promise<ThroughputRun[]> {
  const cluster = await LocalCluster.start({ brokers: 3, logLevel: 'warn' });
  const admin = new Admin({ brokers: cluster.bootstrap });
  const runs: ThroughputRun[] = [];
  try {
    // A first run pays for the JIT and the brokers' first segments: not measured.
    progress.step('replication: warming up');
    await admin.createTopic({ name: 'warm-up', numPartitions: 3, replicationFactor: 3 });
    await produceAll(cluster, 'warm-up', 'all', Math.ceil(o.records / 3), progress);
    for (const replicationFactor of [1, 3])
      for (const acks of [1, 'all'] as const) {
        const topic = `rf${replicationFactor}-acks-${acks}`;
        progress.step(`replication: ${topic}, ${formatCount(o.records)} records`);
        await admin.createTopic({ name: topic, numPartitions: 3, replicationFactor });
        const seconds = await produceAll(cluster, topic, acks, o.records, progress);
        runs.push({ replicationFactor, acks, seconds, recordsPerSec: o.records / seconds });
      }
  } finally {
    await admin.close();
    await cluster.close();
  }
  return runs;
}
// #endregion throughput

// #region failover
interface FailoverRun {
  sessionTimeoutMs: number;
  /** ms from each SIGKILL to the first acknowledgement after it. */
  ms: number[];
}

async function failoverPhase(
  session: number,
  o: Options,
  progress: Progress,
): Promise<FailoverRun> {
  const cluster = await LocalCluster.start({
    brokers: 3,
    logLevel: 'warn',
    config: {
      'broker.session.timeout.ms': session,
      'broker.heartbeat.interval.ms': Math.max(50, Math.floor(session / 5)),
    },
  });
  const admin = new Admin({ brokers: cluster.bootstrap });
  const topic = 'failover';
  const producer = new Producer({
    brokers: cluster.bootstrap,
    acks: 'all',
    retryBackoffMs: 20,
    requestTimeoutMs: Math.max(2_000, session),
    deliveryTimeoutMs: 10 * session + 60_000,
    metadataMaxAgeMs: 1_000,
  });
  await admin.createTopic({
    name: topic,
    numPartitions: 1,
    replicationFactor: 3,
    configs: { 'min.insync.replicas': '2' },
  });
  /** When each acknowledged send was acknowledged, and when it was sent. */
  const acks: number[] = [];
  const sentAt: number[] = [];
  let producing = true;
  const stream = (async () => {
    for (let i = 0; producing; i++) {
      const started = performance.now();
      try {
        await producer.send(topic, [{ value: Buffer.from(String(i)) }]);
        acks.push(performance.now());
        sentAt.push(started);
      } catch {
        // a delivery timeout: the next send tries again
      }
    }
  })();
  const ms: number[] = [];
  try {
    for (let round = 0; round < o.failovers; round++) {
      progress.step(`replication: failover with a ${session} ms session, kill ${round + 1}`);
      await until(() => acks.length > 0 && performance.now() - acks.at(-1)! < 50, 60_000);
      const [meta] = await admin.describeTopics([topic]);
      const leader = meta!.partitions[0]!.leader;
      const killedAt = performance.now();
      await cluster.kill(leader);
      // An answer already on its way when the kill landed does not count: the
      // first record sent after the kill, and acknowledged, does.
      await until(() => sentAt.at(-1)! > killedAt, 10 * session + 60_000);
      ms.push(acks[sentAt.findIndex((t) => t > killedAt)]! - killedAt);
      await cluster.restart(leader);
      await until(async () => {
        const [m] = await admin.describeTopics([topic]).catch(() => [undefined]);
        return m?.partitions[0]?.isr.length === 3;
      }, 60_000);
    }
  } finally {
    producing = false;
    await stream;
    await producer.close();
    await admin.close();
    await cluster.close();
  }
  return { sessionTimeoutMs: session, ms };
}

async function until(test: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await test())) {
    if (performance.now() > deadline) throw new Error(`gave up waiting after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
// #endregion failover

export async function run(argv: string[]): Promise<void> {
  const o = parseOptions(argv);
  if (o === undefined) {
    console.log(HELP);
    return;
  }
  const progress = new Progress(!o.json);
  const throughput = o.phases.has('throughput') ? await throughputPhase(o, progress) : [];
  const failovers: FailoverRun[] = [];
  if (o.phases.has('failover'))
    for (const session of o.sessions) failovers.push(await failoverPhase(session, o, progress));
  progress.done();
  if (o.json) {
    console.log(JSON.stringify({ benchmark: 'replication', throughput, failovers }));
    return;
  }
  console.log(`replication: 3 brokers on ${cpus().length} cores (${platform()} ${arch()})`);
  if (throughput.length > 0) {
    const base = throughput[0]!.recordsPerSec;
    console.log(`\nproduce, ${formatCount(o.records)} records of 100 B, 3 partitions:`);
    console.log(
      table(
        ['replication', 'acks', 'records/s', 'vs RF 1 acks=1'],
        throughput.map((t) => [
          `RF ${t.replicationFactor}`,
          String(t.acks),
          formatInt(Math.round(t.recordsPerSec)),
          `${((t.recordsPerSec / base) * 100).toFixed(0)}%`,
        ]),
      ),
    );
  }
  if (failovers.length > 0) {
    console.log('\nfailover, acks=all, RF 3: SIGKILL of the leader → first acknowledged record');
    console.log(
      table(
        ['broker session', 'each kill (ms)', 'median (ms)'],
        failovers.map((f) => [
          `${f.sessionTimeoutMs} ms`,
          f.ms.map((x) => formatInt(Math.round(x))).join(', '),
          formatInt(Math.round([...f.ms].sort((a, b) => a - b)[Math.floor(f.ms.length / 2)]!)),
        ]),
      ),
    );
  }
}
