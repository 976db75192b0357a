/**
 * Small helpers every benchmark shares: a monotonic clock, summary statistics
 * over repeated runs, number formatting, a plain-text table, a one-line
 * progress indicator on stderr, and flag parsing for integers.
 *
 * Conventions: durations are seconds (numbers), taken from
 * process.hrtime.bigint(); rates are per second; 1 MiB = 1,048,576 bytes.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const KiB = 1024;
export const MiB = 1024 * 1024;

// #region timing
/** Seconds since an arbitrary point, from the monotonic high-resolution clock. */
export function now(): number {
  return Number(process.hrtime.bigint()) / 1e9;
}

/** Runs `fn` once and returns how long it took, in seconds. */
export function timeSync(fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** Runs `fn` once, awaits it, and returns how long it took, in seconds. */
export async function timeAsync(fn: () => Promise<void>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}
// #endregion timing

// #region statistics
/** The p-th percentile (0..100) of `values`, by linear interpolation between ranks. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError('percentile of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (Math.min(Math.max(p, 0), 100) / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Throughput of one phase measured over several runs of the same work. */
export interface Throughput {
  /** Wall-clock seconds of each run, in run order. */
  seconds: number[];
  /** Median run, as records/s and MiB/s. */
  recordsPerSec: number;
  mibPerSec: number;
  /** Fastest and slowest run, MiB/s: the spread tells how noisy the machine was. */
  bestMibPerSec: number;
  worstMibPerSec: number;
}

/** Summarises runs that each processed `records` records and `bytes` bytes. */
export function throughput(seconds: number[], records: number, bytes: number): Throughput {
  const mid = median(seconds);
  return {
    seconds,
    recordsPerSec: records / mid,
    mibPerSec: bytes / MiB / mid,
    bestMibPerSec: bytes / MiB / Math.min(...seconds),
    worstMibPerSec: bytes / MiB / Math.max(...seconds),
  };
}
// #endregion statistics

// #region formatting
/** 2345678 → "2.35 M", 12345 → "12.3 k", 12 → "12.0". */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (abs >= 1e9) return (n / 1e9).toFixed(2) + ' G';
  if (abs >= 1e6) return (n / 1e6).toFixed(2) + ' M';
  if (abs >= 1e3) return (n / 1e3).toFixed(1) + ' k';
  return n.toFixed(1);
}

/** Bytes in the largest binary unit that keeps the number ≥ 1: "16.0 KiB", "103.4 MiB". */
export function formatBytes(n: number): string {
  if (n >= 1024 * MiB) return (n / (1024 * MiB)).toFixed(2) + ' GiB';
  if (n >= MiB) return (n / MiB).toFixed(1) + ' MiB';
  if (n >= KiB) return (n / KiB).toFixed(1) + ' KiB';
  return `${n} B`;
}

/** 1234567 → "1,234,567". */
export function formatInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function formatPercent(ratio: number): string {
  return (ratio * 100).toFixed(0) + '%';
}

/**
 * A plain-text table: the first column left-aligned, the others right-aligned,
 * columns separated by two spaces, a rule under the header.
 */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(header), rule, ...rows.map(line)].join('\n');
}
// #endregion formatting

// #region progress
/**
 * A one-line progress indicator on stderr. On a terminal it rewrites one line
 * (at most every 100 ms); elsewhere (a pipe, CI) it prints one line per
 * step, so logs stay short. Never writes to stdout, which --json owns.
 */
export class Progress {
  private lastDraw = 0;
  private readonly tty = process.stderr.isTTY === true;

  constructor(private readonly enabled = true) {}

  /** Starts a step: "log: append run 2/3". */
  step(label: string): void {
    if (!this.enabled) return;
    if (this.tty) this.draw(label, true);
    else process.stderr.write(label + '\n');
  }

  /** Reports `done` out of `total` within the current step. Cheap to call often. */
  update(label: string, done: number, total: number): void {
    if (!this.enabled || !this.tty) return;
    const t = now();
    if (t - this.lastDraw < 0.1 && done < total) return;
    this.lastDraw = t;
    this.draw(`${label} ${((done / total) * 100).toFixed(0).padStart(3)}%`, false);
  }

  /** Clears the line before the results are printed. */
  done(): void {
    if (this.enabled && this.tty) process.stderr.write('\r\x1b[2K');
  }

  private draw(text: string, force: boolean): void {
    if (force) this.lastDraw = now();
    process.stderr.write('\r\x1b[2K' + text);
  }
}
// #endregion progress

// #region flags
/**
 * Parses an integer flag. Accepts 1000000, 1_000_000 and 1,000,000, and a
 * suffix: for counts k = 10^3, m = 10^6; for byte sizes k = KiB, m = MiB.
 */
export function parseIntFlag(
  name: string,
  value: string | undefined,
  options: { fallback: number; min?: number; bytes?: boolean },
): number {
  if (value === undefined) return options.fallback;
  const min = options.min ?? 1;
  const match = /^(\d[\d_,]*)([km]?)$/i.exec(value.trim());
  const suffix = (match?.[2] ?? '').toLowerCase();
  const scale = suffix === '' ? 1 : (options.bytes ? KiB : 1000) ** (suffix === 'k' ? 1 : 2);
  const n = match ? Number(match[1]!.replace(/[_,]/g, '')) * scale : NaN;
  if (!Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`--${name} must be an integer ≥ ${min}, got '${value}'`);
  }
  return n;
}

/** A bad command line: the dispatcher prints the message and exits with status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A fresh directory under the OS temp dir, e.g. /tmp/samsa-bench-log-Xy12ab. */
export function freshTempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `samsa-bench-${prefix}-`));
}
// #endregion flags
