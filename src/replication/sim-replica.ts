/**
 * One replica of one partition in the replication simulation (sim.ts): a log
 * of records that are only an offset, the epoch that wrote them and an id, its
 * leader epoch cache, a high watermark and a recovery point. Small enough to
 * watch every record, real enough that the rules under test are the ones the
 * broker will call.
 *
 * Invariant: offsets are dense from 0 (the simulation has no retention); the
 * epoch cache describes exactly the records in the log, except that a leader
 * holds an entry for its epoch before it has written anything.
 */
import { LeaderEpochCache } from './leader-epoch-cache.js';
import type { ReplicaId } from './replica-state.js';

export interface SimRecord {
  readonly offset: number;
  /** The leader epoch stamped in the batch header by the leader that wrote it. */
  readonly epoch: number;
  /** Unique across the simulation: which produce call wrote it. */
  readonly id: number;
}

export class SimReplica {
  log: SimRecord[] = [];
  epochCache = new LeaderEpochCache();
  highWatermark = 0;
  /** Every offset below this is on disk; a power loss keeps exactly these. */
  recoveryPoint = 0;
  alive = true;

  constructor(readonly id: ReplicaId) {}

  get logEndOffset(): number {
    return this.log.length;
  }

  /** Appends records that continue the log: the leader's own, or a copy of the leader's. */
  append(records: readonly SimRecord[]): void {
    for (const record of records) {
      if (record.offset !== this.logEndOffset)
        throw new Error(`replica ${this.id}: offset ${record.offset} ≠ LEO ${this.logEndOffset}`);
      this.epochCache.assign(record.epoch, record.offset);
      this.log.push(record);
    }
  }

  /**
   * Cuts every record at or after `offset`, and the epochs that started there
   * (Kafka's UnifiedLog.truncateTo). The epoch cache is cut to the log end even
   * when the log is not: a replica that led an epoch without writing to it
   * keeps an entry that no record backs, and must drop it.
   */
  truncateTo(offset: number): void {
    if (offset >= this.logEndOffset) {
      this.epochCache.truncateFromEnd(this.logEndOffset);
      return;
    }
    this.log.length = Math.max(0, offset);
    this.epochCache.truncateFromEnd(this.logEndOffset);
    this.recoveryPoint = Math.min(this.recoveryPoint, this.logEndOffset);
    this.highWatermark = Math.min(this.highWatermark, this.logEndOffset);
  }

  flush(): void {
    this.recoveryPoint = this.logEndOffset;
  }

  /**
   * Stops the replica. A process crash (kill -9) keeps the page cache, so the
   * log survives whole; a power loss keeps only what was flushed.
   */
  crash(powerLoss: boolean): void {
    this.alive = false;
    if (powerLoss) this.truncateTo(this.recoveryPoint);
  }

  /**
   * Starts it again, as the log loader does: the epoch cache loses entries at
   * or past the log end (an epoch that had written nothing, or whose records
   * were lost), and the high watermark is bounded by the log end.
   */
  restart(): void {
    this.alive = true;
    this.epochCache.truncateFromEnd(this.logEndOffset);
    this.highWatermark = Math.min(this.highWatermark, this.logEndOffset);
  }
}
