/**
 * Group commit for one log. Appends land in the page cache and mark their
 * segment dirty; a flush fsyncs every dirty segment once, on the thread pool,
 * however many appends and flush() calls it covers, and then advances the
 * recovery point (every offset below it is on disk).
 *
 * The checkpoint file that records the recovery point is rewritten at most
 * every `checkpointIntervalMs` and at close (Kafka: every 60 s). A stale,
 * lower recovery point is always safe — recovery only checks more — so it
 * never needs to be written on the hot path. The one exception: a truncation
 * lowers it, and that is written at once, before new data can be appended
 * below the old value.
 */
import { join } from 'node:path';
import {
  CHECKPOINT_FILE,
  CLEANER_OFFSET,
  LOG_START_OFFSET,
  RECOVERY_POINT,
  writeCheckpoint,
  writeCheckpointSync,
} from './checkpoint.js';
import type { LogConfig } from './config.js';
import type { Clock, Logger } from './logger.js';
import type { Segment } from './segment.js';

/** What the flusher needs to see of its log. */
export interface FlushedLog {
  readonly dir: string;
  readonly config: LogConfig;
  readonly logEndOffset: number;
  readonly logStartOffset: number;
  readonly cleanerCheckpoint: number;
  readonly isClosed: boolean;
}

export class LogFlusher {
  private dirty = new Set<Segment>();
  private unflushedMessages = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private nextFlush: Promise<void> | undefined;
  /** Lowest log end offset a truncation set while the current flush ran: caps what it may claim. */
  private truncationFloor = Number.MAX_SAFE_INTEGER;
  private lastCheckpointAt: number;
  private checkpointWrites: Promise<void> = Promise.resolve();

  constructor(
    private readonly log: FlushedLog,
    private _recoveryPoint: number,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly checkpointIntervalMs: number,
  ) {
    this.lastCheckpointAt = clock();
  }

  get recoveryPoint(): number {
    return this._recoveryPoint;
  }

  markDirty(segment: Segment): void {
    this.dirty.add(segment);
  }

  forget(segment: Segment): void {
    this.dirty.delete(segment);
  }

  // #region flush
  /** Counts appended records and starts a flush when `flush.messages` or `flush.ms` says so. */
  afterAppend(records: number): void {
    this.unflushedMessages += records;
    if (this.unflushedMessages >= this.log.config['flush.messages']) {
      this.flushInBackground();
    } else if (this.timer === undefined && this.log.config['flush.ms'] < 2 ** 31) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        if (!this.log.isClosed) this.flushInBackground();
      }, this.log.config['flush.ms']);
      this.timer.unref();
    }
  }

  private flushInBackground(): void {
    this.flush().catch((err: unknown) =>
      this.logger.error(`flush of ${this.log.dir} failed: ${String(err)}`),
    );
  }

  /**
   * Resolves once everything appended before the call is on disk. Calls that
   * arrive while an fsync runs share the next one: many appends, one fsync.
   */
  flush(options: { checkpoint?: boolean } = {}): Promise<void> {
    if (this.flushing) {
      this.nextFlush ??= this.flushing.then(() => {
        this.nextFlush = undefined;
        return this.runFlush(options);
      });
      return this.nextFlush;
    }
    return this.runFlush(options);
  }

  private runFlush(options: { checkpoint?: boolean }): Promise<void> {
    const target = this.log.logEndOffset;
    this.truncationFloor = Number.MAX_SAFE_INTEGER;
    const segments = [...this.dirty];
    this.dirty.clear();
    this.unflushedMessages = 0;
    this.stopTimer();
    const run = (async () => {
      await Promise.all(segments.map((s) => s.flush()));
      const flushed = Math.min(target, this.truncationFloor, this.log.logEndOffset);
      this._recoveryPoint = Math.max(this._recoveryPoint, flushed);
      const due = this.clock() - this.lastCheckpointAt >= this.checkpointIntervalMs;
      if (options.checkpoint || due) await this.writeCheckpoint();
    })();
    this.flushing = run;
    return run.finally(() => {
      if (this.flushing === run) this.flushing = undefined;
    });
  }
  // #endregion flush

  /** After a truncation: the recovery point may not vouch for offsets that will be written again. */
  lowerRecoveryPoint(offset: number): void {
    this._recoveryPoint = Math.min(this._recoveryPoint, offset);
    this.truncationFloor = Math.min(this.truncationFloor, offset);
    writeCheckpointSync(join(this.log.dir, CHECKPOINT_FILE), this.checkpointValues());
  }

  /** Writes the checkpoint now (the log start offset or cleaner offset moved, or the log closes). */
  writeCheckpoint(): Promise<void> {
    // One write at a time, each with the values current when it starts: a later
    // write never lands before an earlier one.
    const write = this.checkpointWrites.then(() => {
      this.lastCheckpointAt = this.clock();
      return writeCheckpoint(join(this.log.dir, CHECKPOINT_FILE), this.checkpointValues());
    });
    this.checkpointWrites = write.catch(() => undefined);
    return write;
  }

  private checkpointValues(): Map<string, number> {
    return new Map([
      [RECOVERY_POINT, this._recoveryPoint],
      [LOG_START_OFFSET, this.log.logStartOffset],
      [CLEANER_OFFSET, this.log.cleanerCheckpoint],
    ]);
  }

  stopTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
