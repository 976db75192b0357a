/** Flags of `npm run bench -- compaction`: the help text, sizes and numbers, and their parsing. */
import { parseArgs } from 'node:util';
import type { CompactionOptions } from './compaction-phases.js';
import { KiB, MiB, UsageError, parseIntFlag } from './stats.js';

const GiB = 1024 * MiB;

export const HELP = `usage: npm run bench -- compaction [flags]
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

export interface Options extends CompactionOptions {
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

export function parseOptions(argv: string[]): Options | undefined {
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
