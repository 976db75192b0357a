/** The report of `npm run bench -- produce` and `-- consume`: targets, JSON figures and the tables. */
import { arch, cpus, platform } from 'node:os';
import { MiB, formatBytes, formatCount, formatInt, percentile, table } from './stats.js';
import type { Options } from './client-flags.js';

/** Untimed round trips before the timed ones (their CPU is in the phase's). */
export const WARMUP_ROUND_TRIPS = 500;

export const TARGETS = {
  produceRecordsPerSec: 1_000_000,
  consumeRecordsPerSec: 2_000_000,
  roundTripP50Micros: 100,
};

/** CPU seconds used during one phase: this process (the client) and the server process. */
export interface Cpu {
  client: number;
  server: number;
}

export interface Measured {
  /** rtt and sinkRtt include their untimed warm-up round trips. */
  cpu: { produce: Cpu; plainTcp: Cpu; consume: Cpu; rtt: Cpu; sinkRtt: Cpu };
  produceSeconds: number;
  sinkSeconds: number;
  consumeSeconds: number;
  producerRtt: number[];
  sinkRtt: number[];
  load: number[];
}

// #region report
export function summarize(name: string, o: Options, m: Measured) {
  const bytes = o.records * o.recordBytes;
  const rate = (seconds: number, cpu: Cpu) => ({
    seconds,
    recordsPerSec: o.records / seconds,
    mibPerSec: bytes / MiB / seconds,
    clientCpuSeconds: cpu.client,
    serverCpuSeconds: cpu.server,
    // The figure to compare between runs on a shared machine: wall time moves with the load, this less.
    clientCpuMicrosPerRecord: (cpu.client / o.records) * 1e6,
    serverCpuMicrosPerRecord: (cpu.server / o.records) * 1e6,
  });
  // CPU per round trip, in µs: the phase's CPU over its round trips, warm-up ones included.
  const perTrip = (cpu: number, n: number): number => (n === 0 ? NaN : (cpu / n) * 1e6);
  const latency = (micros: number[], cpu: Cpu) => {
    const n = micros.length === 0 ? 0 : micros.length + WARMUP_ROUND_TRIPS;
    return micros.length === 0
      ? {
          p50Micros: NaN,
          p99Micros: NaN,
          maxMicros: NaN,
          clientCpuMicros: NaN,
          serverCpuMicros: NaN,
        }
      : {
          p50Micros: percentile(micros, 50),
          p99Micros: percentile(micros, 99),
          maxMicros: Math.max(...micros),
          clientCpuMicros: perTrip(cpu.client, n),
          serverCpuMicros: perTrip(cpu.server, n),
        };
  };
  const produce = rate(m.produceSeconds, m.cpu.produce);
  const plainTcp = rate(m.sinkSeconds, m.cpu.plainTcp);
  const consume = rate(m.consumeSeconds, m.cpu.consume);
  const producerRtt = latency(m.producerRtt, m.cpu.rtt);
  const sinkRtt = latency(m.sinkRtt, m.cpu.sinkRtt);
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
      us(producerRtt.clientCpuMicros),
      us(producerRtt.serverCpuMicros),
      `p50 ≤ ${TARGETS.roundTripP50Micros} µs`,
      yes(pass.roundTrip),
    ],
    [
      '  plain TCP: 100 B → ack',
      us(sinkRtt.p50Micros),
      us(sinkRtt.p99Micros),
      us(sinkRtt.maxMicros),
      us(sinkRtt.clientCpuMicros),
      us(sinkRtt.serverCpuMicros),
    ],
  ];
  const l = (xs: number[]): string => xs.map((x) => x.toFixed(2)).join(' ');
  const text = [
    `samsa ${name} benchmark: ${formatInt(o.records)} records of ${o.recordBytes} B (key ${o.keyBytes} B), ${formatBytes(bytes)} of payload, one partition`,
    `  broker and sink in their own processes on 127.0.0.1; batch.size ${formatInt(o.batchSize)}, linger.ms ${o.lingerMs}, ` +
      `max in flight ${o.maxInFlight}, ${o.sendRecords} records per send, ${o.sendsInFlight} sends outstanding`,
    `  node ${process.version}, ${platform()} ${arch()}, ${cpus().length} CPUs; load average ${l(m.load.slice(0, 3))} before, ${l(m.load.slice(3))} after`,
    `  one run of each phase after a warm-up; MiB/s counts payload bytes (key + value);`,
    `  CPU = user + system time of the client (this process) and the server (broker or sink) over the phase's wall time;`,
    `  for round trips, CPU time per round trip`,
    '',
    table(
      ['phase', 'records/s', 'MiB/s', 'client CPU', 'server CPU', 'vs plain', 'target', 'met'],
      rows,
    ),
    '',
    table(
      [
        `round trip (${formatInt(o.roundTrips)} sequential)`,
        'p50',
        'p99',
        'max',
        'client CPU',
        'server CPU',
        'target',
        'met',
      ],
      rttRows,
    ),
  ].join('\n');
  return { json, text, pass: pass.produce && pass.consume && pass.roundTrip };
}
// #endregion report
