/** The shapes of the Log's options and results (the Log itself is in log.ts). */
import type { Clock, Logger } from './logger.js';
import type { RetentionReason } from './retention.js';
import type { SegmentInfo } from './segment.js';

export interface LogOptions {
  clock?: Clock;
  logger?: Logger;
  /** How often a flush also rewrites the recovery-point checkpoint. Default 60 s (Kafka's). */
  checkpointIntervalMs?: number;
}

export interface AppendResult {
  baseOffset: number;
  lastOffset: number;
  /** Bytes appended. */
  size: number;
}

export interface AppendBatchOptions {
  /** false for a follower copying a leader's batch: keep its offsets (must be ≥ logEndOffset). */
  assignOffsets?: boolean;
  /** Stamp this leader epoch into the batch header. */
  leaderEpoch?: number;
}

export interface ReadOptions {
  /** Upper bound on bytes returned; at least one whole batch is always returned. Default 1 MiB. */
  maxBytes?: number;
  /** Return no batch holding an offset ≥ this (e.g. the high watermark). */
  maxOffset?: number;
}

export interface RetentionResult {
  /** The segments deleted, oldest first, and why each went. */
  deleted: (SegmentInfo & { reason: RetentionReason })[];
  deletedBytes: number;
  logStartOffset: number;
}
