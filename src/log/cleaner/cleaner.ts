/**
 * The log cleaner (Kafka's log compaction), one pass at a time.
 *
 * The rule in one sentence: a record with key K at offset O is obsolete, and
 * is dropped, if the log holds a record with key K at a later offset; a
 * tombstone (null value) stays for `delete.retention.ms` after the cleaner
 * first reaches it, then goes too. Survivors keep their offsets.
 *
 * What it never touches: the active segment, any segment holding an offset
 * at or above the upper bound (the high watermark), any segment from the
 * first dirty one holding a record newer than `min.compaction.lag.ms` on,
 * and control batches (transaction markers). A pass:
 *
 *   plan (cleaning-plan.ts) → offset map over the dirty part (offset-map.ts)
 *   → each group rewritten (clean-group.ts, batch-filter.ts) and swapped in
 *   by renames (swap.ts) → the cleaner checkpoint moves to the end cleaned.
 *
 * Concurrency: the pass yields to the event loop between slices, so appends
 * and reads on the log go on meanwhile; a second pass asked for while one
 * runs on the same log waits for it, then runs.
 */
import { resolve } from 'node:path';
import { isCompacted } from '../config.js';
import type { Segment } from '../segment.js';
import type { CleanableLog, CleanerStats, CompactOptions } from './cleanable-log.js';
import { type CleaningPlan, groupSegments, planCleaning } from './cleaning-plan.js';
import { type GroupOutcome, cleanGroup } from './clean-group.js';
import { buildOffsetMap } from './offset-map.js';
import { Slicer } from './slicer.js';
import { swapIn } from './swap.js';

export { cleanerTestHooks } from './swap.js';
export type { SwapStep } from './swap.js';

/** The pass running (or last queued) per log directory. */
const passes = new Map<string, Promise<unknown>>();

/** One cleaning pass over `log`; a call made while a pass runs on the same log waits for it first. */
export function runCleaner(log: CleanableLog, options: CompactOptions = {}): Promise<CleanerStats> {
  checkOptions(options);
  const key = resolve(log.dir);
  const previous = passes.get(key) ?? Promise.resolve();
  const run = () => cleanOnce(log, options);
  const pass = previous.then(run, run);
  passes.set(key, pass);
  const forget = () => {
    if (passes.get(key) === pass) passes.delete(key);
  };
  pass.then(forget, (err: unknown) => {
    forget();
    const why = err instanceof Error ? err.message : String(err);
    log.logger.error(`cleaner pass over ${log.dir} failed: ${why}`);
  });
  return pass;
}

function checkOptions(options: CompactOptions): void {
  if (options === null || typeof options !== 'object')
    throw new TypeError('compact options must be an object');
  for (const name of ['now', 'upperBound'] as const) {
    const value = options[name];
    if (value !== undefined && !Number.isSafeInteger(value))
      throw new TypeError(`${name} must be an integer, got ${String(value)}`);
  }
}

async function cleanOnce(log: CleanableLog, options: CompactOptions): Promise<CleanerStats> {
  const startedAt = performance.now();
  const stats: CleanerStats = {
    start: log.cleanerCheckpoint,
    end: log.cleanerCheckpoint,
    bytesRead: 0,
    bytesWritten: 0,
    recordsRead: 0,
    recordsKept: 0,
    tombstonesRemoved: 0,
    segmentsRead: 0,
    segmentsWritten: 0,
    durationMs: 0,
  };
  const skip = (why: string): CleanerStats => {
    log.logger.debug(`cleaner skipped ${log.dir}: ${why}`);
    return { ...stats, skipped: why, durationMs: performance.now() - startedAt };
  };
  if (!isCompacted(log.config)) return skip('cleanup.policy has no compact');
  const now = options.now ?? log.clock();
  const upperBound = Math.min(options.upperBound ?? log.logEndOffset, log.logEndOffset);
  const slicer = new Slicer();
  const plan = await planCleaning(log, now, upperBound, slicer);
  if (typeof plan === 'string') return skip(plan);
  stats.start = plan.start;
  stats.end = plan.start;

  // #region dirty-ratio
  const ratio = plan.dirtyBytes / plan.totalBytes;
  const minRatio = log.config['min.cleanable.dirty.ratio'];
  if (ratio < minRatio && !options.force) {
    return skip(
      `dirty ratio ${ratio.toFixed(2)} is below min.cleanable.dirty.ratio ${minRatio} ` +
        `(${plan.dirtyBytes} of ${plan.totalBytes} bytes dirty)`,
    );
  }
  // #endregion dirty-ratio

  const map = await buildOffsetMap(plan.segments, plan.dirtyStart, plan.end, slicer, () =>
    log.holdsSegments(plan.segments),
  );
  if (!map) return skip('the log changed during the pass (retention, truncation or close)');
  const deleteHorizon = Math.min(now + log.config['delete.retention.ms'], Number.MAX_SAFE_INTEGER);
  let aborted = false;
  for (const group of groupSegments(plan.segments, log.config['segment.bytes'])) {
    const ctx = {
      map,
      mapFrom: plan.dirtyStart,
      mapTo: plan.end,
      now,
      deleteHorizon,
      slicer,
      stillHeld: () => log.holdsSegments(group),
    };
    const outcome = await cleanGroup(log.dir, log.segmentOptions, group, ctx);
    if (!outcome || !(await swapGroup(log, group, outcome))) {
      aborted = true;
      break;
    }
    addUp(stats, group, outcome);
    stats.end = group[group.length - 1]!.nextOffset;
  }
  if (stats.end === plan.start)
    return skip('the log changed during the pass (retention, truncation or close)');
  // A closed log holds no segment any more; it wrote its checkpoint when it closed.
  if (!aborted || log.holdsSegments(log.segments().slice(0, 1)))
    await recordCheckpoint(log, stats.end);
  stats.durationMs = performance.now() - startedAt;
  if (aborted) logAbort(log, plan, stats);
  return stats;
}

/**
 * Moves the cleaner checkpoint. The cleaning itself is durable already, so a
 * failed checkpoint write only means the next pass finds more to do: said, not thrown.
 */
async function recordCheckpoint(log: CleanableLog, end: number): Promise<void> {
  try {
    await log.setCleanerCheckpoint(end);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    log.logger.warn(`cleaner could not record its checkpoint ${end} for ${log.dir}: ${why}`);
  }
}

/** Swaps the cleaned group in when anything changed; false when the log lost the group. */
async function swapGroup(
  log: CleanableLog,
  group: readonly Segment[],
  outcome: GroupOutcome,
): Promise<boolean> {
  const { cleaned } = outcome;
  const from = `${group[0]!.baseOffset}..${group[group.length - 1]!.baseOffset}`;
  const kept = `kept ${outcome.recordsKept} of ${outcome.recordsRead} records`;
  const tombstones = `${outcome.tombstonesRemoved} tombstones removed`;
  if (!outcome.changed) {
    log.logger.debug(`cleaner ${kept} in segment ${from}: nothing to rewrite`);
    return log.holdsSegments(group);
  }
  if (!(await swapIn(log, group, cleaned))) return false;
  log.logger.info(
    `cleaner ${kept} (${tombstones}) in segments ${from}, ` +
      `${outcome.bytesRead} bytes → ${cleaned.size} bytes`,
  );
  return true;
}

function addUp(stats: CleanerStats, group: readonly Segment[], outcome: GroupOutcome): void {
  stats.bytesRead += outcome.bytesRead;
  stats.recordsRead += outcome.recordsRead;
  stats.recordsKept += outcome.recordsKept;
  stats.tombstonesRemoved += outcome.tombstonesRemoved;
  stats.segmentsRead += group.length;
  if (outcome.changed) {
    stats.bytesWritten += outcome.cleaned.size;
    stats.segmentsWritten += 1;
  }
}

function logAbort(log: CleanableLog, plan: CleaningPlan, stats: CleanerStats): void {
  log.logger.info(
    `cleaner stopped early in ${log.dir}: the log changed during the pass; ` +
      `offsets [${stats.start}, ${stats.end}) of [${plan.start}, ${plan.end}) were cleaned`,
  );
}
