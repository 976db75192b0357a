/**
 * The broker's background passes, on a schedule: retention over every
 * partition (`log.retention.check.interval.ms`) and the cleaner over every
 * compacted partition (`log.cleaner.backoff.ms` between passes). A pass never
 * overlaps the previous one of its kind, and a failure in one partition is
 * logged and skipped: it never stops the broker or the other partitions.
 * Timers are injectable (and unref'd), so tests run passes without waiting.
 */
import type { Logger } from '../log/index.js';
import type { Partition } from './partition.js';

export interface Timers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export const realTimers: Timers = {
  setInterval: (fn, ms) => setInterval(fn, ms).unref(),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};

export interface PassSummary {
  partitions: number;
  segments: number;
  bytes: number;
}

export interface CleanerSummary {
  partitions: number;
  recordsRead: number;
  recordsKept: number;
}

export class BackgroundPasses {
  private handles: unknown[] = [];
  private running = new Set<Promise<unknown>>();
  private retentionBusy = false;
  private cleanerBusy = false;

  constructor(
    private readonly partitions: () => Partition[],
    private readonly logger: Logger,
    private readonly timers: Timers = realTimers,
  ) {}

  start(retentionEveryMs: number, cleanerEveryMs: number | undefined): void {
    this.handles.push(this.timers.setInterval(() => void this.retention(), retentionEveryMs));
    if (cleanerEveryMs !== undefined)
      this.handles.push(this.timers.setInterval(() => void this.cleaner(), cleanerEveryMs));
  }

  /** Stops the schedule and waits for a pass under way to finish. */
  async stop(): Promise<void> {
    for (const handle of this.handles) this.timers.clearInterval(handle);
    this.handles = [];
    await Promise.all(this.running);
  }

  // #region retention
  /** One retention pass over every partition; undefined when one is already running. */
  retention(now?: number): Promise<PassSummary | undefined> {
    if (this.retentionBusy) return Promise.resolve(undefined);
    return this.track(this.retentionPass(now));
  }

  private async retentionPass(now: number | undefined): Promise<PassSummary> {
    this.retentionBusy = true;
    const summary: PassSummary = { partitions: 0, segments: 0, bytes: 0 };
    try {
      for (const p of this.partitions()) {
        if (p.isClosed || p.ready() !== undefined) continue;
        try {
          // Nothing at or above the high watermark goes (one place to change for replication).
          const bound = { upperBound: p.highWatermark };
          const result = await p.log.enforceRetention(
            now === undefined ? bound : { ...bound, now },
          );
          if (result.deleted.length === 0) continue;
          summary.partitions++;
          summary.segments += result.deleted.length;
          summary.bytes += result.deletedBytes; // the log itself says what it deleted and why
        } catch (err) {
          if (!p.isClosed) this.logger.warn(`retention failed on ${p.name}: ${describe(err)}`);
        }
      }
    } finally {
      this.retentionBusy = false;
    }
    return summary;
  }
  // #endregion retention

  // #region cleaner
  /** One cleaner pass over every compacted partition; undefined when one is already running. */
  cleaner(): Promise<CleanerSummary | undefined> {
    if (this.cleanerBusy) return Promise.resolve(undefined);
    return this.track(this.cleanerPass());
  }

  private async cleanerPass(): Promise<CleanerSummary> {
    this.cleanerBusy = true;
    const summary: CleanerSummary = { partitions: 0, recordsRead: 0, recordsKept: 0 };
    try {
      for (const p of this.partitions()) {
        if (p.isClosed || p.ready() !== undefined) continue;
        if (!p.log.config['cleanup.policy'].includes('compact')) continue;
        try {
          const stats = await p.log.compact({ upperBound: p.highWatermark });
          if (stats.skipped !== undefined || stats.recordsRead === 0) continue;
          summary.partitions++;
          summary.recordsRead += stats.recordsRead;
          summary.recordsKept += stats.recordsKept;
          this.logger.info(
            `cleaner kept ${stats.recordsKept} of ${stats.recordsRead} records in ${p.name} ` +
              `(offsets ${stats.start}..${stats.end - 1}), ${stats.bytesRead} → ${stats.bytesWritten} bytes`,
          );
        } catch (err) {
          if (!p.isClosed) this.logger.warn(`cleaner failed on ${p.name}: ${describe(err)}`);
        }
      }
    } finally {
      this.cleanerBusy = false;
    }
    return summary;
  }
  // #endregion cleaner

  private track<T>(pass: Promise<T>): Promise<T> {
    this.running.add(pass);
    const done = () => this.running.delete(pass);
    pass.then(done, done);
    return pass;
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
