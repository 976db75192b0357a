/**
 * A log's leader epochs (Kafka's UnifiedLog + LeaderEpochFileCache wiring):
 * the in-memory cache (src/replication/leader-epoch-cache.ts) of which epoch
 * wrote the first record at which offset, kept in step with the log and
 * persisted in `leader-epoch-checkpoint` in the log directory.
 *
 * Invariant: the cache describes the batches in [logStartOffset,
 * logEndOffset), plus at most an entry at the log end offset (a leader's
 * epoch that has not written yet, KAFKA-7415). The file never lags the log:
 * it is synced (fsynced, renamed) *before* a batch goes into a segment
 * whenever it differs from the cache, as Kafka's append writes a new
 * epoch's entry first, so a crash can only leave the file ahead of the log
 * (or without an entry at the log end); loading cuts it to the log's bounds.
 *
 * - append: every batch with an epoch ≥ 0 is assigned (epoch, baseOffset);
 *   batches with epoch -1 (a producer's, not stamped by a leader) are not.
 * - truncateTo: cut from the end at the new log end offset, also when the
 *   log did not change (an epoch that led without writing must go).
 * - the log start offset moves (retention, DeleteRecords): cut from the start.
 * - open: the file, bounded by the log; when the file is missing (a log from
 *   before epochs) or does not parse, the cache is rebuilt from the batch
 *   headers, which all carry their epoch, and the file is rewritten. An
 *   epoch that wrote nothing is not in any batch, so a rebuild loses it;
 *   a partition re-adds its own epoch when it becomes leader.
 *
 * Every write is synchronous and only when the file would change: once per
 * epoch change, truncation or log start move, never per append. Not for concurrent use across
 * processes; within one process every method runs to completion.
 */
import { existsSync, readFileSync } from 'node:fs';
import { LEADER_EPOCH_POS } from './batch-header.js';
import { CorruptBatchError } from './errors.js';
import type { Logger } from './logger.js';
import type { Segment } from './segment.js';
import { CorruptEpochCheckpointError } from '../replication/errors.js';
import {
  type EpochEndOffset,
  type EpochEntry,
  LeaderEpochCache,
} from '../replication/leader-epoch-cache.js';
import {
  leaderEpochCheckpointPath,
  parseLeaderEpochCheckpoint,
  writeLeaderEpochCheckpointSync,
} from '../replication/leader-epoch-checkpoint.js';

export interface LogBounds {
  readonly logStartOffset: number;
  readonly logEndOffset: number;
}

export class LeaderEpochs {
  /** The latest epoch, mirrored so that an append of the current epoch costs one comparison. */
  private latest = -1;
  /** The file may differ from the cache: the next append, truncation or start move syncs it. */
  private unsynced = false;

  private constructor(
    readonly dir: string,
    private readonly cache: LeaderEpochCache,
    /** What the file holds (as last read or written). */
    private written: readonly EpochEntry[],
  ) {
    this.latest = cache.latestEpoch ?? -1;
    this.unsynced = !sameEntries(cache.entries, written);
  }

  // #region load
  /** The cache of a log just loaded: its file, bounded by the log, or rebuilt from the batches. */
  static load(dir: string, segments: readonly Segment[], bounds: LogBounds, logger: Logger) {
    const path = leaderEpochCheckpointPath(dir);
    let problem: string | undefined;
    if (existsSync(path)) {
      try {
        const onDisk = readWhole(path);
        const cache = new LeaderEpochCache(onDisk);
        // The file may run ahead (a crash after it was written, before the log was):
        // cut here, and rewritten before anything else is appended.
        cache.truncateFromEnd(bounds.logEndOffset);
        cache.truncateFromStart(bounds.logStartOffset);
        return new LeaderEpochs(dir, cache, onDisk);
      } catch (err) {
        if (!(err instanceof CorruptEpochCheckpointError)) throw err;
        problem = err.message;
      }
    } else if (segments.every((segment) => segment.size === 0)) {
      return new LeaderEpochs(dir, new LeaderEpochCache(), []); // nothing to rebuild from
    }
    const { cache, batches } = rebuild(segments, bounds, logger);
    const epochs = new LeaderEpochs(dir, cache, [{ epoch: -1, startOffset: -1 }]); // never matches
    const why = problem ?? `${path} is missing`;
    const message = `${why}: rebuilt the leader epoch cache from ${batches} batch header(s): ${describe(cache.entries)}`;
    if (problem === undefined) logger.info(message);
    else logger.warn(message);
    epochs.sync();
    return epochs;
  }
  // #endregion load

  /** Entries (epoch, start offset), oldest first. */
  get entries(): EpochEntry[] {
    return this.cache.entries;
  }

  /** The epoch of the last batch written, or of the leader now writing; undefined when none. */
  get latestEpoch(): number | undefined {
    return this.cache.latestEpoch;
  }

  /** The epoch that wrote `offset`, undefined when no known epoch starts at or before it. */
  epochForOffset(offset: number): number | undefined {
    return this.cache.epochForOffset(offset);
  }

  /** OffsetsForLeaderEpoch: the largest epoch ≤ `epoch` this log knows, and where it ends. */
  endOffsetFor(epoch: number, logEndOffset: number): EpochEndOffset {
    return this.cache.endOffsetFor(epoch, logEndOffset);
  }

  // #region append
  /** Before a batch goes into a segment: its epoch (as stamped) starts at its base offset. */
  onAppend(epoch: number, baseOffset: number): void {
    if ((epoch < 0 || epoch === this.latest) && !this.unsynced) return;
    if (epoch >= 0) this.cache.assign(epoch, baseOffset);
    this.sync();
  }
  // #endregion append

  /**
   * Kafka's maybeAssignEpochStartOffset: `epoch` starts at `startOffset`. A
   * new leader calls it at its log end offset before it writes (KAFKA-7415).
   * The file follows before the next batch is appended: an entry with no
   * batch at or after it would be cut on the next open anyway, so a new
   * topic's partitions, or a restart, cost no write until something is.
   */
  assign(epoch: number, startOffset: number): void {
    if (this.cache.assign(epoch, startOffset)) this.unsynced = true;
    this.latest = this.cache.latestEpoch ?? -1;
  }

  // #region truncate
  /** The log was truncated (or asked to be): nothing may start at or after its end offset. */
  truncateFromEnd(logEndOffset: number): void {
    this.cache.truncateFromEnd(logEndOffset);
    this.sync();
  }

  /** The log start offset moved to `logStartOffset`. */
  truncateFromStart(logStartOffset: number): void {
    this.cache.truncateFromStart(logStartOffset);
    this.sync();
  }

  /** The log was emptied and starts again (Kafka's truncateFullyAndStartAt clears the cache). */
  clear(): void {
    this.cache.clear();
    this.sync();
  }
  // #endregion truncate

  /** Writes the file when it differs from the cache. */
  private sync(): void {
    this.latest = this.cache.latestEpoch ?? -1;
    const entries = this.cache.entries;
    if (!sameEntries(entries, this.written)) {
      writeLeaderEpochCheckpointSync(this.dir, entries); // on failure the next call tries again
      this.written = entries;
    }
    this.unsynced = false;
  }
}

/**
 * The cache as the batch headers say, oldest first: an epoch enters when it
 * is higher than every epoch before it (Kafka's recovery does the same).
 * Unstamped batches (epoch -1) are skipped. A damaged batch stops the walk.
 */
function rebuild(
  segments: readonly Segment[],
  bounds: LogBounds,
  logger: Logger,
): { cache: LeaderEpochCache; batches: number } {
  const cache = new LeaderEpochCache();
  let batches = 0;
  try {
    for (const segment of segments) {
      for (const batch of segment.log.batches(0, { withBytes: true })) {
        batches++;
        const epoch = batch.bytes!.readInt32BE(LEADER_EPOCH_POS);
        if (epoch >= 0 && epoch > (cache.latestEpoch ?? -1)) cache.assign(epoch, batch.baseOffset);
      }
    }
  } catch (err) {
    if (!(err instanceof CorruptBatchError)) throw err;
    logger.warn(`rebuilding the leader epochs stopped at a damaged batch: ${err.message}`);
  }
  cache.truncateFromEnd(bounds.logEndOffset);
  cache.truncateFromStart(bounds.logStartOffset);
  return { cache, batches };
}

/**
 * The file's entries. The parser reads an empty or version-only file as no
 * entries, and the cache heals entries out of order; but this module always
 * writes the count and strictly increasing entries, so such a file was
 * damaged (Kafka's format has no checksum) and is rebuilt instead.
 */
function readWhole(path: string): EpochEntry[] {
  const text = readFileSync(path, 'utf8');
  if (!/^[^\n]*\n[^\n]/.test(text))
    throw new CorruptEpochCheckpointError(path, 'it ends before the entry count');
  const entries = parseLeaderEpochCheckpoint(text, path);
  // This module writes entries strictly increasing in both fields; any other order is damage.
  for (let i = 1; i < entries.length; i++) {
    const [a, b] = [entries[i - 1]!, entries[i]!];
    if (b.epoch <= a.epoch || b.startOffset <= a.startOffset)
      throw new CorruptEpochCheckpointError(
        path,
        `entry ${i} (${b.epoch} ${b.startOffset}) is out of order`,
      );
  }
  return entries;
}

function sameEntries(a: readonly EpochEntry[], b: readonly EpochEntry[]): boolean {
  return (
    a.length === b.length &&
    a.every((e, i) => e.epoch === b[i]!.epoch && e.startOffset === b[i]!.startOffset)
  );
}

function describe(entries: readonly EpochEntry[]): string {
  if (entries.length === 0) return 'no epochs';
  return entries.map((e) => `epoch ${e.epoch} from ${e.startOffset}`).join(', ');
}
