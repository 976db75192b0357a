/**
 * `npm run bench -- compaction`: how fast the cleaner compacts a log, and
 * what a pass does to the latency of appends made to the same log meanwhile.
 *
 * Workload: a log of --bytes (default 1 GiB) of --record-bytes records
 * (default 100 = 10-byte key + 90-byte value) in batches of at most
 * --batch-bytes (16 KiB), in segments of --segment-bytes (64 MiB),
 * 'cleanup.policy' compact. Record i gets key (i mod K), K = records ×
 * --live-percent / 100 (default 10%): every key is written records/K times
 * and a pass keeps the last record of each, about 10% of the log. The log is
 * fsynced and rolled, so everything built is inactive and cleanable.
 *
 * Phases, in one process, on the same log:
 *   plain read  fs.readSync of the very segment files the cleaner will read,
 *               1 MiB at a time into one reused buffer, --plain-read-runs times
 *               (median): what "just reading the log" costs, from the page
 *               cache, as the cleaner will find it;
 *   warm-up     1 s of the append load, discarded (JIT, first allocations);
 *   without     the append load for --baseline-seconds (5 s), no cleaner;
 *   with        log.compact({ force: true, upperBound: end of the built log })
 *               started without awaiting it, the same load until the pass
 *               settles, then awaited (upperBound keeps the load's own
 *               appends out of the pass, even if they fill a segment).
 * The append load: one log.append of --append-records (10) records every
 * --interval-ms (1 ms), open loop: append k is due at start + k × interval,
 * and appends that fell due during a stall run back to back afterwards.
 * Three latencies: the log.append call itself; the response time, from when
 * the append was due to when it returned (what a producer would wait); and
 * the event-loop delay (perf_hooks.monitorEventLoopDelay at 1 ms resolution,
 * less that 1 ms timer period), which says whether the process stalls at all.
 *
 * The cleaner's MiB/s is CleanerStats.bytesRead / durationMs, set beside the
 * plain read of the same bytes. Afterwards the cleaned range is read back
 * (CRC checked): it must hold exactly the last record of every key, at that
 * record's offset, or the run fails.
 */
import { mkdirSync, mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { arch, cpus, loadavg, platform } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Log } from '../src/log/index.js';
import {
  type Cleaned,
  type CompactionOptions,
  type Latency,
  type LoadResult,
  type Plan,
  buildLog,
  diskNeeded,
  loadAlone,
  loadWhileCleaning,
  plainRead,
  plan,
  verifyCleaned,
} from './compaction-phases.js';
import { KiB, MiB, Progress, type Throughput, UsageError, formatBytes } from './stats.js';
import {
  formatInt,
  formatPercent,
  freshTempDir,
  parseIntFlag,
  table,
  throughput,
} from './stats.js';
import { timeSync } from './stats.js';

const GiB = 1024 * MiB;
const WARMUP_SECONDS = 1;

const HELP = `usage: npm run bench -- compaction [flags]
  --bytes SIZE          size of the log to clean (default 1GiB; 256MiB, 512m, 2g work too)
  --mib N               the same in MiB (--mib 128 is a quick run: about 15 s)
  --segment-bytes SIZE  segment size (default 64MiB)
  --live-percent P      share of records that survive the pass (default 10)
  --record-bytes R      key + value bytes per record (default 100)
  --key-bytes K         of which key bytes (default 10)
  --batch-bytes B       largest encoded batch while building (default 16KiB)
  --interval-ms T       one append every T ms during the latency phases (default 1)
  --append-records N    records per append (default 10)
  --baseline-seconds S  how long appends run without the cleaner (default 5)
  --plain-read-runs N   plain fs read runs; the median is reported (default 3)
  --dir DIR             work in a fresh directory under DIR (default: under the OS temp dir)
  --keep                keep the files (default: removed at the end)
  --json                print one JSON line with every figure instead of the tables

The default, a 1 GiB log, needs about 1.4 GiB of free disk and takes a minute or
two; run smaller with --mib 128 (or --bytes 256MiB).`;

interface Options extends CompactionOptions {
  dir: string | undefined;
  keep: boolean;
  json: boolean;
}

// #region flags
const UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: KiB,
  kb: KiB,
  kib: KiB,
  m: MiB,
  mb: MiB,
  mib: MiB,
  g: GiB,
  gb: GiB,
  gib: GiB,
};

/** "1GiB", "256MiB", "256m", "16k", "1048576": binary units (k = KiB, m = MiB, g = GiB). */
function parseSize(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const match = /^(\d[\d_,]*(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  const unit = UNITS[(match?.[2] ?? '').toLowerCase()];
  const n = match && unit ? Math.round(Number(match[1]!.replace(/[_,]/g, '')) * unit) : NaN;
  if (!Number.isSafeInteger(n) || n < 1)
    throw new UsageError(`--${name} must be a size such as 1GiB, 256MiB or 65536, got '${value}'`);
  return n;
}

function parseNumber(name: string, value: string | undefined, fallback: number, max = Infinity) {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n > max)
    throw new UsageError(`--${name} must be a number > 0 and ≤ ${max}, got '${value}'`);
  return n;
}

function parseOptions(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      bytes: { type: 'string' },
      mib: { type: 'string' },
      'segment-bytes': { type: 'string' },
      'live-percent': { type: 'string' },
      'record-bytes': { type: 'string' },
      'key-bytes': { type: 'string' },
      'batch-bytes': { type: 'string' },
      'interval-ms': { type: 'string' },
      'append-records': { type: 'string' },
      'baseline-seconds': { type: 'string' },
      'plain-read-runs': { type: 'string' },
      dir: { type: 'string' },
      keep: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return undefined;
  if (values.bytes !== undefined && values.mib !== undefined)
    throw new UsageError('give --bytes or --mib, not both');
  const bytes =
    values.mib !== undefined
      ? parseIntFlag('mib', values.mib, { fallback: 1024 }) * MiB
      : parseSize('bytes', values.bytes, GiB);
  const o: Options = {
    bytes,
    segmentBytes: parseSize('segment-bytes', values['segment-bytes'], 64 * MiB),
    livePercent: parseNumber('live-percent', values['live-percent'], 10, 100),
    recordBytes: parseIntFlag('record-bytes', values['record-bytes'], {
      fallback: 100,
      bytes: true,
    }),
    keyBytes: parseIntFlag('key-bytes', values['key-bytes'], { fallback: 10, min: 2, bytes: true }),
    batchBytes: parseSize('batch-bytes', values['batch-bytes'], 16 * KiB),
    intervalMs: parseNumber('interval-ms', values['interval-ms'], 1, 1000),
    appendRecords: parseIntFlag('append-records', values['append-records'], { fallback: 10 }),
    baselineSeconds: parseNumber('baseline-seconds', values['baseline-seconds'], 5, 3600),
    plainReadRuns: parseIntFlag('plain-read-runs', values['plain-read-runs'], { fallback: 3 }),
    dir: values.dir,
    keep: values.keep,
    json: values.json,
  };
  if (o.keyBytes > o.recordBytes) throw new UsageError('--key-bytes cannot exceed --record-bytes');
  if (o.segmentBytes > 2 ** 31 - 1) throw new UsageError('--segment-bytes must be below 2 GiB');
  return o;
}
// #endregion flags

// #region report
interface Figures {
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

function report(f: Figures): { json: object; text: string } {
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

// #region run
export async function run(argv: string[]): Promise<void> {
  const o = parseOptions(argv);
  if (!o) {
    process.stdout.write(HELP + '\n');
    return;
  }
  const p = plan(o);
  if (String(p.keys - 1).length > o.keyBytes)
    throw new UsageError(`${formatInt(p.keys)} keys do not fit in --key-bytes ${o.keyBytes}`);
  const root =
    o.dir === undefined
      ? freshTempDir('compaction')
      : mkdtempSync(join(mkdirP(o.dir), 'samsa-bench-compaction-'));
  const progress = new Progress();
  const loadAtStart = loadavg()[0]!;
  try {
    const stat = statfsSync(root);
    const free = stat.bavail * stat.bsize;
    const need = diskNeeded(o, p);
    progress.step(
      `compaction: a ${formatBytes(p.logBytes)} log needs about ${formatBytes(need)} of disk under ${root}; ${formatBytes(free)} free`,
    );
    if (free < need) {
      throw new UsageError(
        `not enough disk space: a ${formatBytes(p.logBytes)} log needs about ${formatBytes(need)} under ${root}, ` +
          `only ${formatBytes(free)} is free. Run smaller (--mib 128) or elsewhere (--dir DIR).`,
      );
    }
    const log = await Log.open(join(root, 'log'), {
      'cleanup.policy': 'compact',
      'segment.bytes': o.segmentBytes,
      'min.cleanable.dirty.ratio': 0,
      'max.message.bytes': Math.max(1024 * 1024 + 12, o.batchBytes),
    });
    try {
      const built = await buildLog(log, o, p, progress);
      const inactive = log.segments.slice(0, -1);
      const paths = inactive.map((seg) => seg.path);

      const readSeconds: number[] = [];
      for (let r = 0; r < o.plainReadRuns; r++) {
        progress.step(`compaction: plain fs read run ${r + 1}/${o.plainReadRuns}`);
        let got = 0;
        readSeconds.push(timeSync(() => void (got = plainRead(paths))));
        if (got !== built.bytes)
          throw new Error(`plain read got ${got} B, expected ${built.bytes}`);
      }
      const read = throughput(readSeconds, built.records, built.bytes);

      progress.step('compaction: warm-up appends');
      await loadAlone(log, o, WARMUP_SECONDS);
      progress.step(`compaction: appends without the cleaner (${o.baselineSeconds} s)`);
      const without = await loadAlone(log, o, o.baselineSeconds);
      progress.step('compaction: appends while the cleaner runs');
      const cleaned = await loadWhileCleaning(log, o, built.end);

      const problems: string[] = [];
      const s = cleaned.stats;
      if (s.skipped !== undefined) throw new Error(`the pass was skipped: ${s.skipped}`);
      if (s.recordsRead !== p.records)
        problems.push(`the cleaner read ${s.recordsRead} records, the log had ${p.records}`);
      if (s.recordsKept !== p.keys)
        problems.push(`the cleaner kept ${s.recordsKept} records, expected one per key: ${p.keys}`);
      if (s.bytesRead !== built.bytes)
        problems.push(`the cleaner read ${s.bytesRead} B, the log had ${built.bytes}`);
      progress.step('compaction: reading the cleaned log back');
      try {
        verifyCleaned(log, p, built.end);
      } catch (err) {
        problems.push(`read-back: ${(err as Error).message}`);
      }
      progress.done();
      // Segments of offsets below built.end: the appends of the load went to later ones.
      const cleanedRange = log.segments.filter((seg) => seg.baseOffset < built.end);
      const out = report({
        o,
        p,
        root,
        buildSeconds: built.seconds,
        segmentsBefore: inactive.length,
        segmentsAfter: cleanedRange.length,
        sizeAfter: cleanedRange.reduce((sum, seg) => sum + seg.size, 0),
        read,
        without,
        cleaned,
        loadAverage: [loadAtStart, loadavg()[0]!],
        problems,
      });
      process.stdout.write(o.json ? JSON.stringify(out.json) + '\n' : out.text + '\n');
      if (problems.length > 0) process.exitCode = 1;
    } finally {
      await log.close();
    }
  } finally {
    progress.done();
    if (o.keep) process.stderr.write(`compaction: files kept under ${root}\n`);
    else rmSync(root, { recursive: true, force: true });
  }
}
// #endregion run

function mkdirP(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}
