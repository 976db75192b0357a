/**
 * The client's own errors. Everything the broker or the network causes is a
 * `ProtocolError` (Kafka's codes, with `retriable`); these are the few that
 * are the caller's doing, with a stable `code`.
 */
import { ProtocolError } from '../protocol/index.js';

export const ClientErrorCode = {
  CLOSED: 'CLIENT_CLOSED',
  TIMEOUT: 'CLIENT_TIMEOUT',
  CONCURRENT_READ: 'CLIENT_CONCURRENT_READ',
  NO_OFFSET: 'CLIENT_NO_OFFSET',
  INVALID_GROUP_METADATA: 'CLIENT_INVALID_GROUP_METADATA',
  COMMIT_FAILED: 'CLIENT_COMMIT_FAILED',
  /** The broker speaks no version of the API that this client speaks (Kafka's UnsupportedVersionException). */
  UNSUPPORTED_VERSION: 'CLIENT_UNSUPPORTED_VERSION',
} as const;
export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

/**
 * A producer, consumer, admin or connection used after `close()`, a wait that
 * ran out, a consumer without a position, bytes from another group member that
 * do not decode, a commit the group refused (CLIENT_COMMIT_FAILED), or a
 * request for an API the broker does not speak (CLIENT_UNSUPPORTED_VERSION).
 */
export class ClientError extends Error {
  override readonly name = 'ClientError';
  readonly retriable = false;
  constructor(
    readonly code: ClientErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** NETWORK_EXCEPTION (13, retriable): the connection failed before the response arrived. */
export function networkError(message: string, cause?: unknown): ProtocolError {
  return new ProtocolError('NETWORK_EXCEPTION', message, { cause });
}

/** Whether an error may go away if the same request is sent again. */
export function isRetriable(error: unknown): boolean {
  return error instanceof ProtocolError && error.retriable;
}

/** The errors after which the client must learn the partition's leader again. */
export function needsMetadataRefresh(error: unknown): boolean {
  if (!(error instanceof ProtocolError)) return false;
  return (
    error.name === 'NOT_LEADER_OR_FOLLOWER' ||
    error.name === 'UNKNOWN_TOPIC_OR_PARTITION' ||
    error.name === 'LEADER_NOT_AVAILABLE' ||
    error.name === 'FENCED_LEADER_EPOCH' ||
    error.name === 'NETWORK_EXCEPTION'
  );
}

/** Resolves after `ms` milliseconds (the timer does not hold the process open). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
