/**
 * samsa/log: the storage engine on its own. No network, no topics, no
 * replicas: a directory of segments that you append to and read from.
 *
 *   import { Log, encodeBatch, decodeBatches } from 'samsa/log';
 *   const log = await Log.open('./my-log', { 'segment.bytes': 1 << 20 });
 *   log.append([{ key: Buffer.from('k'), value: Buffer.from('v') }]);
 *   const records = decodeRecords(log.read(0));
 */
export { Log } from './log.js';
export { validateBatch } from './append-validation.js';
export type {
  AppendResult,
  AppendBatchOptions,
  LogOptions,
  ReadOptions,
  RetentionResult,
} from './log-types.js';
export type { SegmentInfo } from './segment.js';
export { planRetention } from './retention.js';
export type { CleanerStats, CompactOptions } from './cleaner/cleanable-log.js';
export type { RetentionPlan, RetentionReason, RetentionSegment } from './retention.js';
export { DEFAULT_LOG_CONFIG, NEVER, resolveLogConfig } from './config.js';
export type { LogConfig } from './config.js';
export { encodeBatch, decodeBatches, decodeRecords } from './record-batch.js';
export type {
  AppendRecord,
  DecodeOptions,
  EncodeOptions,
  LogRecord,
  RecordBatch,
  RecordHeader,
} from './record-batch.js';
export {
  Attributes,
  BATCH_HEADER_SIZE,
  Compression,
  MAGIC,
  crc32c,
  patchBaseOffset,
  patchLeaderEpoch,
  readBatchHeader,
  verifyBatch,
} from './batch-header.js';
export type { BatchHeader } from './batch-header.js';
export {
  CodedError,
  CorruptBatchError,
  InvalidConfigError,
  InvalidRecordError,
  LogClosedError,
  LogError,
  LogErrorCode,
  OffsetOutOfRangeError,
  RecordTooLargeError,
  UnsupportedCompressionError,
} from './errors.js';
export { consoleLogger, silentLogger, systemClock } from './logger.js';
export type { Clock, LogLevel, Logger } from './logger.js';
export { segmentFileName } from './segment.js';
export { inspectLog, inspectSegment } from './inspect.js';
export type {
  BatchReport,
  IndexFileReport,
  InspectOptions,
  LogReport,
  OffsetGap,
  OffsetIndexEntryReport,
  SegmentReport,
  TimeIndexEntryReport,
} from './inspect.js';
