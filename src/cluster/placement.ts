/**
 * Where the replicas of a new topic go: Kafka's rack-unaware assignment
 * (AdminUtils.assignReplicasToBrokersRackUnaware, which ZooKeeper-mode Kafka
 * used; KRaft's StripedReplicaPlacer does the same striping and adds racks
 * and fenced brokers).
 *
 * Over the brokers sorted by id, partition p's first replica (its preferred
 * leader) is broker (startIndex + p) mod n, so leaders go round-robin. Each
 * further replica j sits 1 + (shift + j) mod (n − 1) places after the
 * first: never on the first's broker, never twice on one broker, and the
 * gap grows by one after every n partitions, so that the followers of one
 * broker's partitions are not always the same brokers.
 *
 * Consequences the tests check: the replicas of a partition are distinct and
 * there are exactly R of them; when the partition count is a multiple of n,
 * every broker leads the same number of partitions and holds the same number
 * of replicas.
 */
import { type ControllerError, ControllerErrorName, controllerError } from './errors.js';

export interface PlacementOptions {
  /** The broker index (in the sorted list) of partition 0's first replica. Kafka picks it at random. */
  startIndex: number;
  /** The gap between a partition's first and second replica, minus one. Kafka picks it at random. */
  replicaShift: number;
}

export type Placement =
  | { readonly assignments: number[][]; readonly error?: undefined }
  | { readonly error: ControllerError };

// #region place
/**
 * Assigns `partitions` partitions of `replicationFactor` replicas each to
 * `brokerIds` (the live brokers). INVALID_PARTITIONS below one partition;
 * INVALID_REPLICATION_FACTOR below one replica or above the broker count.
 */
export function placeReplicas(
  brokerIds: readonly number[],
  partitions: number,
  replicationFactor: number,
  options: PlacementOptions,
): Placement {
  if (!Number.isSafeInteger(partitions) || partitions < 1) {
    return {
      error: controllerError(
        ControllerErrorName.INVALID_PARTITIONS,
        `number of partitions must be at least 1, not ${partitions}`,
      ),
    };
  }
  const brokers = [...new Set(brokerIds)].sort((a, b) => a - b);
  const n = brokers.length;
  if (!Number.isSafeInteger(replicationFactor) || replicationFactor < 1 || replicationFactor > n) {
    return {
      error: controllerError(
        ControllerErrorName.INVALID_REPLICATION_FACTOR,
        `replication factor ${replicationFactor} is not between 1 and the ${n} live brokers`,
      ),
    };
  }
  const start = mod(options.startIndex, n);
  let shift = mod(options.replicaShift, n);
  const assignments: number[][] = [];
  for (let p = 0; p < partitions; p++) {
    if (p > 0 && p % n === 0) shift += 1; // a new round of leaders: move the followers along
    const first = (start + p) % n;
    const replicas = [brokers[first]!];
    for (let j = 0; j < replicationFactor - 1; j++) {
      replicas.push(brokers[(first + 1 + ((shift + j) % (n - 1))) % n]!);
    }
    assignments.push(replicas);
  }
  return { assignments };
}
// #endregion place

/**
 * Kafka draws the start index and the shift at random. Here they come from
 * the topic name (FNV-1a), so the controller's decisions are a function of
 * its inputs: the same events replayed give the same image, and a test
 * knows where a topic's replicas went. Different topics still start on
 * different brokers.
 */
export function placementOptionsFor(topic: string, brokerCount: number): PlacementOptions {
  let hash = 0x811c9dc5;
  for (let i = 0; i < topic.length; i++) {
    hash = Math.imul(hash ^ topic.charCodeAt(i), 0x01000193) >>> 0;
  }
  const n = Math.max(1, brokerCount);
  return { startIndex: hash % n, replicaShift: Math.floor(hash / n) % n };
}

function mod(a: number, n: number): number {
  return ((Math.trunc(a) % n) + n) % n;
}
