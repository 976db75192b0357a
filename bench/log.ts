/**
 * `npm run bench -- log`: how fast the storage engine (src/log) encodes,
 * decodes, appends and reads record batches, next to plain fs doing the same
 * I/O.
 *
 * Workload: --records records (default 1,000,000) of --record-bytes bytes
 * (default 100), where the record size is the key (--key-bytes, default 10)
 * plus the value: the payload a producer hands over. Records are grouped into
 * as many per batch as keep the encoded batch ≤ --batch-bytes (default 16 KiB).
 * MiB/s always counts encoded batch bytes (payload + record framing + the
 * 61-byte batch header), i.e. the bytes that reach the disk.
 *
 * Phases, each run --runs times (default 5) after a short untimed warm-up on
 * a slice of the workload; the table shows the median run:
 *   encode  encodeBatch for every batch (records are built before timing; the
 *           output is dropped as a producer would, not kept alive, see measure);
 *   decode  decodeBatches on every encoded batch, CRC checked as a consumer does;
 *   append  Log.appendBatch of the pre-encoded batches into a fresh log, then
 *           one `await log.flush()`, which is included in the time;
 *   read    the whole log, sequentially, with log.read(offset, {maxBytes: 1 MiB}),
 *           from the page cache; the next offset comes from the batch headers
 *           only (readBatchHeader), records are not decoded.
 *
 * Why the baseline is fair: in each run, plain fs writes the very same encoded
 * buffers, in the same order and sizes, with fs.writeSync to a fresh file and
 * then one fsync, and reads that file back with fs.readSync into a fresh
 * 1 MiB buffer per call (log.read also returns a fresh buffer). samsa's extra
 * costs (CRC check, offset patching, index updates, the checkpoint file
 * written by flush, index lookups on read) are exactly what the ratio
 * measures. samsa and plain fs runs alternate and take turns going first
 * (ABBA), so machine noise and page-cache state hit both alike. The median
 * (not the best) run is reported, with the range beside it: on a busy
 * machine the spread says how far to trust the figure.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { arch, cpus, platform } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type Measured, type Workload, type WorkloadOptions } from './log-phases.js';
import { buildWorkload, measure } from './log-phases.js';
import { KiB, Progress, type Throughput, UsageError, formatBytes, formatCount } from './stats.js';
import { formatInt, formatPercent, freshTempDir, parseIntFlag, table } from './stats.js';

const TARGETS = {
  encodeRecordsPerSec: 2_000_000,
  decodeRecordsPerSec: 2_000_000,
  appendRatio: 0.7,
};
const WARMUP_BATCHES = 300;

const HELP = `usage: npm run bench -- log [flags]
  --records N       records to write (default 1,000,000; 1m and 1_000_000 work too)
  --record-bytes R  key + value bytes per record (default 100)
  --key-bytes K     of which key bytes (default 10)
  --batch-bytes B   largest encoded batch (default 16384; 16k works too)
  --runs N          timed runs per phase; the median is reported (default 5)
  --dir DIR         work in a fresh directory under DIR (default: under the OS temp dir)
  --keep            keep the files written (default: removed at the end)
  --json            print one JSON line with every figure instead of the table
  --check           exit 1 when a target is missed`;

interface Options extends WorkloadOptions {
  dir: string | undefined;
  keep: boolean;
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
      'batch-bytes': { type: 'string' },
      runs: { type: 'string' },
      dir: { type: 'string' },
      keep: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      check: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return undefined;
  const options: Options = {
    records: parseIntFlag('records', values.records, { fallback: 1_000_000 }),
    recordBytes: parseIntFlag('record-bytes', values['record-bytes'], {
      fallback: 100,
      bytes: true,
    }),
    keyBytes: parseIntFlag('key-bytes', values['key-bytes'], { fallback: 10, min: 0, bytes: true }),
    batchBytes: parseIntFlag('batch-bytes', values['batch-bytes'], {
      fallback: 16 * KiB,
      bytes: true,
    }),
    runs: parseIntFlag('runs', values.runs, { fallback: 5 }),
    dir: values.dir,
    keep: values.keep,
    json: values.json,
    check: values.check,
  };
  if (options.keyBytes > options.recordBytes)
    throw new UsageError('--key-bytes cannot exceed --record-bytes');
  return options;
}

// #region report
function summarize(o: Options, work: Workload, m: Measured, root: string) {
  const appendRatio = m.append.mibPerSec / m.plainAppend.mibPerSec;
  const readRatio = m.read.mibPerSec / m.plainRead.mibPerSec;
  const pass = {
    encode: m.encode.recordsPerSec >= TARGETS.encodeRecordsPerSec,
    decode: m.decode.recordsPerSec >= TARGETS.decodeRecordsPerSec,
    append: appendRatio >= TARGETS.appendRatio,
  };
  const onDisk = m.encodedBytes / o.records;
  const json = {
    bench: 'log',
    node: process.version,
    platform: `${platform()} ${arch()}`,
    cpus: cpus().length,
    statistic: `median of ${o.runs} runs`,
    records: o.records,
    recordBytes: o.recordBytes,
    keyBytes: o.keyBytes,
    valueBytes: o.recordBytes - o.keyBytes,
    batchBytes: o.batchBytes,
    recordsPerBatch: work.recordsPerBatch,
    batches: work.batches.length,
    encodedBytes: m.encodedBytes,
    encodedBytesPerRecord: onDisk,
    phases: {
      encode: m.encode,
      decode: m.decode,
      append: m.append,
      plainAppend: m.plainAppend,
      read: m.read,
      plainRead: m.plainRead,
    },
    ratios: { append: appendRatio, read: readRatio },
    targets: { ...TARGETS, pass },
  };
  const yes = (ok: boolean): string => (ok ? 'yes' : 'NO');
  const row = (name: string, t: Throughput, ratio = '', target = '', met = ''): string[] => [
    name,
    formatCount(t.recordsPerSec),
    t.mibPerSec.toFixed(1),
    `${t.worstMibPerSec.toFixed(0)}..${t.bestMibPerSec.toFixed(0)}`,
    ratio,
    target,
    met,
  ];
  const rows = [
    row(
      'encode  encodeBatch',
      m.encode,
      '',
      `≥ ${formatCount(TARGETS.encodeRecordsPerSec)} rec/s`,
      yes(pass.encode),
    ),
    row(
      'decode  decodeBatches, CRC on',
      m.decode,
      '',
      `≥ ${formatCount(TARGETS.decodeRecordsPerSec)} rec/s`,
      yes(pass.decode),
    ),
    row(
      'append  samsa appendBatch+flush',
      m.append,
      formatPercent(appendRatio),
      `≥ ${formatPercent(TARGETS.appendRatio)} of plain`,
      yes(pass.append),
    ),
    row('        plain fs writeSync+fsync', m.plainAppend, '100%'),
    row('read    samsa read, 1 MiB', m.read, formatPercent(readRatio), '(none)'),
    row('        plain fs readSync, 1 MiB', m.plainRead, '100%'),
  ];
  const text = [
    `samsa log benchmark: ${formatInt(o.records)} records, record size ${o.recordBytes} B = key ${o.keyBytes} B + value ${o.recordBytes - o.keyBytes} B (payload only)`,
    `  ${work.recordsPerBatch} records per batch (encoded batch ≤ ${formatInt(o.batchBytes)} B), ${formatInt(work.batches.length)} batches, ` +
      `${formatBytes(m.encodedBytes)} encoded = ${onDisk.toFixed(1)} B/record on disk (record framing + batch header)`,
    `  node ${process.version}, ${platform()} ${arch()}, ${cpus().length} CPUs; files under ${root}`,
    `  figures: median of ${o.runs} runs after a warm-up; MiB/s counts encoded bytes; range = slowest..fastest run;`,
    `  plain fs records/s = the same bytes' worth of records`,
    '',
    table(['phase', 'records/s', 'MiB/s', 'range MiB/s', 'vs plain', 'target', 'met'], rows),
  ].join('\n');
  return { json, text, pass: pass.encode && pass.decode && pass.append };
}
// #endregion report

// #region run
export async function run(argv: string[]): Promise<void> {
  const o = parseOptions(argv);
  if (!o) {
    process.stdout.write(HELP + '\n');
    return;
  }
  const root =
    o.dir === undefined
      ? freshTempDir('log')
      : mkdtempSync(join(mkdirP(o.dir), 'samsa-bench-log-'));
  const progress = new Progress();
  try {
    progress.step('log: building records');
    const work = buildWorkload(o);
    progress.step('log: warm-up');
    const warmBatches = work.batches.slice(0, WARMUP_BATCHES);
    const warm = { ...o, runs: 1, records: warmBatches.reduce((sum, b) => sum + b.length, 0) };
    await measure(
      warm,
      { ...work, batches: warmBatches },
      mkdtempSync(join(root, 'warmup-')),
      new Progress(false),
    );
    const m = await measure(o, work, root, progress);
    progress.done();
    const report = summarize(o, work, m, root);
    process.stdout.write(o.json ? JSON.stringify(report.json) + '\n' : report.text + '\n');
    if (o.check && !report.pass) process.exitCode = 1;
  } finally {
    progress.done();
    if (!o.keep) rmSync(root, { recursive: true, force: true });
  }
}
// #endregion run

function mkdirP(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}
