/** The report of `npm run bench -- compaction`: the JSON figures and the tables. */
import { arch, cpus, platform } from 'node:os';
import type { Cleaned, Latency, LoadResult, Plan } from './compaction-phases.js';
import type { Options } from './compaction-flags.js';
import { MiB, type Throughput, formatBytes, formatInt, formatPercent, table } from './stats.js';

// #region report
export interface Figures {
  o: Options;
  p: Plan;
  root: string;
  buildSeconds: number;
  segmentsBefore: number;
  segmentsAfter: number;
  sizeAfter: number;
  read: Throughput;
  without: LoadResult;
  cleaned: Cleaned;
  /** 1-minute load average when the run started and when it ended: was the machine busy? */
  loadAverage: [number, number];
  problems: string[];
}

export function report(f: Figures): { json: object; text: string } {
  const { o, p, cleaned } = f;
  const s = cleaned.stats;
  const passSeconds = s.durationMs / 1000;
  const cleanerMibPerSec = s.bytesRead / MiB / passSeconds;
  const ratio = cleanerMibPerSec / f.read.mibPerSec;
  const machine =
    `node ${process.version}, ${platform()} ${arch()}, ${cpus().length} CPUs, ` +
    `load average ${f.loadAverage[0].toFixed(1)} → ${f.loadAverage[1].toFixed(1)}`;
  const json = {
    bench: 'compaction',
    date: new Date().toISOString(),
    node: process.version,
    platform: `${platform()} ${arch()}`,
    cpus: cpus().length,
    loadAverage1m: { start: f.loadAverage[0], end: f.loadAverage[1] },
    log: {
      bytes: p.logBytes,
      records: p.records,
      keys: p.keys,
      livePercent: o.livePercent,
      recordBytes: o.recordBytes,
      keyBytes: o.keyBytes,
      recordsPerBatch: p.recordsPerBatch,
      batchBytes: p.batchSize,
      segmentBytes: o.segmentBytes,
      segmentsBefore: f.segmentsBefore,
      segmentsAfter: f.segmentsAfter,
      sizeAfter: f.sizeAfter,
      buildSeconds: f.buildSeconds,
    },
    cleaner: {
      ...s,
      mibPerSec: cleanerMibPerSec,
      wallSeconds: cleaned.wallSeconds,
      syncCallMs: cleaned.syncCallMs,
      vsPlainRead: ratio,
    },
    plainRead: { ...f.read, statistic: `median of ${o.plainReadRuns} runs` },
    appends: {
      intervalMs: o.intervalMs,
      recordsPerAppend: o.appendRecords,
      latencyUnit: 'ms',
      withoutCleaner: f.without,
      withCleaner: cleaned.load,
    },
    problems: f.problems,
  };

  const ms = (v: number): string =>
    v < 1 ? v.toFixed(3) : v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0);
  const cells = (l: Latency | null): string[] =>
    l ? [ms(l.p50), ms(l.p99), ms(l.max)] : ['-', '-', '-'];
  const loadRows = (name: string, pick: (r: LoadResult) => Latency | null): string[][] => [
    [name, 'off', ...cells(pick(f.without))],
    ['', 'on', ...cells(pick(cleaned.load))],
  ];
  const keptPercent = formatPercent(s.recordsKept / Math.max(1, s.recordsRead));
  const text = [
    `samsa compaction benchmark: a ${formatBytes(p.logBytes)} log, ${formatInt(p.records)} records of ${o.recordBytes} B ` +
      `(key ${o.keyBytes} B + value ${o.recordBytes - o.keyBytes} B) over ${formatInt(p.keys)} keys (${o.livePercent}% live)`,
    `  ${f.segmentsBefore} segments of ≤ ${formatBytes(o.segmentBytes)}, ${p.recordsPerBatch} records per batch; ` +
      `built and fsynced in ${f.buildSeconds.toFixed(1)} s (${(p.logBytes / MiB / f.buildSeconds).toFixed(0)} MiB/s)`,
    `  ${machine}; files under ${f.root}`,
    '',
    table(
      ['cleaning', 'MiB', 'seconds', 'MiB/s', 'vs plain read'],
      [
        [
          'cleaner pass: bytes read / duration',
          (s.bytesRead / MiB).toFixed(1),
          passSeconds.toFixed(2),
          cleanerMibPerSec.toFixed(1),
          ratio < 0.1 ? `${(ratio * 100).toFixed(1)}%` : formatPercent(ratio),
        ],
        [
          `plain fs readSync, 1 MiB (median of ${o.plainReadRuns})`,
          (p.logBytes / MiB).toFixed(1),
          (p.logBytes / MiB / f.read.mibPerSec).toFixed(2),
          f.read.mibPerSec.toFixed(1),
          '100%',
        ],
      ],
    ),
    `  records read → kept: ${formatInt(s.recordsRead)} → ${formatInt(s.recordsKept)} (${keptPercent}); ` +
      `bytes ${formatBytes(s.bytesRead)} → ${formatBytes(s.bytesWritten)} written; ` +
      `segments read → written ${s.segmentsRead} → ${s.segmentsWritten}; ` +
      `log ${formatBytes(p.logBytes)} in ${f.segmentsBefore} segments → ${formatBytes(f.sizeAfter)} in ${f.segmentsAfter}`,
    `  pass wall time ${cleaned.wallSeconds.toFixed(2)} s; the log.compact() call returned its promise after ${ms(cleaned.syncCallMs)} ms`,
    '',
    `appends: ${o.appendRecords} records every ${o.intervalMs} ms (open loop), latencies in ms; ` +
      `without the cleaner: ${formatInt(f.without.appends)} appends in ${f.without.seconds.toFixed(1)} s, ` +
      `with it: ${formatInt(cleaned.load.appends)} in ${cleaned.load.seconds.toFixed(1)} s`,
    table(
      ['latency, ms', 'cleaner', 'p50', 'p99', 'max'],
      [
        ...loadRows('log.append call', (r) => r.call),
        ...loadRows('response (due → appended)', (r) => r.response),
        ...loadRows('event-loop delay', (r) => r.eventLoopDelay),
      ],
    ),
    ...(f.problems.length > 0 ? ['', ...f.problems.map((m) => `PROBLEM: ${m}`)] : []),
  ].join('\n');
  return { json, text };
}
// #endregion report
