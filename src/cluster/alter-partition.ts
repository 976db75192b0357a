/**
 * AlterPartition: a leader asks the controller to change its partition's ISR
 * (shrink a follower that fell behind, expand one that caught up). The
 * leader never changes the ISR on its own authority: only the controller's
 * answer, pushed to every broker, makes a change real, so that the
 * controller always knows which replicas hold every committed record, and a
 * leader that has been replaced cannot shrink the ISR behind its back.
 *
 * The request names the leader epoch and the partition epoch the leader
 * knows; the controller refuses a request made from any other state
 * (Kafka's ReplicationControlManager.validateAlterPartitionData, in its
 * order):
 *
 * | check | error |
 * |---|---|
 * | no such topic or partition | UNKNOWN_TOPIC_OR_PARTITION |
 * | leader or partition epoch above the controller's | NOT_CONTROLLER (this controller is behind) |
 * | leader epoch below the controller's | FENCED_LEADER_EPOCH (a new leader was elected) |
 * | sender is not the leader | INVALID_REQUEST |
 * | partition epoch below the controller's | INVALID_UPDATE_VERSION (the ISR changed meanwhile) |
 * | new ISR empty, with duplicates, or not all replicas | INVALID_REQUEST |
 * | new ISR without the leader | INVALID_REQUEST |
 * | new ISR with a broker that is not live | INELIGIBLE_REPLICA |
 *
 * Accepted, the ISR is set and the partition epoch bumped; the leader and
 * its epoch stay (the leader is live and in the new ISR). The leader learns
 * the new partition epoch from the answer and from the push.
 */
import { type ControllerError, ControllerErrorName, controllerError } from './errors.js';
import {
  type MetadataImage,
  type PartitionRegistration,
  isLiveBroker,
  partitionOf,
} from './metadata-image.js';
import { changePartition, onlineElectionFor } from './elections.js';

/** Kafka's AlterPartitionRequest, one partition. */
export interface AlterPartitionRequest {
  /** The broker sending it: the leader, as far as it knows. */
  readonly brokerId: number;
  readonly topic: string;
  readonly partition: number;
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
  readonly newIsr: readonly number[];
}

// #region validate
/** The first reason to refuse the request, or undefined when it is acceptable. */
export function validateAlterPartition(
  image: MetadataImage,
  request: AlterPartitionRequest,
): ControllerError | undefined {
  const { topic, partition, brokerId, leaderEpoch, partitionEpoch, newIsr } = request;
  const where = `${topic}-${partition}`;
  const p = partitionOf(image, topic, partition);
  if (p === undefined) {
    return controllerError(ControllerErrorName.UNKNOWN_TOPIC_OR_PARTITION, `no partition ${where}`);
  }
  if (leaderEpoch > p.leaderEpoch || partitionEpoch > p.partitionEpoch) {
    return controllerError(
      ControllerErrorName.NOT_CONTROLLER,
      `${where}: the request knows newer epochs than this controller`,
    );
  }
  if (leaderEpoch < p.leaderEpoch) {
    return controllerError(
      ControllerErrorName.FENCED_LEADER_EPOCH,
      `${where}: leader epoch ${leaderEpoch} is older than ${p.leaderEpoch}`,
    );
  }
  if (brokerId !== p.leader) {
    return controllerError(
      ControllerErrorName.INVALID_REQUEST,
      `${where}: broker ${brokerId} is not the leader (${p.leader})`,
    );
  }
  if (partitionEpoch < p.partitionEpoch) {
    return controllerError(
      ControllerErrorName.INVALID_UPDATE_VERSION,
      `${where}: partition epoch ${partitionEpoch} is older than ${p.partitionEpoch}`,
    );
  }
  if (
    newIsr.length === 0 ||
    new Set(newIsr).size !== newIsr.length ||
    !newIsr.every((r) => p.replicas.includes(r))
  ) {
    return controllerError(
      ControllerErrorName.INVALID_REQUEST,
      `${where}: ISR [${newIsr.join(',')}] is not a set of the replicas [${p.replicas.join(',')}]`,
    );
  }
  if (!newIsr.includes(p.leader)) {
    return controllerError(
      ControllerErrorName.INVALID_REQUEST,
      `${where}: ISR [${newIsr.join(',')}] does not hold the leader ${p.leader}`,
    );
  }
  const ineligible = newIsr.filter((r) => !isLiveBroker(image, r));
  if (ineligible.length > 0) {
    return controllerError(
      ControllerErrorName.INELIGIBLE_REPLICA,
      `${where}: brokers ${ineligible.join(',')} are not live`,
    );
  }
  return undefined;
}
// #endregion validate

/**
 * Validates and applies the request. On success, `partition` is the state
 * the answer carries (Kafka answers leader, ISR, leader epoch and partition
 * epoch); a request that asks for the current ISR changes nothing.
 */
export function alterPartition(
  image: MetadataImage,
  request: AlterPartitionRequest,
):
  | { image: MetadataImage; partition: PartitionRegistration; error?: undefined }
  | { image: MetadataImage; error: ControllerError } {
  const error = validateAlterPartition(image, request);
  if (error !== undefined) return { image, error };
  const topic = image.topics[request.topic]!;
  const before = topic.partitions[request.partition]!;
  const after = changePartition(before, {
    targetIsr: request.newIsr,
    election: onlineElectionFor(topic),
    isAcceptableLeader: (id) => isLiveBroker(image, id),
  });
  if (after === before) return { image, partition: before };
  const partitions = topic.partitions.map((q, i) => (i === request.partition ? after : q));
  return {
    image: { ...image, topics: { ...image.topics, [request.topic]: { ...topic, partitions } } },
    partition: after,
  };
}
