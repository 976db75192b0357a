/**
 * What the cleaner may see of a log and do to it: no more. The Log implements
 * this; the cleaner never reaches into the Log's other state.
 */
import type { LogConfig } from '../config.js';
import type { Clock, Logger } from '../logger.js';
import type { Segment, SegmentOptions } from '../segment.js';

export interface CleanableLog {
  readonly dir: string;
  readonly config: LogConfig;
  readonly segmentOptions: SegmentOptions;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly logStartOffset: number;
  readonly logEndOffset: number;
  /** Segments oldest first; the last is the active segment, which is never cleaned. */
  segments(): readonly Segment[];
  /** Offsets below this have been cleaned at least once (Kafka's cleaner checkpoint). */
  readonly cleanerCheckpoint: number;
  /** Records, and makes durable, how far cleaning has reached. */
  setCleanerCheckpoint(offset: number): Promise<void>;
  /**
   * Swaps the contiguous run `replaced` for `replacement` in the list of
   * segments, synchronously. Returns false, changing nothing, when the log
   * no longer holds exactly that run (retention or truncation got there first).
   */
  replaceSegments(replaced: readonly Segment[], replacement: Segment): boolean;
  /** Whether `replaceSegments(replaced, …)` would succeed now. */
  holdsSegments(replaced: readonly Segment[]): boolean;
}

/** What one cleaning pass did. */
export interface CleanerStats {
  /** Why nothing was cleaned, when nothing was. */
  skipped?: string;
  /** The offsets cleaned: [start, end). */
  start: number;
  end: number;
  bytesRead: number;
  bytesWritten: number;
  recordsRead: number;
  recordsKept: number;
  tombstonesRemoved: number;
  segmentsRead: number;
  segmentsWritten: number;
  durationMs: number;
}

export interface CompactOptions {
  /** The time the pass runs at; defaults to the log's clock. */
  now?: number;
  /** Nothing holding an offset ≥ this is cleaned (the high watermark); default the log end offset. */
  upperBound?: number;
  /** Clean even below min.cleanable.dirty.ratio (a command-line "compact now"). */
  force?: boolean;
}
