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
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Log } from '../src/log/index.js';
import { HELP, parseOptions } from './compaction-flags.js';
import {
  buildLog,
  diskNeeded,
  loadAlone,
  loadWhileCleaning,
  plainRead,
  plan,
  verifyCleaned,
} from './compaction-phases.js';
import { report } from './compaction-report.js';
import { Progress, UsageError, formatBytes, formatInt, freshTempDir } from './stats.js';
import { throughput, timeSync } from './stats.js';

const WARMUP_SECONDS = 1;

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
