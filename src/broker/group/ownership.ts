/**
 * Which `__consumer_offsets` partitions this coordinator serves (Kafka's
 * GroupMetadataManager: ownedPartitions, loadingPartitions and
 * epochForPartitionId). A group is served only when its partition is owned;
 * while the partition loads, requests for its groups wait on the client's
 * side (COORDINATOR_LOAD_IN_PROGRESS); otherwise NOT_COORDINATOR.
 *
 * Two modes: a broker alone owns every partition, always (`ownsAll`); a
 * broker in a cluster owns what the ReplicaManager says it leads, partition
 * by partition, with the leader epoch of each change.
 *
 * Invariants: a partition is in at most one of loading and owned; each load
 * has a token, and only the load holding the current token may finish (a
 * resignation or a new election in the meantime makes it stale); a change
 * with a leader epoch below the highest seen for its partition is stale and
 * ignored (an old image arriving late); a negative epoch means unknown and
 * is never stale. Runs on the event loop only.
 */
import { ErrorCode } from '../../protocol/index.js';

export type Election =
  /** Load the partition's groups with this token, then call `loaded`. */
  | { readonly kind: 'load'; readonly token: number }
  /** Already owned or loading: only the epoch moved. */
  | { readonly kind: 'already' }
  /** An epoch below one seen already: ignored. */
  | { readonly kind: 'stale' };

export type Resignation = 'unload' | 'not-owned' | 'stale';

export class OffsetsPartitions {
  private readonly owned = new Set<number>();
  /** Partition → the token of the load under way. */
  private readonly loading = new Map<number, number>();
  /** Partition → the highest leader epoch seen for it. */
  private readonly epochs = new Map<number, number>();
  private nextToken = 1;

  constructor(readonly ownsAll: boolean) {}

  /** 0 when the partition's groups are served here, else the error a group request gets. */
  status(partition: number): number {
    if (this.ownsAll || this.owned.has(partition)) return 0;
    if (this.loading.has(partition)) return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    return ErrorCode.NOT_COORDINATOR;
  }

  owns(partition: number): boolean {
    return this.status(partition) === 0;
  }

  /** True while any partition loads (ListGroups says so, as Kafka's does). */
  get isLoading(): boolean {
    return this.loading.size > 0;
  }

  /** The partitions owned, ascending (in cluster mode only). */
  ownedPartitions(): number[] {
    return [...this.owned].sort((a, b) => a - b);
  }

  epochOf(partition: number): number | undefined {
    return this.epochs.get(partition);
  }

  /** This broker leads `partition` from `epoch` on. */
  elect(partition: number, epoch: number): Election {
    if (!this.advance(partition, epoch)) return { kind: 'stale' };
    if (this.owned.has(partition) || this.loading.has(partition)) return { kind: 'already' };
    const token = this.nextToken++;
    this.loading.set(partition, token);
    return { kind: 'load', token };
  }

  /** Whether the load holding `token` is still the one wanted. */
  isCurrent(partition: number, token: number): boolean {
    return this.loading.get(partition) === token;
  }

  /** The load holding `token` finished: the partition is owned. False when it had gone stale. */
  loaded(partition: number, token: number): boolean {
    if (!this.isCurrent(partition, token)) return false;
    this.loading.delete(partition);
    this.owned.add(partition);
    return true;
  }

  /** A load failed: the partition is not served (clients keep getting NOT_COORDINATOR). */
  failed(partition: number, token: number): void {
    if (this.isCurrent(partition, token)) this.loading.delete(partition);
  }

  /** This broker no longer leads `partition` (at `epoch`): 'unload' when its groups were here. */
  resign(partition: number, epoch: number): Resignation {
    if (!this.advance(partition, epoch)) return 'stale';
    const had = this.owned.delete(partition) || this.loading.delete(partition);
    return had ? 'unload' : 'not-owned';
  }

  /** Forgets every partition (the broker stops); pending loads become stale. */
  clear(): void {
    this.owned.clear();
    this.loading.clear();
  }

  /** Records `epoch`; false when it is below the highest seen (stale). A negative epoch is unknown: never stale (Kafka's None). */
  private advance(partition: number, epoch: number): boolean {
    if (!Number.isInteger(epoch)) throw new TypeError(`a leader epoch is an integer, not ${epoch}`);
    if (epoch < 0) return true;
    const seen = this.epochs.get(partition);
    if (seen !== undefined && epoch < seen) return false;
    this.epochs.set(partition, epoch);
    return true;
  }
}
