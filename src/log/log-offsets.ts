/**
 * A log's moving offsets and the rules that move them together: the log start
 * offset, the log end offset and the cleaner checkpoint. It stands alone so
 * that every way they change (open, append, retention and DeleteRecords,
 * cleaning, truncation) is written once, in one short place, and the Log only
 * says when; the recovery point is the flusher's (log-flusher.ts).
 *
 * Invariant: when the log start offset moves up, the cleaner checkpoint moves
 * with it (nothing below the start is left to clean); when the log end offset
 * is cut back, the cleaner checkpoint is cut back with it (offsets appended
 * again are new). Not safe across processes; the Log is its only writer.
 */
import { CLEANER_OFFSET, LOG_START_OFFSET } from './checkpoint.js';

export class LogOffsets {
  private constructor(
    private start: number,
    private end: number,
    private cleaned: number,
  ) {}

  /**
   * The offsets of a log just loaded: the checkpoint's, clamped to what the
   * segments hold (`firstBaseOffset` up to `logEndOffset`).
   */
  static onOpen(
    logEndOffset: number,
    firstBaseOffset: number,
    checkpoint: ReadonlyMap<string, number>,
  ): LogOffsets {
    const logStartOffset = checkpoint.get(LOG_START_OFFSET) ?? 0;
    const start = Math.min(Math.max(logStartOffset, firstBaseOffset), logEndOffset);
    return new LogOffsets(
      start,
      logEndOffset,
      Math.max(checkpoint.get(CLEANER_OFFSET) ?? 0, start),
    );
  }

  get logStartOffset(): number {
    return this.start;
  }

  /** The offset the next appended record will get. */
  get logEndOffset(): number {
    return this.end;
  }

  /** Offsets below this have been cleaned at least once (Kafka's cleaner checkpoint). */
  get cleanerCheckpoint(): number {
    return this.cleaned;
  }

  /** A batch ending before `logEndOffset` was appended. */
  appendedTo(logEndOffset: number): void {
    this.end = logEndOffset;
  }

  /** Retention or DeleteRecords: the start moves up to `offset` (never down). */
  advanceStart(offset: number): void {
    this.start = Math.max(this.start, offset);
    this.cleaned = Math.max(this.cleaned, this.start);
  }

  /** The cleaner reached `offset` (never lowers the checkpoint). */
  raiseCleanerCheckpoint(offset: number): void {
    this.cleaned = Math.max(this.cleaned, offset);
  }

  /** A truncation cut the log back to end at `logEndOffset`. */
  truncatedTo(logEndOffset: number): void {
    this.end = logEndOffset;
    this.cleaned = Math.min(this.cleaned, this.end);
  }

  /** The log was emptied and starts again at `offset`. */
  resetTo(offset: number): void {
    this.start = offset;
    this.end = offset;
    this.cleaned = offset;
  }
}
