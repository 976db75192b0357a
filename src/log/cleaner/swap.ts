/**
 * Swapping a cleaned group in for the segments it replaces, by renames, so
 * that a crash at any step leaves either the old segments or the new one on
 * open (log-loader.ts finishes or undoes the step), never a mix, never a loss:
 *
 *   1. `<base>.log.cleaned` and its indexes are written; the log is fsynced
 *   2. the log must still hold the group, or the cleaned files are deleted
 *   3. indexes `.cleaned` → `.swap`, then the log `.cleaned` → `.swap`:
 *      the commit point (the directory is fsynced so no later rename
 *      reaches the disk before it)
 *   4. the old segments are closed and their files renamed `.deleted`
 *   5. the `.swap` files take their live names, the log first
 *   6. the new segment is opened and takes the group's place in the log
 *   7. the `.deleted` files are removed
 *
 * Steps 2 to 6 run with no await between them: no reader of this process
 * ever sees half a swap.
 */
import { renameSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { fsyncDir } from '../checkpoint.js';
import { CLEANED_SUFFIX, DELETED_SUFFIX, SWAP_SUFFIX } from '../log-loader.js';
import { loadSegment } from '../segment-recovery.js';
import { Segment } from '../segment.js';
import type { CleanableLog } from './cleanable-log.js';
import { type CleanedSegment, segmentFiles } from './cleaned-segment.js';

export type SwapStep = 1 | 2 | 3 | 4 | 5 | 6 | 7;

/** For crash tests: called after each step; throwing from it stops the pass there, as a crash would. */
export const cleanerTestHooks: { afterStep?: (step: SwapStep, baseOffset: number) => void } = {};

function after(step: SwapStep, baseOffset: number): void {
  cleanerTestHooks.afterStep?.(step, baseOffset);
}

/**
 * Swaps `cleaned` (written and fsynced: step 1) in for `group`. False, with
 * the cleaned files removed, when the log no longer holds the group.
 */
export async function swapIn(
  log: CleanableLog,
  group: readonly Segment[],
  cleaned: CleanedSegment,
): Promise<boolean> {
  const base = cleaned.baseOffset;
  const [cleanedLog, ...cleanedIndexes] = segmentFiles(log.dir, base, CLEANED_SUFFIX);
  const swapped = segmentFiles(log.dir, base, SWAP_SUFFIX);
  const live = segmentFiles(log.dir, base);
  after(1, base);
  // #region swap
  if (!log.holdsSegments(group)) {
    cleaned.discard();
    return false;
  }
  after(2, base);
  const all = log.segments();
  const before = all[all.indexOf(group[0]!) - 1]; // the segment the new one follows
  renameSync(cleanedIndexes[0]!, swapped[1]!);
  renameSync(cleanedIndexes[1]!, swapped[2]!);
  renameSync(cleanedLog!, swapped[0]!); // the commit point
  fsyncDir(log.dir);
  after(3, base);
  let deleted: string[];
  try {
    deleted = group.flatMap((segment) => segment.renameWithSuffix(DELETED_SUFFIX));
    after(4, base);
    for (let i = 0; i < live.length; i++) renameSync(swapped[i]!, live[i]!); // the log first
    after(5, base);
    const segment = Segment.open(log.dir, base, log.segmentOptions);
    const recovered = loadSegment(segment, before ? before.lastOffset : -1);
    if (recovered) log.logger.warn(`${segment.path} needed recovery: ${recovered.reason}`);
    if (!log.replaceSegments(group, segment)) throw new Error('the log lost the group mid-swap');
    after(6, base);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    log.logger.error(`cleaner swap of ${swapped[0]} failed after its commit point: ${why}`);
    throw err; // the files on disk are past the commit point: reopening the log finishes the swap
  }
  // #endregion swap
  await Promise.all(deleted.map((path) => rm(path, { force: true })));
  after(7, base);
  return true;
}
