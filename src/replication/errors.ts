/**
 * Errors of the replication layer. Like the log's errors (src/log/errors.ts),
 * each carries a stable `code` (the text may change, the code never does) and
 * whether retrying the same call may succeed. Misuse of an API (a negative
 * epoch, say) throws a plain `TypeError` instead.
 */
import { CodedError } from '../log/errors.js';

export const ReplicationErrorCode = {
  CORRUPT_EPOCH_CHECKPOINT: 'REPLICATION_CORRUPT_EPOCH_CHECKPOINT',
  CORRUPT_OFFSET_CHECKPOINT: 'REPLICATION_CORRUPT_OFFSET_CHECKPOINT',
} as const;
export type ReplicationErrorCode = (typeof ReplicationErrorCode)[keyof typeof ReplicationErrorCode];

export class ReplicationError extends CodedError<ReplicationErrorCode> {}

/**
 * A `leader-epoch-checkpoint` file that cannot be parsed. Not retriable: the
 * file will read the same next time. The broker may delete it and rebuild the
 * cache from the batch headers (every batch carries its leader epoch).
 */
export class CorruptEpochCheckpointError extends ReplicationError {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(
      ReplicationErrorCode.CORRUPT_EPOCH_CHECKPOINT,
      `leader epoch checkpoint ${path} is corrupt: ${reason}`,
    );
  }
}

/**
 * A `replication-offset-checkpoint` file that cannot be parsed. The broker
 * logs it and starts each partition's high watermark at its log start offset
 * (a lower HW is always safe: it only hides records until the next advance).
 */
export class CorruptOffsetCheckpointError extends ReplicationError {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(
      ReplicationErrorCode.CORRUPT_OFFSET_CHECKPOINT,
      `offset checkpoint ${path} is corrupt: ${reason}`,
    );
  }
}
