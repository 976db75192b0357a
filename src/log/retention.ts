/**
 * Retention: which old segments a log may delete now. A few pure predicates
 * over whole segments, oldest first, feeding one deletion routine (log.ts).
 *
 * Rules (Kafka's): only whole segments go, never the active one, oldest
 * first, and never a segment holding an offset at or above the upper bound
 * (the high watermark, once there is one). A segment goes when
 *  - it is older than `retention.ms`: its *largest* timestamp is that old
 *    (policy `delete`);
 *  - the log is larger than `retention.bytes` even without it (policy `delete`);
 *  - every offset in it is below the log start offset (any policy: that is
 *    how DeleteRecords frees space).
 * Deletion stops at the first segment that may not go: a log keeps a suffix.
 */
import type { LogConfig } from './config.js';

export interface RetentionSegment {
  baseOffset: number;
  /** One past the last offset held (the next segment's base offset). */
  nextOffset: number;
  size: number;
  /** Largest timestamp; read only when retention.ms applies. */
  readonly maxTimestamp: number;
}

export type RetentionReason = 'retention.ms' | 'retention.bytes' | 'log-start-offset';

export interface RetentionPlan {
  /** How many of the oldest segments to delete. */
  count: number;
  /** Why each of them goes, in order. */
  reasons: RetentionReason[];
}

export interface RetentionInput {
  /** Oldest first; the last one is the active segment. */
  segments: readonly RetentionSegment[];
  config: Pick<LogConfig, 'retention.ms' | 'retention.bytes' | 'cleanup.policy'>;
  now: number;
  logStartOffset: number;
  /** Nothing holding an offset ≥ this is deleted (the high watermark). */
  upperBound: number;
}

// #region retention
export function planRetention(input: RetentionInput): RetentionPlan {
  const { segments, config, now, logStartOffset, upperBound } = input;
  const deletes = config['cleanup.policy'].split(',').includes('delete');
  const retentionMs = config['retention.ms'];
  const retentionBytes = config['retention.bytes'];
  let remaining = segments.reduce((sum, s) => sum + s.size, 0);
  const reasons: RetentionReason[] = [];
  for (const segment of segments.slice(0, -1)) {
    if (segment.nextOffset > upperBound) break;
    let reason: RetentionReason | undefined;
    if (segment.nextOffset <= logStartOffset) reason = 'log-start-offset';
    else if (deletes && retentionBytes >= 0 && remaining - segment.size >= retentionBytes)
      reason = 'retention.bytes';
    else if (deletes && retentionMs >= 0 && now - segment.maxTimestamp > retentionMs)
      reason = 'retention.ms';
    if (!reason) break;
    reasons.push(reason);
    remaining -= segment.size;
  }
  return { count: reasons.length, reasons };
}
// #endregion retention
