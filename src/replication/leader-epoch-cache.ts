/**
 * The leader epoch cache (Kafka's LeaderEpochFileCache): for each leader
 * epoch that wrote to this log, the offset of its first record. It is how a
 * replica answers "where does my copy of epoch E end?", which is what lets a
 * follower cut exactly the records that a new leader never had, instead of
 * trusting its high watermark (KIP-101, KIP-279).
 *
 * Invariant: entries strictly increase in both epoch and start offset. Every
 * change that would break it removes the entries in the way instead of
 * failing: the latest word on the log wins.
 *
 * In memory only; leader-epoch-checkpoint.ts reads and writes the file. The
 * caller writes the file after a change (assign and the truncations return
 * whether anything changed). Not for concurrent use across processes; within
 * one process every method runs to completion.
 */

/** Kafka's UNDEFINED_EPOCH and UNDEFINED_EPOCH_OFFSET (OffsetsForLeaderEpochResponse). */
export const UNDEFINED_EPOCH = -1;
export const UNDEFINED_EPOCH_OFFSET = -1;

export interface EpochEntry {
  readonly epoch: number;
  /** The offset of the first record written in this epoch. */
  readonly startOffset: number;
}

/** An answer to OffsetsForLeaderEpoch: the largest epoch ≤ the one asked for, and where it ends. */
export interface EpochEndOffset {
  readonly epoch: number;
  /** Exclusive: the first offset after the epoch's last record (or the log end offset). */
  readonly endOffset: number;
}

export const UNDEFINED_EPOCH_END_OFFSET: EpochEndOffset = Object.freeze({
  epoch: UNDEFINED_EPOCH,
  endOffset: UNDEFINED_EPOCH_OFFSET,
});

const MAX_EPOCH = 2 ** 31 - 1; // an int32 on the wire and in the batch header

export class LeaderEpochCache {
  private epochs: EpochEntry[] = [];

  /** Entries from a checkpoint are assigned one by one, as Kafka does, so a bad order heals itself. */
  constructor(entries: Iterable<EpochEntry> = []) {
    for (const entry of entries) this.assign(entry.epoch, entry.startOffset);
  }

  /** A copy of the entries, oldest first. */
  get entries(): EpochEntry[] {
    return this.epochs.map((e) => ({ ...e }));
  }

  get isEmpty(): boolean {
    return this.epochs.length === 0;
  }

  get latestEntry(): EpochEntry | undefined {
    return this.epochs.at(-1);
  }

  get earliestEntry(): EpochEntry | undefined {
    return this.epochs[0];
  }

  /** The epoch of the last record written (or of the leader now writing), undefined when none. */
  get latestEpoch(): number | undefined {
    return this.latestEntry?.epoch;
  }

  // #region assign
  /**
   * Records that `epoch` wrote its first record at `startOffset`. Called for
   * every appended batch and by a new leader for its own epoch (KAFKA-7415:
   * at the log end offset, before it has written anything).
   *
   * Ignored when `epoch` is the latest epoch and `startOffset` is not below
   * its start (later batches of the same epoch). Otherwise the entries whose
   * epoch is ≥ `epoch` or whose start offset is ≥ `startOffset` are removed,
   * newest first, and the new entry is added: a stale epoch (below the
   * latest) therefore replaces the newer entries, as in Kafka. Returns
   * whether the cache changed.
   */
  assign(epoch: number, startOffset: number): boolean {
    checkEpoch(epoch);
    checkOffset(startOffset, 'startOffset');
    const latest = this.latestEntry;
    if (latest !== undefined && latest.epoch === epoch && startOffset >= latest.startOffset) {
      return false;
    }
    while (this.epochs.length > 0) {
      const last = this.epochs.at(-1)!;
      if (last.epoch < epoch && last.startOffset < startOffset) break;
      this.epochs.pop();
    }
    this.epochs.push({ epoch, startOffset });
    return true;
  }
  // #endregion assign

  // #region end-offset-for
  /**
   * Kafka's endOffsetFor, the answer to OffsetsForLeaderEpoch(requestedEpoch):
   *
   * - the latest epoch: (it, logEndOffset), since it is still being written;
   * - an epoch with a later one after it: (the largest epoch ≤ requested,
   *   the start offset of the first epoch > requested);
   * - an epoch below every entry: (requested, the first entry's start
   *   offset), since everything before it is gone from this log (KAFKA-7415;
   *   older Kafka answered UNDEFINED here);
   * - UNDEFINED_EPOCH, an epoch above the latest, or an empty cache: UNDEFINED.
   */
  endOffsetFor(requestedEpoch: number, logEndOffset: number): EpochEndOffset {
    if (requestedEpoch === UNDEFINED_EPOCH) return UNDEFINED_EPOCH_END_OFFSET;
    const latest = this.latestEntry;
    if (latest === undefined) return UNDEFINED_EPOCH_END_OFFSET;
    if (latest.epoch === requestedEpoch) return { epoch: requestedEpoch, endOffset: logEndOffset };
    const higher = this.epochs.findIndex((e) => e.epoch > requestedEpoch);
    if (higher === -1) return UNDEFINED_EPOCH_END_OFFSET;
    const endOffset = this.epochs[higher]!.startOffset;
    if (higher === 0) return { epoch: requestedEpoch, endOffset };
    return { epoch: this.epochs[higher - 1]!.epoch, endOffset };
  }
  // #endregion end-offset-for

  /** The epoch that wrote `offset`: the latest entry starting at or before it. */
  epochForOffset(offset: number): number | undefined {
    let found: number | undefined;
    for (const entry of this.epochs) {
      if (entry.startOffset > offset) break;
      found = entry.epoch;
    }
    return found;
  }

  // #region truncate
  /**
   * The log was truncated to `endOffset` (every offset ≥ it is gone): removes
   * the entries starting at or after it. A negative offset (UNDEFINED) does
   * nothing. Returns the removed entries, oldest first.
   */
  truncateFromEnd(endOffset: number): EpochEntry[] {
    if (endOffset < 0) return [];
    let keep = this.epochs.length;
    while (keep > 0 && this.epochs[keep - 1]!.startOffset >= endOffset) keep--;
    return this.epochs.splice(keep);
  }

  /**
   * The log start offset moved to `startOffset` (retention, DeleteRecords):
   * the entries starting at or before it go, except the last of them, which
   * now starts at `startOffset` (its epoch still wrote the first record
   * left). Returns the entries removed or moved, oldest first.
   */
  truncateFromStart(startOffset: number): EpochEntry[] {
    let removed = 0;
    while (removed < this.epochs.length && this.epochs[removed]!.startOffset <= startOffset)
      removed++;
    if (removed === 0) return [];
    const gone = this.epochs.splice(0, removed);
    this.epochs.unshift({ epoch: gone.at(-1)!.epoch, startOffset });
    return gone;
  }
  // #endregion truncate

  clear(): void {
    this.epochs = [];
  }
}

function checkEpoch(epoch: number): void {
  if (!Number.isInteger(epoch) || epoch < 0 || epoch > MAX_EPOCH)
    throw new TypeError(`epoch must be an integer in [0, 2^31): ${epoch}`);
}

function checkOffset(offset: number, name: string): void {
  if (!Number.isSafeInteger(offset) || offset < 0)
    throw new TypeError(`${name} must be a non-negative safe integer: ${offset}`);
}
