/**
 * The narrow view of a Log that the cleaner works through (cleaner/cleanable-log.ts):
 * its offsets, its segments, a checkpoint it may only raise, and a swap of segments
 * that fails once the log is closed. It stands alone so that what compaction may
 * touch of a log is written in one place, not spread through the Log class; the
 * Log hands over the private parts it needs explicitly (`LogParts`).
 */
import type { CleanableLog } from './cleaner/cleanable-log.js';
import type { LogConfig } from './config.js';
import type { LogFlusher } from './log-flusher.js';
import type { LogSegments } from './log-segments.js';
import type { Clock, Logger } from './logger.js';

/** What the view reads of the Log's public face (live: the offsets move while a pass runs). */
export interface LogFace {
  readonly dir: string;
  readonly config: LogConfig;
  readonly logStartOffset: number;
  readonly logEndOffset: number;
  readonly cleanerCheckpoint: number;
  readonly isClosed: boolean;
}

/** The Log's private parts the cleaner may work through, and nothing else. */
export interface LogParts {
  readonly segments: LogSegments;
  readonly flusher: LogFlusher;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Raises the cleaner checkpoint to `offset` (never lowers it); the view makes it durable. */
  raiseCleanerCheckpoint(offset: number): void;
}

export function cleanableView(log: LogFace, parts: LogParts): CleanableLog {
  const { segments, flusher } = parts;
  return {
    dir: log.dir,
    config: log.config,
    segmentOptions: segments.options,
    logger: parts.logger,
    clock: parts.clock,
    get logStartOffset() {
      return log.logStartOffset;
    },
    get logEndOffset() {
      return log.logEndOffset;
    },
    get cleanerCheckpoint() {
      return log.cleanerCheckpoint;
    },
    segments: () => segments.all,
    setCleanerCheckpoint: async (offset) => {
      parts.raiseCleanerCheckpoint(offset);
      await flusher.writeCheckpoint();
    },
    holdsSegments: (run) => !log.isClosed && segments.holds(run),
    replaceSegments: (run, replacement) => {
      if (log.isClosed || !segments.replace(run, replacement)) return false;
      for (const old of run) flusher.forget(old);
      return true;
    },
  };
}
