/**
 * From the log's errors to the protocol's. The protocol imports the log's
 * public entry point for this mapping only: nothing else here knows the log.
 */
import { LogError, type LogErrorCode } from '../log/index.js';
import type { ErrorName } from './error-codes.js';
import { ProtocolError } from './errors.js';

/** Typed by every log code, so a new log error fails to compile until it is mapped here. */
export const LOG_ERROR_TO_PROTOCOL: { readonly [C in LogErrorCode]: ErrorName } = {
  LOG_OFFSET_OUT_OF_RANGE: 'OFFSET_OUT_OF_RANGE',
  // Retriable, as in Kafka: a CRC failure on the way in may be the network's doing.
  LOG_CORRUPT_BATCH: 'CORRUPT_MESSAGE',
  LOG_RECORD_TOO_LARGE: 'MESSAGE_TOO_LARGE',
  LOG_INVALID_RECORD: 'INVALID_RECORD',
  LOG_INVALID_CONFIG: 'INVALID_CONFIG',
  // Not CORRUPT_MESSAGE: that is retriable, and resending a zstd batch can never succeed.
  LOG_UNSUPPORTED_COMPRESSION: 'UNSUPPORTED_COMPRESSION_TYPE',
  // A log closes when its partition is deleted or the broker stops: the client refreshes metadata.
  LOG_CLOSED: 'UNKNOWN_TOPIC_OR_PARTITION',
};

/**
 * The protocol error to answer with for anything a handler threw: a
 * `ProtocolError` as it is, a `LogError` by its code (keeping its message), and
 * anything else as UNKNOWN_SERVER_ERROR, whose message does not leak the
 * broker's internals (the original is the `cause`, for the broker's log).
 */
export function toProtocolError(error: unknown): ProtocolError {
  if (error instanceof ProtocolError) return error;
  if (error instanceof LogError) {
    return new ProtocolError(LOG_ERROR_TO_PROTOCOL[error.code], error.message, { cause: error });
  }
  return new ProtocolError('UNKNOWN_SERVER_ERROR', undefined, { cause: error });
}
