/**
 * What a log checks before it accepts a batch someone else encoded (a
 * producer, a leader): one whole batch, within `max.message.bytes`, magic 2,
 * a CRC that holds, offsets that make sense. A compacted log also refuses
 * records without a key, as Kafka does. The records are only decoded for
 * that last check; on the plain path they are never looked at.
 */
import {
  BATCH_HEADER_SIZE,
  LAST_OFFSET_DELTA_POS,
  RECORD_COUNT_POS,
  batchSizeAt,
  verifyBatch,
} from './batch-header.js';
import { type LogConfig, isCompacted } from './config.js';
import { CorruptBatchError, InvalidRecordError, RecordTooLargeError } from './errors.js';
import { decodeBatches } from './record-batch.js';

/** Throws TypeError on a non-Buffer, LogError subclasses on a batch the log must refuse. */
export function validateBatch(
  bytes: Buffer,
  config: LogConfig,
  options: { fromLeader: boolean },
): void {
  if (!Buffer.isBuffer(bytes)) throw new TypeError('appendBatch takes a Buffer');
  if (bytes.length < BATCH_HEADER_SIZE)
    throw new CorruptBatchError(`a batch needs ${BATCH_HEADER_SIZE} bytes`);
  if (batchSizeAt(bytes, 0) !== bytes.length) {
    throw new CorruptBatchError(
      `the batch length field disagrees with the ${bytes.length} bytes given`,
      0,
    );
  }
  if (bytes.length > config['max.message.bytes']) {
    throw new RecordTooLargeError(bytes.length, config['max.message.bytes']);
  }
  verifyBatch(bytes, 0, bytes.length);
  // A leader's batches may have been compacted: empty, or with gaps inside.
  if (options.fromLeader) return;
  const count = bytes.readInt32BE(RECORD_COUNT_POS);
  if (count < 1) throw new InvalidRecordError('a batch must hold at least one record');
  if (bytes.readInt32BE(LAST_OFFSET_DELTA_POS) !== count - 1) {
    throw new InvalidRecordError('a new batch must have lastOffsetDelta = recordCount - 1');
  }
  if (isCompacted(config)) {
    for (const batch of decodeBatches(bytes, { verifyCrc: false })) {
      if (batch.records.some((r) => r.key === null)) {
        throw new InvalidRecordError('a compacted log refuses records without a key');
      }
    }
  }
}
