/**
 * `npm run bench -- produce` and `npm run bench -- consume`: samsa's client
 * against a `samsa broker` in another process, over TCP on 127.0.0.1, with a
 * plain TCP-to-file server as the baseline. Both names run the same phases
 * (consuming needs the records produced first); the heading says which was
 * asked for.
 *
 * Phases, in order, each once, after a warm-up (--warmup records produced to
 * another topic, and 500 round trips each way):
 *   produce     one Producer (acks=1, --batch-size, --linger-ms, --max-in-flight)
 *               sends --records records of --record-bytes bytes (--key-bytes of
 *               them key) to a one-partition topic, --send-records per `send`
 *               call, at most --sends-in-flight sends outstanding; timed from
 *               the first send to the last acknowledgement.
 *   plain TCP   the same payload bytes (records × record bytes), cut into
 *               --batch-size chunks, to client-sink.ts, which writes every
 *               chunk it receives to a file and acks it with 4 bytes; at most
 *               --max-in-flight chunks unacknowledged, like the producer's
 *               requests.
 *   consume     one Consumer (no group) assigned the partition, from the
 *               beginning, `for await` until it has every record.
 *   round trip  --round-trips sequential `await producer.send(topic, [record])`
 *               of one record; and the same number of 100-byte writes to the
 *               sink, each awaiting its ack.
 * MiB/s counts payload bytes (key + value), the same for samsa and the sink.
 *
 * `--broker-node-args="--cpu-prof --cpu-prof-dir=DIR"` starts the broker
 * process with those node flags (profile the broker; run the bench itself
 * under `node --cpu-prof` to profile the client).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Admin, Consumer, Producer, type ProducerRecord } from '../src/client/index.js';
import { HELP, type Options, type Phase, parseOptions } from './client-flags.js';
import { type Cpu, type Measured, WARMUP_ROUND_TRIPS, summarize } from './client-report.js';
import { SinkClient, type Spawned, processCpuSeconds } from './client-processes.js';
import { startBrokerProcess, startSinkProcess } from './client-processes.js';
import { Progress, formatBytes, formatInt, freshTempDir, now } from './stats.js';

// #region phases
/** `sendRecords` distinct records, reused for every send: the bench measures the client, not its own allocations. */
function buildRecords(o: Options): ProducerRecord[] {
  const records: ProducerRecord[] = [];
  for (let i = 0; i < Math.min(o.sendRecords, o.records); i++) {
    const key = Buffer.alloc(o.keyBytes);
    key.write(String(i).padStart(o.keyBytes, '0').slice(-o.keyBytes), 'latin1');
    const value = Buffer.alloc(o.recordBytes - o.keyBytes, 0x61 + (i % 26));
    records.push({ key: o.keyBytes === 0 ? null : key, value });
  }
  return records;
}

/** Sends `count` records to `topic`, at most `sendsInFlight` sends outstanding; returns seconds. */
async function produceAll(
  producer: Producer,
  topic: string,
  count: number,
  o: Options,
  progress: Progress,
): Promise<number> {
  const pool = buildRecords(o);
  const start = now();
  const pending: Promise<unknown>[] = [];
  for (let sent = 0; sent < count;) {
    const n = Math.min(pool.length, count - sent);
    pending.push(producer.send(topic, n === pool.length ? pool : pool.slice(0, n)));
    sent += n;
    if (pending.length >= o.sendsInFlight) {
      await pending.shift();
      progress.update('produce:', sent, count);
    }
  }
  await Promise.all(pending);
  return now() - start;
}

/** Reads `count` records of `recordBytes` (key + value) from the beginning; returns seconds. */
async function consumeAll(
  brokers: string,
  topic: string,
  count: number,
  recordBytes: number,
): Promise<number> {
  const consumer = new Consumer({ brokers, autoOffsetReset: 'earliest' });
  const tp = { topic, partition: 0 };
  consumer.assign([tp]);
  consumer.seekToBeginning();
  const start = now();
  let seen = 0;
  let last = -1;
  let bytes = 0;
  for await (const record of consumer) {
    if (record.offset !== last + 1) throw new Error(`offset ${record.offset} after ${last}`);
    last = record.offset;
    // Touch every key and value, as an application would: lazily made views must be paid for here.
    bytes += (record.key?.length ?? 0) + (record.value?.length ?? 0);
    if (++seen === count) break; // leaving the loop closes the consumer
  }
  const seconds = now() - start;
  if (bytes !== count * recordBytes)
    throw new Error(`consumed ${bytes} payload bytes, expected ${count * recordBytes}`);
  return seconds;
}

async function producerRoundTrips(producer: Producer, topic: string, n: number): Promise<number[]> {
  const record: ProducerRecord = { key: Buffer.from('rtt'), value: Buffer.alloc(97, 0x61) };
  const micros: number[] = [];
  for (let i = 0; i < n + WARMUP_ROUND_TRIPS; i++) {
    const t = process.hrtime.bigint();
    await producer.send(topic, [record]);
    if (i >= WARMUP_ROUND_TRIPS) micros.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  return micros;
}

async function sinkRoundTrips(sink: SinkClient, n: number): Promise<number[]> {
  const chunk = Buffer.alloc(100, 0x61);
  const micros: number[] = [];
  for (let i = 0; i < n + WARMUP_ROUND_TRIPS; i++) {
    const t = process.hrtime.bigint();
    await sink.roundTrip(chunk);
    if (i >= WARMUP_ROUND_TRIPS) micros.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  return micros;
}

/** Runs `fn`, returning its wall seconds and the CPU seconds of this process and `server`. */
async function timedWithCpu(
  server: Spawned,
  fn: () => Promise<unknown>,
): Promise<{ seconds: number; cpu: Cpu }> {
  const client0 = process.cpuUsage();
  const server0 = processCpuSeconds(server.child.pid);
  const start = now();
  await fn();
  const seconds = now() - start;
  const client = process.cpuUsage(client0);
  return {
    seconds,
    cpu: {
      client: (client.user + client.system) / 1e6,
      server: processCpuSeconds(server.child.pid) - server0,
    },
  };
}

const NO_CPU: Cpu = { client: NaN, server: NaN };

async function measure(o: Options, root: string, progress: Progress): Promise<Measured> {
  const processes: Spawned[] = [];
  let sink: SinkClient | undefined;
  let producer: Producer | undefined;
  try {
    progress.step('produce: starting the broker and the sink processes');
    const broker = await startBrokerProcess(join(root, 'broker'), o.brokerNodeArgs);
    processes.push(broker);
    const sinkProcess = await startSinkProcess(join(root, 'sink.bin'));
    processes.push(sinkProcess);
    const brokers = `127.0.0.1:${broker.port}`;
    const admin = new Admin({ brokers });
    await admin.createTopics(
      ['bench', 'bench-warmup', 'bench-rtt'].map((name) => ({ name, numPartitions: 1 })),
    );
    await admin.close();
    producer = new Producer({
      brokers,
      acks: 1,
      batchSize: o.batchSize,
      lingerMs: o.lingerMs,
      maxInFlightRequestsPerConnection: o.maxInFlight,
    });
    sink = await SinkClient.connect(sinkProcess.port);
    const payload = Buffer.alloc(o.batchSize, 0x61);
    const totalBytes = o.records * o.recordBytes;
    const chunks: Buffer[] = [];
    for (let at = 0; at < totalBytes; at += o.batchSize)
      chunks.push(at + o.batchSize <= totalBytes ? payload : payload.subarray(0, totalBytes - at));

    if (o.warmup > 0) {
      progress.step(`produce: warm-up, ${formatInt(o.warmup)} records`);
      await produceAll(producer, 'bench-warmup', o.warmup, o, new Progress(false));
      await consumeAll(brokers, 'bench-warmup', o.warmup, o.recordBytes);
      await sink.sendAll(chunks.slice(0, Math.ceil(chunks.length / 10)), o.maxInFlight);
    }
    const load = loadavg();
    const has = (phase: Phase): boolean => o.phases.has(phase);
    let produceSeconds = NaN;
    let sinkSeconds = NaN;
    let consumeSeconds = NaN;
    const cpu = {
      produce: NO_CPU,
      plainTcp: NO_CPU,
      consume: NO_CPU,
      rtt: NO_CPU,
      sinkRtt: NO_CPU,
    };
    let producerRtt: number[] = [];
    let sinkRtt: number[] = [];
    if (has('produce')) {
      progress.step(`produce: ${formatInt(o.records)} records`);
      const p = producer;
      const t = await timedWithCpu(broker, () => produceAll(p, 'bench', o.records, o, progress));
      produceSeconds = t.seconds;
      cpu.produce = t.cpu;
    }
    if (has('plain')) {
      progress.step(`produce: plain TCP into a file, ${formatBytes(totalBytes)}`);
      const c = sink;
      const t = await timedWithCpu(sinkProcess, () => c.sendAll(chunks, o.maxInFlight));
      sinkSeconds = t.seconds;
      cpu.plainTcp = t.cpu;
    }
    if (has('consume')) {
      progress.step(`consume: ${formatInt(o.records)} records`);
      const t = await timedWithCpu(broker, () =>
        consumeAll(brokers, 'bench', o.records, o.recordBytes),
      );
      consumeSeconds = t.seconds;
      cpu.consume = t.cpu;
    }
    if (has('rtt')) {
      progress.step(`produce: ${formatInt(o.roundTrips)} sequential one-record sends`);
      const p = producer;
      const t = await timedWithCpu(broker, async () => {
        producerRtt = await producerRoundTrips(p, 'bench-rtt', o.roundTrips);
      });
      cpu.rtt = t.cpu;
      progress.step(`produce: ${formatInt(o.roundTrips)} plain TCP round trips`);
      const c = sink;
      const u = await timedWithCpu(sinkProcess, async () => {
        sinkRtt = await sinkRoundTrips(c, o.roundTrips);
      });
      cpu.sinkRtt = u.cpu;
    }
    load.push(...loadavg());
    return { cpu, produceSeconds, sinkSeconds, consumeSeconds, producerRtt, sinkRtt, load };
  } finally {
    sink?.close();
    await producer?.close();
    for (const p of processes) await p.stop();
  }
}
// #endregion phases

export async function runClientBench(name: 'produce' | 'consume', argv: string[]): Promise<void> {
  const o = parseOptions(argv);
  if (!o) {
    process.stdout.write(HELP(name) + '\n');
    return;
  }
  const root =
    o.dir === undefined
      ? freshTempDir(name)
      : mkdtempSync(join((mkdirSync(o.dir, { recursive: true }), o.dir), `samsa-bench-${name}-`));
  const progress = new Progress();
  try {
    const m = await measure(o, root, progress);
    progress.done();
    const report = summarize(name, o, m);
    process.stdout.write(o.json ? JSON.stringify(report.json) + '\n' : report.text + '\n');
    if (o.check && !report.pass) process.exitCode = 1;
  } finally {
    progress.done();
    if (!o.keep) rmSync(root, { recursive: true, force: true });
  }
}
