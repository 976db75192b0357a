/**
 * The bytes a consumer puts in the group protocol's opaque fields: its
 * subscription (JoinGroup's member metadata) and its assignment (SyncGroup's
 * assignment). The fields are those of Kafka's ConsumerProtocol, carried as
 * msgpack maps (docs/protocol.md, "Consumer group APIs"):
 *
 *   Subscription => version topics userData ownedPartitions
 *     version => int16 ≥ 0            0 today; a reader accepts later ones and ignores fields it does not know
 *     topics => [string]
 *     userData => nullable bytes
 *     ownedPartitions => [topic partitions]
 *       topic => string
 *       partitions => [int32 ≥ 0]
 *
 *   Assignment => version partitions userData
 *     version => int16 ≥ 0
 *     partitions => [topic partitions]
 *       topic => string
 *       partitions => [int32 ≥ 0]
 *     userData => nullable bytes
 *
 * Decoding never trusts the bytes (another member wrote them): anything that
 * is not one msgpack map of these fields is a `ClientError` with code
 * CLIENT_INVALID_GROUP_METADATA naming the field, never a crash. An empty
 * assignment (what a coordinator sends on error) decodes as no partitions.
 */
import {
  type Check,
  FieldError,
  array,
  bytes,
  nonNegativeInt16,
  nonNegativeInt32,
  optional,
  string,
  struct,
} from '../../protocol/check.js';
import { pack, unpack } from '../../protocol/msgpack.js';
import { ClientError, ClientErrorCode } from '../errors.js';

export const CONSUMER_PROTOCOL_VERSION = 0;

export interface TopicPartitions {
  topic: string;
  partitions: number[];
}

export interface Subscription {
  version: number;
  topics: string[];
  userData: Buffer | null;
  ownedPartitions: TopicPartitions[];
}

export interface Assignment {
  version: number;
  partitions: TopicPartitions[];
  userData: Buffer | null;
}

const topicPartitions = struct({ topic: string, partitions: array(nonNegativeInt32) });

// Optional on read so that a writer may leave out what it has nothing for.
const subscriptionCheck = struct({
  version: nonNegativeInt16,
  topics: array(string),
  userData: optional(bytes),
  ownedPartitions: optional(array(topicPartitions)),
});

const assignmentCheck = struct({
  version: nonNegativeInt16,
  partitions: array(topicPartitions),
  userData: optional(bytes),
});

export function encodeSubscription(subscription: {
  version?: number;
  topics: readonly string[];
  userData?: Buffer | null;
  ownedPartitions?: readonly TopicPartitions[];
}): Buffer {
  return pack({
    version: subscription.version ?? CONSUMER_PROTOCOL_VERSION,
    topics: [...subscription.topics],
    userData: subscription.userData ?? null,
    ownedPartitions: (subscription.ownedPartitions ?? []).map(copy),
  });
}

export function decodeSubscription(metadata: Uint8Array): Subscription {
  const s = decode(metadata, 'subscription', subscriptionCheck);
  return {
    version: s.version,
    topics: s.topics,
    userData: s.userData ?? null,
    ownedPartitions: s.ownedPartitions ?? [],
  };
}

export function encodeAssignment(assignment: {
  version?: number;
  partitions: readonly TopicPartitions[];
  userData?: Buffer | null;
}): Buffer {
  return pack({
    version: assignment.version ?? CONSUMER_PROTOCOL_VERSION,
    partitions: assignment.partitions.map(copy),
    userData: assignment.userData ?? null,
  });
}

export function decodeAssignment(bytes: Uint8Array): Assignment {
  if (bytes.length === 0)
    return { version: CONSUMER_PROTOCOL_VERSION, partitions: [], userData: null };
  const a = decode(bytes, 'assignment', assignmentCheck);
  return { version: a.version, partitions: a.partitions, userData: a.userData ?? null };
}

function copy(tp: TopicPartitions): TopicPartitions {
  return { topic: tp.topic, partitions: [...tp.partitions] };
}

function decode<T>(input: Uint8Array, what: string, check: Check<T>): T {
  let value: unknown;
  try {
    value = unpack(input);
  } catch (error) {
    throw invalid(
      `a consumer ${what} that is not one msgpack value (${input.length} bytes)`,
      error,
    );
  }
  try {
    return check(value, what);
  } catch (error) {
    if (error instanceof FieldError)
      throw invalid(`a bad consumer ${what}: ${error.message}`, error);
    throw error;
  }
}

function invalid(message: string, cause: unknown): ClientError {
  return new ClientError(ClientErrorCode.INVALID_GROUP_METADATA, message, { cause });
}

/** `{ topic, partitions }` lists from a topic → partitions map, topics sorted. */
export function toTopicPartitions(
  byTopic: ReadonlyMap<string, readonly number[]>,
): TopicPartitions[] {
  return [...byTopic]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([topic, partitions]) => ({ topic, partitions: [...partitions] }));
}
