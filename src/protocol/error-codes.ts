/**
 * Kafka's error codes, with Kafka's names and Kafka's retriable flags,
 * checked against Kafka's `Errors.java` (an error is retriable there when its
 * exception extends `RetriableException`). A code never changes meaning; a
 * name or a message may be reworded. Codes travel as int16, as in Kafka.
 * Only the codes samsa uses (or will use soon) are listed.
 */

// #region table
export const ERRORS = {
  UNKNOWN_SERVER_ERROR: { code: -1, retriable: false },
  NONE: { code: 0, retriable: false },
  OFFSET_OUT_OF_RANGE: { code: 1, retriable: false },
  CORRUPT_MESSAGE: { code: 2, retriable: true },
  UNKNOWN_TOPIC_OR_PARTITION: { code: 3, retriable: true },
  INVALID_FETCH_SIZE: { code: 4, retriable: false },
  LEADER_NOT_AVAILABLE: { code: 5, retriable: true },
  NOT_LEADER_OR_FOLLOWER: { code: 6, retriable: true },
  REQUEST_TIMED_OUT: { code: 7, retriable: true },
  MESSAGE_TOO_LARGE: { code: 10, retriable: false },
  STALE_CONTROLLER_EPOCH: { code: 11, retriable: false },
  OFFSET_METADATA_TOO_LARGE: { code: 12, retriable: false },
  NETWORK_EXCEPTION: { code: 13, retriable: true },
  COORDINATOR_LOAD_IN_PROGRESS: { code: 14, retriable: true },
  COORDINATOR_NOT_AVAILABLE: { code: 15, retriable: true },
  NOT_COORDINATOR: { code: 16, retriable: true },
  INVALID_TOPIC_EXCEPTION: { code: 17, retriable: false },
  RECORD_LIST_TOO_LARGE: { code: 18, retriable: false },
  NOT_ENOUGH_REPLICAS: { code: 19, retriable: true },
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: { code: 20, retriable: true },
  INVALID_REQUIRED_ACKS: { code: 21, retriable: false },
  ILLEGAL_GENERATION: { code: 22, retriable: false },
  INCONSISTENT_GROUP_PROTOCOL: { code: 23, retriable: false },
  INVALID_GROUP_ID: { code: 24, retriable: false },
  UNKNOWN_MEMBER_ID: { code: 25, retriable: false },
  INVALID_SESSION_TIMEOUT: { code: 26, retriable: false },
  REBALANCE_IN_PROGRESS: { code: 27, retriable: false },
  INVALID_COMMIT_OFFSET_SIZE: { code: 28, retriable: false },
  UNSUPPORTED_VERSION: { code: 35, retriable: false },
  TOPIC_ALREADY_EXISTS: { code: 36, retriable: false },
  INVALID_PARTITIONS: { code: 37, retriable: false },
  INVALID_REPLICATION_FACTOR: { code: 38, retriable: false },
  INVALID_CONFIG: { code: 40, retriable: false },
  NOT_CONTROLLER: { code: 41, retriable: true },
  INVALID_REQUEST: { code: 42, retriable: false },
  POLICY_VIOLATION: { code: 44, retriable: false },
  KAFKA_STORAGE_ERROR: { code: 56, retriable: true },
  NON_EMPTY_GROUP: { code: 68, retriable: false },
  GROUP_ID_NOT_FOUND: { code: 69, retriable: false },
  FENCED_LEADER_EPOCH: { code: 74, retriable: true },
  UNKNOWN_LEADER_EPOCH: { code: 75, retriable: true },
  UNSUPPORTED_COMPRESSION_TYPE: { code: 76, retriable: false },
  MEMBER_ID_REQUIRED: { code: 79, retriable: false },
  PREFERRED_LEADER_NOT_AVAILABLE: { code: 80, retriable: true },
  GROUP_MAX_SIZE_REACHED: { code: 81, retriable: false },
  ELECTION_NOT_NEEDED: { code: 84, retriable: true },
  INVALID_RECORD: { code: 87, retriable: false },
  INVALID_UPDATE_VERSION: { code: 95, retriable: false },
  INELIGIBLE_REPLICA: { code: 107, retriable: false },
} as const satisfies Record<string, { code: number; retriable: boolean }>;
// #endregion table

export type ErrorName = keyof typeof ERRORS;

/** `ErrorCode.OFFSET_OUT_OF_RANGE === 1`, and so on: the codes by name. */
export const ErrorCode = Object.fromEntries(
  Object.entries(ERRORS).map(([name, spec]) => [name, spec.code]),
) as { readonly [N in ErrorName]: (typeof ERRORS)[N]['code'] };
export type ErrorCode = (typeof ErrorCode)[ErrorName];

/** When samsa uses each code, in one line: the default message of a `ProtocolError`. */
export const ERROR_WHEN: { readonly [N in ErrorName]: string } = {
  UNKNOWN_SERVER_ERROR: 'the broker failed in a way it did not expect (its log says more)',
  NONE: 'success',
  OFFSET_OUT_OF_RANGE: 'the offset lies below the log start offset or past the log end offset',
  CORRUPT_MESSAGE: 'a record batch failed its length, magic or CRC check',
  UNKNOWN_TOPIC_OR_PARTITION: 'no such topic or partition on this broker',
  INVALID_FETCH_SIZE: 'a negative maxBytes or partitionMaxBytes',
  LEADER_NOT_AVAILABLE: 'the partition has no leader right now (an election is under way)',
  NOT_LEADER_OR_FOLLOWER: 'this broker does not lead the partition: refresh metadata',
  REQUEST_TIMED_OUT: 'the request did not complete within its timeoutMs',
  MESSAGE_TOO_LARGE: 'a batch larger than max.message.bytes',
  STALE_CONTROLLER_EPOCH: 'a controller epoch older than the newest this broker has seen',
  OFFSET_METADATA_TOO_LARGE: 'committed metadata longer than offset.metadata.max.bytes',
  NETWORK_EXCEPTION: 'the connection closed before the response arrived (raised by clients)',
  COORDINATOR_LOAD_IN_PROGRESS: 'the group coordinator is still loading its state',
  COORDINATOR_NOT_AVAILABLE: 'the group coordinator is not available',
  NOT_COORDINATOR: 'this broker is not the coordinator of the group',
  INVALID_TOPIC_EXCEPTION: 'a topic name that is not legal',
  RECORD_LIST_TOO_LARGE: 'a batch larger than a whole segment',
  NOT_ENOUGH_REPLICAS: 'acks=all and fewer in-sync replicas than min.insync.replicas',
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: 'written, but the ISR shrank below min.insync.replicas',
  INVALID_REQUIRED_ACKS: 'acks other than -1, 0 or 1',
  ILLEGAL_GENERATION: 'a group request from an earlier generation',
  INCONSISTENT_GROUP_PROTOCOL: "the member's protocols match none of the group's",
  INVALID_GROUP_ID: 'an empty or illegal group id',
  UNKNOWN_MEMBER_ID: 'the coordinator does not know this member',
  INVALID_SESSION_TIMEOUT: 'a session timeout outside the range the broker allows',
  REBALANCE_IN_PROGRESS: 'the group is rebalancing: rejoin it',
  INVALID_COMMIT_OFFSET_SIZE: 'an offset commit too large to store',
  UNSUPPORTED_VERSION: 'an API, or a version of it, that this broker does not speak',
  TOPIC_ALREADY_EXISTS: 'a topic of that name exists already',
  INVALID_PARTITIONS: 'a partition count below 1',
  INVALID_REPLICATION_FACTOR: 'a replication factor below 1 or above the number of brokers',
  INVALID_CONFIG: 'an unknown configuration key or a value out of range',
  NOT_CONTROLLER: 'this broker is not the controller',
  INVALID_REQUEST: 'a malformed request: a field missing, or of the wrong type or range',
  POLICY_VIOLATION: 'the broker refuses the request by policy',
  KAFKA_STORAGE_ERROR: 'the disk under the partition failed',
  NON_EMPTY_GROUP: 'the group still has members',
  GROUP_ID_NOT_FOUND: 'no such group',
  FENCED_LEADER_EPOCH: "the request's leader epoch is older than the broker's",
  UNKNOWN_LEADER_EPOCH: "the request's leader epoch is newer than the broker's",
  UNSUPPORTED_COMPRESSION_TYPE: 'a batch compressed with a codec samsa does not read',
  MEMBER_ID_REQUIRED: 'a first JoinGroup: join again with the member id in the answer',
  PREFERRED_LEADER_NOT_AVAILABLE: 'the preferred leader is not alive or not in the ISR',
  GROUP_MAX_SIZE_REACHED: 'the group has group.max.size members already',
  ELECTION_NOT_NEEDED: 'the preferred leader leads already: no election was needed',
  INVALID_RECORD: 'a well-formed batch the log refuses (a missing key in a compacted topic, ...)',
  INVALID_UPDATE_VERSION: "an AlterPartition from a partition epoch older than the controller's",
  INELIGIBLE_REPLICA: 'an ISR proposed with a replica that is not alive (fenced) or not assigned',
};

const NAME_BY_CODE = new Map<number, ErrorName>(
  Object.entries(ERRORS).map(([name, spec]) => [spec.code, name as ErrorName]),
);

/** The name of a known code, or `undefined` for a code this side does not know. */
export function errorName(code: number): ErrorName | undefined {
  return NAME_BY_CODE.get(code);
}
