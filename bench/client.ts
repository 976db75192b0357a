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
import { arch, cpus, loadavg, platform } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Admin, Consumer, Producer, type ProducerRecord } from '../src/client/index.js';
import { SinkClient, type Spawned, processCpuSeconds } from './client-processes.js';
import { startBrokerProcess, startSinkProcess } from './client-processes.js';
import { KiB, MiB, Progress, UsageError, formatBytes, formatCount, formatInt } from './stats.js';
import { freshTempDir, now, parseIntFlag, percentile, table } from './stats.js';

const TARGETS = {
  produceRecordsPerSec: 1_000_000,
  consumeRecordsPerSec: 2_000_000,
  roundTripP50Micros: 100,
};
const WARMUP_ROUND_TRIPS = 500;

const HELP = (name: string): string => `usage: npm run bench -- ${name} [flags]
  --records N          records to produce, then consume (default 1,000,000; 1m works too)
  --record-bytes R     key + value bytes per record (default 100)
  --key-bytes K        of which key bytes (default 10)
  --batch-size B       producer batch.size, and the baseline's chunk size (default 16384; 16k works)
  --linger-ms MS       producer linger.ms (default 0)
  --max-in-flight N    producer max.in.flight.requests.per.connection, and the baseline's window (default 5)
  --send-records N     records per producer.send call (default 1000)
  --sends-in-flight N  producer.send calls outstanding at once (default 64)
  --round-trips N      sequential one-record sends timed, and as many sink round trips (default 10,000)
  --phases LIST        which phases to run, comma-separated (default produce,plain,consume,rtt)
  --warmup N           records produced to a warm-up topic first (default 50,000; 0 for none)
  --dir DIR            broker data dir and sink file under DIR (default: the OS temp dir)
  --keep               keep the files written (default: removed at the end)
  --broker-node-args=S node flags for the broker process, e.g. --broker-node-args="--cpu-prof --cpu-prof-dir=/tmp/prof"
  --json               print one JSON line with every figure instead of the table
  --check              exit 1 when a target is missed`;

const PHASES = ['produce', 'plain', 'consume', 'rtt'] as const;
type Phase = (typeof PHASES)[number];

interface Options {
  records: number;
  recordBytes: number;
  keyBytes: number;
  batchSize: number;
  lingerMs: number;
  maxInFlight: number;
  sendRecords: number;
  sendsInFlight: number;
  roundTrips: number;
  warmup: number;
  phases: ReadonlySet<Phase>;
  dir: string | undefined;
  keep: boolean;
  brokerNodeArgs: string[];
  json: boolean;
  check: boolean;
}

function parseOptions(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      records: { type: 'string' },
      'record-bytes': { type: 'string' },
      'key-bytes': { type: 'string' },
      'batch-size': { type: 'string' },
      'linger-ms': { type: 'string' },
      'max-in-flight': { type: 'string' },
      'send-records': { type: 'string' },
      'sends-in-flight': { type: 'string' },
      'round-trips': { type: 'string' },
      warmup: { type: 'string' },
      phases: { type: 'string' },
      dir: { type: 'string' },
      keep: { type: 'boolean', default: false },
      'broker-node-args': { type: 'string' },
      json: { type: 'boolean', default: false },
      check: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return undefined;
  const int = (name: string, fallback: number, min = 1, bytes = false): number =>
    parseIntFlag(name, (values as Record<string, unknown>)[name] as string | undefined, {
      fallback,
      min,
      bytes,
    });
  const o: Options = {
    records: int('records', 1_000_000),
    recordBytes: int('record-bytes', 100, 1, true),
    keyBytes: int('key-bytes', 10, 0, true),
    batchSize: int('batch-size', 16 * KiB, 1, true),
    lingerMs: int('linger-ms', 0, 0),
    maxInFlight: int('max-in-flight', 5),
    sendRecords: int('send-records', 1000),
    sendsInFlight: int('sends-in-flight', 64),
    roundTrips: int('round-trips', 10_000),
    warmup: int('warmup', 50_000, 0),
    phases: new Set(
      (values.phases ?? PHASES.join(',')).split(',').map((p) => {
        if (!(PHASES as readonly string[]).includes(p))
          throw new UsageError(`--phases takes ${PHASES.join(', ')}; not '${p}'`);
        return p as Phase;
      }),
    ),
    dir: values.dir,
    keep: values.keep,
    brokerNodeArgs: (values['broker-node-args'] ?? '').split(/\s+/).filter((s) => s !== ''),
    json: values.json,
    check: values.check,
  };
  if (o.phases.has('consume') && !o.phases.has('produce'))
    throw new UsageError('--phases: consume needs produce');
  if (o.keyBytes > o.recordBytes) throw new UsageError('--key-bytes cannot exceed --record-bytes');
  return o;
}

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

async function consumeAll(brokers: string, topic: string, count: number): Promise<number> {
  const consumer = new Consumer({ brokers, autoOffsetReset: 'earliest' });
  const tp = { topic, partition: 0 };
  consumer.assign([tp]);
  consumer.seekToBeginning();
  const start = now();
  let seen = 0;
  let last = -1;
  for await (const record of consumer) {
    if (record.offset !== last + 1) throw new Error(`offset ${record.offset} after ${last}`);
    last = record.offset;
    if (++seen === count) break; // leaving the loop closes the consumer
  }
  return now() - start;
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

/** CPU seconds used during one phase: this process (the client) and the server process. */
interface Cpu {
  client: number;
  server: number;
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

interface Measured {
  cpu: { produce: Cpu; plainTcp: Cpu; consume: Cpu };
  produceSeconds: number;
  sinkSeconds: number;
  consumeSeconds: number;
  producerRtt: number[];
  sinkRtt: number[];
  load: number[];
}

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
      await consumeAll(brokers, 'bench-warmup', o.warmup);
      await sink.sendAll(chunks.slice(0, Math.ceil(chunks.length / 10)), o.maxInFlight);
    }
    const load = loadavg();
    const has = (phase: Phase): boolean => o.phases.has(phase);
    let produceSeconds = NaN;
    let sinkSeconds = NaN;
    let consumeSeconds = NaN;
    const cpu = { produce: NO_CPU, plainTcp: NO_CPU, consume: NO_CPU };
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
      const t = await timedWithCpu(broker, () => consumeAll(brokers, 'bench', o.records));
      consumeSeconds = t.seconds;
      cpu.consume = t.cpu;
    }
    if (has('rtt')) {
      progress.step(`produce: ${formatInt(o.roundTrips)} sequential one-record sends`);
      producerRtt = await producerRoundTrips(producer, 'bench-rtt', o.roundTrips);
      progress.step(`produce: ${formatInt(o.roundTrips)} plain TCP round trips`);
      sinkRtt = await sinkRoundTrips(sink, o.roundTrips);
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

// #region report
function summarize(name: string, o: Options, m: Measured) {
  const bytes = o.records * o.recordBytes;
  const rate = (seconds: number, cpu: Cpu) => ({
    seconds,
    recordsPerSec: o.records / seconds,
    mibPerSec: bytes / MiB / seconds,
    clientCpuSeconds: cpu.client,
    serverCpuSeconds: cpu.server,
  });
  const latency = (micros: number[]) =>
    micros.length === 0
      ? { p50Micros: NaN, p99Micros: NaN, maxMicros: NaN }
      : {
          p50Micros: percentile(micros, 50),
          p99Micros: percentile(micros, 99),
          maxMicros: Math.max(...micros),
        };
  const produce = rate(m.produceSeconds, m.cpu.produce);
  const plainTcp = rate(m.sinkSeconds, m.cpu.plainTcp);
  const consume = rate(m.consumeSeconds, m.cpu.consume);
  const producerRtt = latency(m.producerRtt);
  const sinkRtt = latency(m.sinkRtt);
  const pass = {
    produce: produce.recordsPerSec >= TARGETS.produceRecordsPerSec,
    consume: consume.recordsPerSec >= TARGETS.consumeRecordsPerSec,
    roundTrip: producerRtt.p50Micros <= TARGETS.roundTripP50Micros,
  };
  const json = {
    bench: name,
    node: process.version,
    platform: `${platform()} ${arch()}`,
    cpus: cpus().length,
    loadAverage: { before: m.load.slice(0, 3), after: m.load.slice(3) },
    records: o.records,
    recordBytes: o.recordBytes,
    keyBytes: o.keyBytes,
    payloadBytes: bytes,
    batchSize: o.batchSize,
    lingerMs: o.lingerMs,
    maxInFlight: o.maxInFlight,
    sendRecords: o.sendRecords,
    sendsInFlight: o.sendsInFlight,
    roundTrips: o.roundTrips,
    phases: { produce, plainTcp, consume, producerRtt, sinkRtt },
    targets: { ...TARGETS, pass },
  };
  const yes = (ok: boolean): string => (ok ? 'yes' : 'NO');
  const skipped = (n: number, text: string): string => (Number.isNaN(n) ? '-' : text);
  const us = (n: number): string => skipped(n, `${n.toFixed(0)} µs`);
  const f = (n: number): string => skipped(n, n.toFixed(1));
  const count = (n: number): string => skipped(n, formatCount(n));
  const share = (cpu: number, seconds: number): string =>
    skipped(cpu / seconds, `${((cpu / seconds) * 100).toFixed(0)}%`);
  const cpuCells = (r: ReturnType<typeof rate>): string[] => [
    share(r.clientCpuSeconds, r.seconds),
    share(r.serverCpuSeconds, r.seconds),
  ];
  const rows = [
    [
      'produce, acks=1',
      count(produce.recordsPerSec),
      f(produce.mibPerSec),
      ...cpuCells(produce),
      skipped(
        produce.mibPerSec / plainTcp.mibPerSec,
        `${((produce.mibPerSec / plainTcp.mibPerSec) * 100).toFixed(0)}%`,
      ),
      `≥ ${formatCount(TARGETS.produceRecordsPerSec)} rec/s`,
      yes(pass.produce),
    ],
    [
      '  plain TCP → file',
      count(plainTcp.recordsPerSec),
      f(plainTcp.mibPerSec),
      ...cpuCells(plainTcp),
      '100%',
    ],
    [
      'consume, from the beginning',
      count(consume.recordsPerSec),
      f(consume.mibPerSec),
      ...cpuCells(consume),
      '',
      `≥ ${formatCount(TARGETS.consumeRecordsPerSec)} rec/s`,
      yes(pass.consume),
    ],
  ];
  const rttRows = [
    [
      'send 1 record, acks=1',
      us(producerRtt.p50Micros),
      us(producerRtt.p99Micros),
      us(producerRtt.maxMicros),
      `p50 ≤ ${TARGETS.roundTripP50Micros} µs`,
      yes(pass.roundTrip),
    ],
    [
      '  plain TCP: 100 B → ack',
      us(sinkRtt.p50Micros),
      us(sinkRtt.p99Micros),
      us(sinkRtt.maxMicros),
    ],
  ];
  const l = (xs: number[]): string => xs.map((x) => x.toFixed(2)).join(' ');
  const text = [
    `samsa ${name} benchmark: ${formatInt(o.records)} records of ${o.recordBytes} B (key ${o.keyBytes} B), ${formatBytes(bytes)} of payload, one partition`,
    `  broker and sink in their own processes on 127.0.0.1; batch.size ${formatInt(o.batchSize)}, linger.ms ${o.lingerMs}, ` +
      `max in flight ${o.maxInFlight}, ${o.sendRecords} records per send, ${o.sendsInFlight} sends outstanding`,
    `  node ${process.version}, ${platform()} ${arch()}, ${cpus().length} CPUs; load average ${l(m.load.slice(0, 3))} before, ${l(m.load.slice(3))} after`,
    `  one run of each phase after a warm-up; MiB/s counts payload bytes (key + value);`,
    `  CPU = user + system time of the client (this process) and the server (broker or sink) over the phase's wall time`,
    '',
    table(
      ['phase', 'records/s', 'MiB/s', 'client CPU', 'server CPU', 'vs plain', 'target', 'met'],
      rows,
    ),
    '',
    table(
      [`round trip (${formatInt(o.roundTrips)} sequential)`, 'p50', 'p99', 'max', 'target', 'met'],
      rttRows,
    ),
  ].join('\n');
  return { json, text, pass: pass.produce && pass.consume && pass.roundTrip };
}
// #endregion report

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
