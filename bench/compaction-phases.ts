/**
 * What `npm run bench -- compaction` does (bench/compaction-flags.ts parses flags
 * and prints): build a log whose keys cycle over a key space so that about
 * `livePercent` of its records survive a cleaning pass, time a plain
 * sequential read of the same segment files, and run an open-loop append
 * load against the same log, once without the cleaner and once while a pass
 * runs. Every phase checks what it did: the cleaned log is read back and
 * must hold exactly the latest record of every key, at that record's offset.
 */
import { randomFillSync } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { type AppendRecord, Log, decodeBatches, encodeBatch } from '../src/log/index.js';
import type { CleanerStats } from '../src/log/index.js';
import { MiB, Progress, formatBytes, now, percentile } from './stats.js';

export const READ_CHUNK = MiB;
/** Distinct value slabs built up front; batches cycle through them. */
const POOL_BATCHES = 64;
/** During the build, fsync every this many bytes so no writeback burst lands in a timed phase. */
const BUILD_FLUSH_BYTES = 64 * MiB;
const ELD_RESOLUTION_MS = 1;

/** The flags the phases need. */
export interface CompactionOptions {
  /** Target size of the log to clean (encoded bytes). */
  bytes: number;
  recordBytes: number;
  keyBytes: number;
  batchBytes: number;
  segmentBytes: number;
  /** Percentage of records that survive the pass: keys = records × livePercent / 100. */
  livePercent: number;
  /** Milliseconds between two appends of the load. */
  intervalMs: number;
  /** Records in each append of the load. */
  appendRecords: number;
  /** How long the load runs without the cleaner. */
  baselineSeconds: number;
  plainReadRuns: number;
}

// #region plan
/** Sizes derived from the options before anything is written. */
export interface Plan {
  recordsPerBatch: number;
  /** Encoded size of one full batch. */
  batchSize: number;
  batches: number;
  records: number;
  keys: number;
  /** Expected bytes of the log to clean (all batches). */
  logBytes: number;
}

export function plan(o: CompactionOptions): Plan {
  const slab = randomFillSync(Buffer.allocUnsafe(o.recordBytes));
  const sample = (n: number): AppendRecord[] =>
    Array.from({ length: n }, () => ({
      key: slab.subarray(0, o.keyBytes),
      value: slab.subarray(o.keyBytes),
    }));
  const size = (n: number): number => encodeBatch(sample(n), { timestamp: 0 }).length;
  const perRecord = size(2) - size(1);
  let perBatch = Math.max(1, Math.floor(o.batchBytes / perRecord) + 1);
  while (perBatch > 1 && size(perBatch) > o.batchBytes) perBatch--;
  const batchSize = size(perBatch);
  const batches = Math.max(1, Math.ceil(o.bytes / batchSize));
  const records = batches * perBatch;
  const keys = Math.max(1, Math.round((records * o.livePercent) / 100));
  return {
    recordsPerBatch: perBatch,
    batchSize,
    batches,
    records,
    keys,
    logBytes: batches * batchSize,
  };
}

/** Disk space a run needs: the log, the cleaned copy written beside it, indexes, the appends. */
export function diskNeeded(o: CompactionOptions, p: Plan): number {
  const cleaned = p.logBytes * Math.min(1, (o.livePercent / 100) * 1.2 + 0.05);
  const indexes = p.logBytes * 0.02;
  return Math.ceil(p.logBytes + cleaned + indexes + 256 * MiB);
}
// #endregion plan

// #region build
export interface Built {
  seconds: number;
  records: number;
  bytes: number;
  /** The log end offset after the build: [0, end) is what the cleaner cleans. */
  end: number;
}

function keyOf(i: number, width: number): string {
  return String(i).padStart(width, '0');
}

/**
 * Appends p.batches batches of p.recordsPerBatch records; record i gets key
 * (i mod p.keys), zero-padded to keyBytes, and a random value (values repeat
 * every POOL_BATCHES batches, which does not matter without compression).
 * Flushes as it goes and at the end, then rolls, so the whole log is
 * inactive, on disk, and cleanable.
 */
export async function buildLog(
  log: Log,
  o: CompactionOptions,
  p: Plan,
  progress: Progress,
): Promise<Built> {
  const valueBytes = o.recordBytes - o.keyBytes;
  const pool = Array.from({ length: Math.min(POOL_BATCHES, p.batches) }, () => {
    const keys = Buffer.alloc(p.recordsPerBatch * o.keyBytes);
    const values = randomFillSync(Buffer.allocUnsafe(p.recordsPerBatch * valueBytes));
    const records: AppendRecord[] = Array.from({ length: p.recordsPerBatch }, (_, r) => ({
      key: keys.subarray(r * o.keyBytes, (r + 1) * o.keyBytes),
      value: values.subarray(r * valueBytes, (r + 1) * valueBytes),
    }));
    return { keys, records };
  });
  const start = now();
  let bytes = 0;
  let sinceFlush = 0;
  let nextTenth = 1;
  for (let b = 0; b < p.batches; b++) {
    const slot = pool[b % pool.length]!;
    const first = b * p.recordsPerBatch;
    for (let r = 0; r < p.recordsPerBatch; r++) {
      slot.keys.write(keyOf((first + r) % p.keys, o.keyBytes), r * o.keyBytes, 'latin1');
    }
    const result = log.appendBatch(encodeBatch(slot.records));
    bytes += result.size;
    sinceFlush += result.size;
    if (sinceFlush >= BUILD_FLUSH_BYTES) {
      sinceFlush = 0;
      await log.flush();
    }
    if ((b & 127) === 0) {
      progress.update('compaction: building the log', b, p.batches);
      await yieldToLoop();
    }
    if (b + 1 >= (nextTenth * p.batches) / 10) {
      const t = now() - start;
      progress.step(
        `compaction: building the log ${nextTenth * 10}% (${formatBytes(bytes)} of ${formatBytes(p.logBytes)}, ` +
          `${t.toFixed(1)} s, ${(bytes / MiB / t).toFixed(0)} MiB/s)`,
      );
      nextTenth++;
    }
  }
  await log.flush();
  log.roll();
  const seconds = now() - start;
  if (bytes !== p.logBytes) throw new Error(`built ${bytes} bytes, expected ${p.logBytes}`);
  if (log.logEndOffset !== p.records)
    throw new Error(`log ends at ${log.logEndOffset}, expected ${p.records}`);
  return { seconds, records: p.records, bytes, end: log.logEndOffset };
}
// #endregion build

// #region plain read
/** Reads the files in order with fs.readSync into one reused 1 MiB buffer; returns bytes read. */
export function plainRead(paths: readonly string[]): number {
  const buf = Buffer.allocUnsafe(READ_CHUNK);
  let bytes = 0;
  for (const path of paths) {
    const fd = openSync(path, 'r');
    try {
      while (true) {
        const got = readSync(fd, buf, 0, READ_CHUNK, null);
        if (got === 0) break;
        bytes += got;
      }
    } finally {
      closeSync(fd);
    }
  }
  return bytes;
}
// #endregion plain read

// #region append load
/** Milliseconds, summarised. */
export interface Latency {
  p50: number;
  p99: number;
  max: number;
}

export interface LoadResult {
  seconds: number;
  appends: number;
  /** Duration of each log.append call. */
  call: Latency | null;
  /**
   * Open loop: from the time the append was due (start + k × interval) to
   * the end of its log.append call. A stall delays every append due during
   * it, and each of them counts, so the tail shows what a client would see.
   */
  response: Latency | null;
  /**
   * perf_hooks.monitorEventLoopDelay at 1 ms resolution, over the whole
   * phase, less the 1 ms timer period itself (Node records the whole interval
   * between two ticks of its timer); null when the phase was too short to
   * sample.
   */
  eventLoopDelay: (Latency & { mean: number; samples: number }) | null;
}

function summarize(values: readonly number[]): Latency | null {
  if (values.length === 0) return null;
  return { p50: percentile(values, 50), p99: percentile(values, 99), max: Math.max(...values) };
}

/**
 * Starts appending one batch of `o.appendRecords` records every `o.intervalMs`
 * ms (setTimeout; appends that fell due during a stall run back to back as
 * soon as the loop gets control again). `stop()` ends the load and returns
 * what it measured.
 */
export function startLoad(log: Log, o: CompactionOptions): { stop(): LoadResult } {
  const value = randomFillSync(Buffer.allocUnsafe(o.recordBytes - o.keyBytes));
  const key = (i: number): Buffer => Buffer.from('L' + keyOf(i, o.keyBytes - 1), 'latin1');
  const batch: AppendRecord[] = Array.from({ length: o.appendRecords }, (_, i) => ({
    key: key(i),
    value,
  }));
  const call: number[] = [];
  const response: number[] = [];
  const histogram = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
  const origin = process.hrtime.bigint();
  const ms = (t: bigint): number => Number(t - origin) / 1e6;
  let due = 0; // ms after origin
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const tick = (): void => {
    const t = ms(process.hrtime.bigint());
    while (due <= t) {
      const before = process.hrtime.bigint();
      log.append(batch);
      const after = process.hrtime.bigint();
      call.push(Number(after - before) / 1e6);
      response.push(ms(after) - due);
      due += o.intervalMs;
    }
    if (!stopped) timer = setTimeout(tick, Math.max(0, due - ms(process.hrtime.bigint())));
  };
  histogram.enable();
  tick();
  return {
    stop(): LoadResult {
      stopped = true;
      clearTimeout(timer);
      histogram.disable();
      const seconds = ms(process.hrtime.bigint()) / 1000;
      const samples = histogram.count;
      const toMs = (ns: number): number => Math.max(0, ns / 1e6 - ELD_RESOLUTION_MS);
      return {
        seconds,
        appends: call.length,
        call: summarize(call),
        response: summarize(response),
        eventLoopDelay:
          samples === 0
            ? null
            : {
                p50: toMs(histogram.percentile(50)),
                p99: toMs(histogram.percentile(99)),
                max: toMs(histogram.max),
                mean: toMs(histogram.mean),
                samples,
              },
      };
    },
  };
}

/** Runs the load for `seconds` with nothing else going on. */
export async function loadAlone(
  log: Log,
  o: CompactionOptions,
  seconds: number,
): Promise<LoadResult> {
  const load = startLoad(log, o);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  return load.stop();
}

export interface Cleaned {
  stats: CleanerStats;
  /** Wall-clock seconds from calling log.compact to its promise settling. */
  wallSeconds: number;
  /** How long the log.compact call itself took before returning its promise. */
  syncCallMs: number;
  load: LoadResult;
}

/**
 * Starts a forced pass over [0, end) (the built log: upperBound keeps out any
 * segment the load's appends filled and rolled meanwhile), runs the load
 * until the pass finishes, then awaits it.
 */
export async function loadWhileCleaning(
  log: Log,
  o: CompactionOptions,
  end: number,
): Promise<Cleaned> {
  const load = startLoad(log, o);
  const start = now();
  const pass = log.compact({ force: true, upperBound: end });
  const syncCallMs = (now() - start) * 1000;
  let stats: CleanerStats;
  try {
    stats = await pass;
  } catch (err) {
    load.stop();
    throw err;
  }
  const wallSeconds = now() - start;
  return { stats, wallSeconds, syncCallMs, load: load.stop() };
}
// #endregion append load

// #region verify
export interface Verified {
  records: number;
  bytes: number;
}

/**
 * Reads [logStartOffset, end) back, CRC checked, and checks that it holds
 * exactly one record per key, the last one written: record i had key
 * (i mod keys), so key k's last record is at the largest offset i < records
 * with i mod keys = k.
 */
export function verifyCleaned(log: Log, p: Plan, end: number): Verified {
  const seen = new Uint8Array(p.keys);
  let records = 0;
  let bytes = 0;
  for (let offset = log.logStartOffset; offset < end;) {
    const buf = log.read(offset, { maxBytes: READ_CHUNK, maxOffset: end });
    if (buf.length === 0) break;
    bytes += buf.length;
    for (const batch of decodeBatches(buf)) {
      for (const record of batch.records) {
        const k = Number(record.key?.toString('latin1'));
        if (!Number.isInteger(k) || k < 0 || k >= p.keys)
          throw new Error(`offset ${record.offset}: unexpected key ${String(record.key)}`);
        const last = k + p.keys * Math.floor((p.records - 1 - k) / p.keys);
        if (record.offset !== last)
          throw new Error(
            `key ${k} kept at offset ${record.offset}, its last record is at ${last}`,
          );
        if (seen[k]) throw new Error(`key ${k} kept twice`);
        seen[k] = 1;
        records++;
      }
      offset = batch.lastOffset + 1;
    }
  }
  if (records !== p.keys)
    throw new Error(`the cleaned log holds ${records} keys, expected ${p.keys}`);
  return { records, bytes };
}
// #endregion verify
