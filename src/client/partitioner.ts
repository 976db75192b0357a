/**
 * Kafka's default partitioner, so a key lands on the same partition as with
 * Kafka's Java client: `toPositive(murmur2(keyBytes)) % numPartitions`
 * (Kafka's `Utils.murmur2`, seed 0x9747b28c, and `Utils.toPositive`, which
 * clears the sign bit rather than taking an absolute value).
 *
 * Records without a key are spread by Kafka's "uniform sticky" rule (KIP-794,
 * Kafka 3.3+): they stick to one partition until about `batch.size` bytes have
 * gone to it, then move to another chosen at random, so batches fill up
 * instead of a record going to each partition in turn.
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;
const R = 24;

// #region murmur2
/** Kafka's `Utils.murmur2`: a signed 32-bit hash of `data`, exactly as Java computes it. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = SEED ^ length;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> R;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  // Java's switch falls through from case 3 to case 1: the same, spelled as ifs.
  const tail = length & ~3;
  const rest = length & 3;
  if (rest === 3) h ^= data[tail + 2]! << 16;
  if (rest >= 2) h ^= data[tail + 1]! << 8;
  if (rest >= 1) {
    h ^= data[tail]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** Kafka's `Utils.toPositive`: the sign bit cleared (not `Math.abs`). */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}
// #endregion murmur2

/** The partition of a key among `numPartitions`, as Kafka's Java producer picks it. */
export function partitionForKey(key: Uint8Array, numPartitions: number): number {
  return toPositive(murmur2(key)) % numPartitions;
}

/** Chooses partitions: by key hash, or sticky for records without a key. One per producer. */
export class DefaultPartitioner {
  private readonly sticky = new Map<string, { partition: number; bytes: number }>();

  constructor(
    private readonly batchSize: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** The partition for a record of `size` bytes (key and value) with `key` on `topic`. */
  partition(topic: string, key: Uint8Array | null, size: number, numPartitions: number): number {
    if (key !== null) return partitionForKey(key, numPartitions);
    let state = this.sticky.get(topic);
    if (state === undefined || state.partition >= numPartitions || state.bytes >= this.batchSize) {
      state = { partition: this.next(state?.partition, numPartitions), bytes: 0 };
      this.sticky.set(topic, state);
    }
    state.bytes += size;
    return state.partition;
  }

  private next(previous: number | undefined, numPartitions: number): number {
    if (numPartitions <= 1) return 0;
    if (previous === undefined || previous >= numPartitions)
      return Math.floor(this.random() * numPartitions);
    // Another partition than the last one, uniformly among the rest.
    const step = 1 + Math.floor(this.random() * (numPartitions - 1));
    return (previous + step) % numPartitions;
  }
}
