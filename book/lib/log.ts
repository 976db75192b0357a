/**
 * Helpers for walkthroughs that look at a log from the outside, the way a
 * consumer or an operator would: read everything, list the segments, catch
 * the error code of a refused call. Only the public entry point is used.
 */
import {
  type Log,
  type LogRecord,
  type SegmentInfo,
  decodeBatches,
  segmentFileName,
} from '../../src/log/index.js';

/**
 * Every record from `from` (default: the log start offset) to the log end, as
 * a consumer reads them: fetch the batch holding the offset, skip records
 * below it, continue after the batch's last offset. Gaps (offsets removed by
 * compaction) and batches left empty by the cleaner are stepped over.
 */
export function readAll(log: Log, from = log.logStartOffset): LogRecord[] {
  const all: LogRecord[] = [];
  for (let next = from; next < log.logEndOffset;) {
    const batches = decodeBatches(log.read(next));
    if (batches.length === 0) break;
    for (const batch of batches) all.push(...batch.records.filter((r) => r.offset >= next));
    next = batches[batches.length - 1]!.lastOffset + 1;
  }
  return all;
}

/** How many batches hold the offsets [from, log end), counting batches with no records left. */
export function countBatches(log: Log, from = log.logStartOffset): number {
  let count = 0;
  for (let next = from; next < log.logEndOffset;) {
    const batches = decodeBatches(log.read(next));
    if (batches.length === 0) break;
    count += batches.length;
    next = batches[batches.length - 1]!.lastOffset + 1;
  }
  return count;
}

/** A segment's .log file name: `00000000000000000042.log`. */
export const logFileName = (s: Pick<SegmentInfo, 'baseOffset'>): string =>
  segmentFileName(s.baseOffset, '.log');

/** A segment's offsets as `base–last`, or `base– (empty)` when it holds none yet. */
export const offsetRange = (s: Pick<SegmentInfo, 'baseOffset' | 'lastOffset'>): string =>
  s.lastOffset >= s.baseOffset ? `${s.baseOffset}–${s.lastOffset}` : `${s.baseOffset}– (empty)`;

/**
 * Runs `call` and returns the `code` of the error it threw (`LOG_OFFSET_OUT_OF_RANGE`, ...),
 * or undefined when it did not throw. An error without a code is thrown on.
 */
export function errorCode(call: () => unknown): string | undefined {
  try {
    call();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    throw err;
  }
  return undefined;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;

/** A duration in days, hours and minutes: `9d 7h`, `3h 30m`, `0m`. */
export function duration(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(ms);
  const d = Math.floor(rest / DAY_MS);
  rest -= d * DAY_MS;
  const h = Math.floor(rest / HOUR_MS);
  rest -= h * HOUR_MS;
  const m = Math.floor(rest / 60_000);
  const parts = [d > 0 ? `${d}d` : '', h > 0 ? `${h}h` : '', m > 0 ? `${m}m` : ''].filter(
    (p) => p !== '',
  );
  return sign + (parts.length === 0 ? '0m' : parts.join(' '));
}

/** A manual clock for `Log.open(dir, config, { clock })`: time moves only when you say so. */
export class ManualClock {
  constructor(public now: number) {}
  /** The function to pass as `clock`. */
  readonly read = (): number => this.now;
  advance(ms: number): number {
    this.now += ms;
    return this.now;
  }
  set(ms: number): number {
    this.now = ms;
    return this.now;
  }
}
