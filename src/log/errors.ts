/**
 * Errors of the log layer. Each class carries a stable `code` (the text may
 * change, the code never does) and whether retrying the same call may succeed.
 * Misuse of the API (wrong argument types) throws a plain `TypeError` instead.
 */

export const LogErrorCode = {
  CORRUPT_BATCH: 'LOG_CORRUPT_BATCH',
  OFFSET_OUT_OF_RANGE: 'LOG_OFFSET_OUT_OF_RANGE',
  CLOSED: 'LOG_CLOSED',
  RECORD_TOO_LARGE: 'LOG_RECORD_TOO_LARGE',
  INVALID_RECORD: 'LOG_INVALID_RECORD',
  UNSUPPORTED_COMPRESSION: 'LOG_UNSUPPORTED_COMPRESSION',
  INVALID_CONFIG: 'LOG_INVALID_CONFIG',
} as const;
export type LogErrorCode = (typeof LogErrorCode)[keyof typeof LogErrorCode];

/**
 * An error with a stable `code` and a `retriable` flag, named after its class.
 * The log's errors extend it, and so do the replication and cluster layers'
 * (each with its own codes), so every layer's errors read the same way.
 */
export class CodedError<C extends string> extends Error {
  readonly code: C;
  readonly retriable: boolean;

  constructor(code: C, message: string, options?: { cause?: unknown; retriable?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options?.retriable ?? false;
  }
}

export class LogError extends CodedError<LogErrorCode> {}

/** A batch failed its length, magic or CRC check. `position` is its byte position when known. */
export class CorruptBatchError extends LogError {
  readonly position: number | undefined;
  constructor(message: string, position?: number, options?: { cause?: unknown }) {
    super(LogErrorCode.CORRUPT_BATCH, message, options);
    this.position = position;
  }
}

/** The offset lies below the log start offset or above the log end offset. */
export class OffsetOutOfRangeError extends LogError {
  constructor(
    readonly offset: number,
    readonly logStartOffset: number,
    readonly logEndOffset: number,
  ) {
    super(
      LogErrorCode.OFFSET_OUT_OF_RANGE,
      `offset ${offset} is out of range: the log holds [${logStartOffset}, ${logEndOffset})`,
    );
  }
}

export class LogClosedError extends LogError {
  constructor(dir: string) {
    super(LogErrorCode.CLOSED, `the log at ${dir} is closed`);
  }
}

/** A batch is larger than `max.message.bytes` (or a segment could never hold it). */
export class RecordTooLargeError extends LogError {
  constructor(size: number, limit: number) {
    super(
      LogErrorCode.RECORD_TOO_LARGE,
      `a batch of ${size} bytes exceeds the limit of ${limit} bytes`,
    );
  }
}

/** A batch is well formed but not acceptable here (no records, a key missing in a compacted log, ...). */
export class InvalidRecordError extends LogError {
  constructor(message: string) {
    super(LogErrorCode.INVALID_RECORD, message);
  }
}

export class UnsupportedCompressionError extends LogError {
  constructor(codec: number) {
    super(
      LogErrorCode.UNSUPPORTED_COMPRESSION,
      `compression codec ${codec} is not supported (samsa reads none and gzip)`,
    );
  }
}

export class InvalidConfigError extends LogError {
  constructor(message: string) {
    super(LogErrorCode.INVALID_CONFIG, message);
  }
}
