/**
 * The protocol's error class. The codes, names and retriable flags are
 * Kafka's and live in `error-codes.ts`.
 */
import { ERRORS, ERROR_WHEN, type ErrorName, errorName } from './error-codes.js';

/** An error as it travels in an error response. */
export interface WireError {
  code: number;
  name: string;
  message: string;
  retriable: boolean;
}

/**
 * An error the protocol can carry: a request-level failure the broker answers
 * with, or a per-partition `errorCode` turned into an error by a client.
 * `name` is Kafka's name (`OFFSET_OUT_OF_RANGE`), not the class name, so a
 * stack trace starts with what went wrong; `instanceof ProtocolError` tells
 * the family. The code never changes; the message may.
 */
export class ProtocolError extends Error {
  readonly code: number;
  override readonly name: string;
  readonly retriable: boolean;

  constructor(
    error: ErrorName | { code: number; name: string; retriable: boolean },
    message?: string,
    options?: { cause?: unknown },
  ) {
    const known = typeof error === 'string';
    super(
      message ?? (known ? ERROR_WHEN[error] : error.name),
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = known ? ERRORS[error].code : error.code;
    this.name = known ? error : error.name;
    this.retriable = known ? ERRORS[error].retriable : error.retriable;
  }

  /**
   * The error for a per-partition `errorCode`. A code this side does not know
   * becomes UNKNOWN_SERVER_ERROR, as in Kafka's clients; the message keeps it.
   */
  static fromCode(code: number, message?: string): ProtocolError {
    const name = errorName(code);
    if (name !== undefined) return new ProtocolError(name, message);
    return new ProtocolError('UNKNOWN_SERVER_ERROR', `error code ${code}: ${message ?? 'unknown'}`);
  }

  /** The error of an error response, trusted as sent (a newer broker may know codes we do not). */
  static fromWire(wire: WireError): ProtocolError {
    return new ProtocolError(wire, wire.message);
  }

  toWire(): WireError {
    return { code: this.code, name: this.name, message: this.message, retriable: this.retriable };
  }
}
