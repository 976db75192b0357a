/**
 * Errors of the cluster layer, in two kinds.
 *
 * - Thrown: a `ClusterError` with a stable `code`, for a configuration that
 *   cannot start a broker (a bad `--cluster` string) or a persisted metadata
 *   image that does not parse. The text may change; the code never does.
 * - Returned: the answer to a request the controller refuses (an
 *   AlterPartition from a fenced leader, a CreateTopics it cannot place) is
 *   not an exception but a `ControllerError` in the result, named with
 *   Kafka's error name, because the broker sends it back on the wire.
 */

import { CodedError } from '../log/errors.js';

export const ClusterErrorCode = {
  INVALID_CONFIG: 'CLUSTER_INVALID_CONFIG',
  CORRUPT_IMAGE: 'CLUSTER_CORRUPT_IMAGE',
} as const;
export type ClusterErrorCode = (typeof ClusterErrorCode)[keyof typeof ClusterErrorCode];

/** Never retriable: a bad configuration or image reads the same next time. */
export class ClusterError extends CodedError<ClusterErrorCode> {
  constructor(code: ClusterErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, { cause: options?.cause, retriable: false });
  }
}

/**
 * The Kafka error names the controller answers with (Errors.java). The
 * numeric codes live in src/protocol/error-codes.ts; the wiring maps them.
 */
export const ControllerErrorName = {
  UNKNOWN_TOPIC_OR_PARTITION: 'UNKNOWN_TOPIC_OR_PARTITION',
  TOPIC_ALREADY_EXISTS: 'TOPIC_ALREADY_EXISTS',
  INVALID_TOPIC_EXCEPTION: 'INVALID_TOPIC_EXCEPTION',
  INVALID_PARTITIONS: 'INVALID_PARTITIONS',
  INVALID_REPLICATION_FACTOR: 'INVALID_REPLICATION_FACTOR',
  INVALID_CONFIG: 'INVALID_CONFIG',
  INVALID_REQUEST: 'INVALID_REQUEST',
  NOT_CONTROLLER: 'NOT_CONTROLLER',
  STALE_CONTROLLER_EPOCH: 'STALE_CONTROLLER_EPOCH',
  FENCED_LEADER_EPOCH: 'FENCED_LEADER_EPOCH',
  INVALID_UPDATE_VERSION: 'INVALID_UPDATE_VERSION',
  INELIGIBLE_REPLICA: 'INELIGIBLE_REPLICA',
  ELECTION_NOT_NEEDED: 'ELECTION_NOT_NEEDED',
  PREFERRED_LEADER_NOT_AVAILABLE: 'PREFERRED_LEADER_NOT_AVAILABLE',
} as const;
export type ControllerErrorName = (typeof ControllerErrorName)[keyof typeof ControllerErrorName];

export interface ControllerError {
  readonly error: ControllerErrorName;
  readonly message: string;
}

export function controllerError(error: ControllerErrorName, message: string): ControllerError {
  return { error, message };
}
