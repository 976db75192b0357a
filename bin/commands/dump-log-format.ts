/**
 * How `samsa dump-log` prints a report: text for people (one line per batch,
 * Kafka's `name: value` style so it greps well) or JSON lines for programs
 * (one object per segment, batch, index entry, and a summary last, each with
 * a `type`). Field names in the JSON are stable; the text may change.
 */
import type { BatchReport, LogRecord, LogReport, SegmentReport } from '../../src/log/index.js';
import { isoTime, plural, time } from '../text.js';
import { offsetsRecordJson, offsetsRecordLine } from './dump-log-offsets.js';

export interface FormatOptions {
  records?: boolean;
  index?: boolean;
  /** Show records as `__consumer_offsets` commits and groups. */
  offsetsDecoder?: boolean;
}

/** A report from inspectLog, or one segment dressed as one (`single`). */
export type DumpReport = LogReport & { single?: boolean };

/** Gaps listed one per line in the text; the rest are counted (the JSON lists them all). */
const MAX_GAP_LINES = 20;

const COMPRESSION_NAMES = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

// #region text
export function* textLines(report: DumpReport, options: FormatOptions): Generator<string> {
  if (!report.single) yield `Log directory ${report.dir}`;
  for (const segment of report.segments) {
    yield '';
    yield segmentLine(segment);
    for (const batch of segment.batches) {
      yield batchLine(batch);
      if (options.records && batch.records)
        for (const r of batch.records)
          yield options.offsetsDecoder ? offsetsRecordLine(r) : recordLine(r, batch);
    }
    if (options.index) yield* indexLines(segment);
  }
  yield '';
  yield* summaryLines(report);
}

function segmentLine(segment: SegmentReport): string {
  const { path, baseOffset, size, batches, firstOffset, lastOffset } = segment;
  const offsets =
    firstOffset === undefined ? 'empty' : `offsets ${firstOffset}..${lastOffset ?? firstOffset}`;
  return `Segment ${path}: base offset ${baseOffset}, ${offsets}, ${size} bytes, ${plural(batches.length, 'batch', 'batches')}`;
}

/** The batch's first timestamp, by what the field holds: a delete horizon, append or create time. */
function firstTime(b: BatchReport): string {
  if (b.deleteHorizon !== null) return `deleteHorizon: ${time(b.deleteHorizon)}`;
  return `${b.logAppendTime ? 'logAppendTime' : 'createTime'}: ${time(b.firstTimestamp)}`;
}

function batchLine(b: BatchReport): string {
  const parts = [
    `baseOffset: ${b.baseOffset}`,
    `lastOffset: ${b.lastOffset}`,
    // An empty batch is what the cleaner leaves to keep a cleaned segment's last offset.
    `count: ${b.recordCount}${b.recordCount === 0 ? ' (empty)' : ''}`,
    `position: ${b.position}`,
    `size: ${b.size}`,
    firstTime(b),
    `maxTime: ${time(b.maxTimestamp)}`,
    `producerId: ${b.producerId}`,
    `producerEpoch: ${b.producerEpoch}`,
    `baseSequence: ${b.baseSequence}`,
    `leaderEpoch: ${b.partitionLeaderEpoch}`,
  ];
  if (b.compression !== 0) parts.push(`compression: ${compressionName(b.compression)}`);
  if (b.isTransactional) parts.push('transactional');
  if (b.isControl) parts.push('control');
  if (b.tombstones > 0) parts.push(`tombstones: ${b.tombstones}`);
  parts.push(`crc: ${b.crcOk ? 'ok' : 'NOT OK'}`);
  return parts.join(' ');
}

function recordLine(r: LogRecord, batch: BatchReport): string {
  const value =
    r.value !== null
      ? showBytes(r.value)
      : batch.deleteHorizon !== null
        ? `null (tombstone, removable after ${isoTime(batch.deleteHorizon)})`
        : 'null (tombstone)';
  let line = `  | offset: ${r.offset} timestamp: ${r.timestamp} key: ${showBytes(r.key)} value: ${value}`;
  if (r.headers.length > 0)
    line += ` headers: ${r.headers.map((h) => `${JSON.stringify(h.key)}=${showBytes(h.value)}`).join(', ')}`;
  return line;
}

function* indexLines(segment: SegmentReport): Generator<string> {
  const { index, timeIndex } = segment;
  yield index.exists
    ? `  Index ${index.path}: ${plural(index.entries.length, 'entry', 'entries')}`
    : `  Index ${index.path}: missing (an index is derived; the log rebuilds it on open)`;
  for (const e of index.entries)
    yield `    offset: ${e.offset} position: ${e.position} agrees: ${yesNo(e.agrees)}${e.increasing ? '' : ' NOT INCREASING'}`;
  yield timeIndex.exists
    ? `  Time index ${timeIndex.path}: ${plural(timeIndex.entries.length, 'entry', 'entries')}`
    : `  Time index ${timeIndex.path}: missing (an index is derived; the log rebuilds it on open)`;
  for (const e of timeIndex.entries)
    yield `    timestamp: ${time(e.timestamp)} offset: ${e.offset} agrees: ${yesNo(e.agrees)}${e.increasing ? '' : ' NOT INCREASING'}`;
}

function* summaryLines(report: DumpReport): Generator<string> {
  const batches = report.segments.reduce((n, s) => n + s.batches.length, 0);
  const records = report.segments.reduce((n, s) => n + s.records, 0);
  yield 'Summary';
  yield `  ${plural(report.segments.length, 'segment', 'segments')}, ${plural(batches, 'batch', 'batches')}, ${plural(records, 'record', 'records')}, ${plural(report.tombstones, 'tombstone', 'tombstones')}`;
  if (!report.single) {
    const { exists, recoveryPoint, logStartOffset, cleanerOffset } = report.checkpoint;
    yield exists
      ? `  checkpoint: recovery point ${recoveryPoint ?? 'unknown'}, log start offset ${logStartOffset ?? 'unknown'}, cleaner offset ${cleanerOffset ?? 'none'}`
      : '  checkpoint: none';
    yield `  log start offset: ${report.logStartOffset}`;
    yield `  log end offset: ${report.logEndOffset}`;
    yield `  cleaner checkpoint: ${cleanerLine(report)}`;
  }
  if (report.emptyBatches > 0)
    yield `  empty batches: ${report.emptyBatches} (no records; the cleaner keeps one at the end of a cleaned segment so its last offset stays)`;
  yield* gapLines(report);
  for (const note of report.notes) yield `  note: ${note}`;
  yield report.problems.length === 0
    ? '  problems: none'
    : `  problems: ${report.problems.length} (listed on stderr)`;
}
function cleanerLine(report: DumpReport): string {
  const { cleanerCheckpoint, logStartOffset } = report;
  if (cleanerCheckpoint > logStartOffset)
    return `${cleanerCheckpoint} (offsets below it have been compacted at least once)`;
  return `${cleanerCheckpoint} (nothing compacted past the log start offset)`;
}

function* gapLines(report: DumpReport): Generator<string> {
  const gaps = report.offsetGaps;
  if (gaps.length === 0) {
    yield '  offset gaps: none';
    return;
  }
  const missing = gaps.reduce((n, g) => n + g.missing, 0);
  yield `  offset gaps: ${gaps.length}, ${plural(missing, 'offset', 'offsets')} without a record (normal after compaction)`;
  for (const g of gaps.slice(0, MAX_GAP_LINES))
    yield `  offset gap: ${plural(g.missing, 'offset', 'offsets')} missing between ${g.after} and ${g.next} (in or before the batch at byte ${g.position} of ${g.path})`;
  if (gaps.length > MAX_GAP_LINES)
    yield `  ... and ${gaps.length - MAX_GAP_LINES} more offset gaps (--json lists them all)`;
}
// #endregion text

// #region json
export function* jsonLines(report: DumpReport, options: FormatOptions): Generator<string> {
  for (const segment of report.segments) {
    const { path, baseOffset, size, validBytes } = segment;
    const batches = segment.batches.length;
    yield JSON.stringify({ type: 'segment', path, baseOffset, size, validBytes, batches });
    for (const batch of segment.batches) yield JSON.stringify(batchJson(path, batch, options));
    if (!options.index) continue;
    for (const e of segment.index.entries)
      yield JSON.stringify({ type: 'index-entry', path: segment.index.path, ...e });
    for (const e of segment.timeIndex.entries)
      yield JSON.stringify({ type: 'timeindex-entry', path: segment.timeIndex.path, ...e });
  }
  yield JSON.stringify({
    type: 'summary',
    path: report.dir,
    clean: report.problems.length === 0,
    segments: report.segments.length,
    batches: report.segments.reduce((n, s) => n + s.batches.length, 0),
    records: report.segments.reduce((n, s) => n + s.records, 0),
    tombstones: report.tombstones,
    emptyBatches: report.emptyBatches,
    logStartOffset: report.single ? null : report.logStartOffset,
    logEndOffset: report.logEndOffset,
    cleanerCheckpoint: report.single ? null : report.cleanerCheckpoint,
    checkpoint: report.single ? null : report.checkpoint,
    offsetGaps: report.offsetGaps,
    temporaryFiles: report.temporaryFiles,
    notes: report.notes,
    problems: report.problems,
  });
}

function batchJson(path: string, batch: BatchReport, options: FormatOptions): object {
  const { records, ...fields } = batch;
  const json: Record<string, unknown> = { type: 'batch', path, ...fields };
  if (options.records)
    json['records'] =
      records?.map((r) =>
        options.offsetsDecoder
          ? { ...recordJson(r), decoded: offsetsRecordJson(r) }
          : recordJson(r),
      ) ?? null;
  return json;
}

function recordJson(r: LogRecord): object {
  return {
    offset: r.offset,
    timestamp: r.timestamp,
    key: bytesJson(r.key),
    value: bytesJson(r.value),
    tombstone: r.value === null,
    headers: r.headers.map((h) => ({ key: h.key, value: bytesJson(h.value) })),
  };
}

/** A Buffer in JSON: `{ utf8 }` when it is readable text, else `{ base64 }`; null stays null. */
function bytesJson(bytes: Buffer | null): { utf8: string } | { base64: string } | null {
  if (bytes === null) return null;
  const text = printable(bytes);
  return text === undefined ? { base64: bytes.toString('base64') } : { utf8: text };
}
// #endregion json

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The bytes as text when they are valid UTF-8 with no control characters but tab and newlines. */
function printable(bytes: Buffer): string | undefined {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return undefined;
  }
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/.test(text) ? undefined : text;
}

/** Text in quotes when printable, else hex; null as null. */
function showBytes(bytes: Buffer | null): string {
  if (bytes === null) return 'null';
  const text = printable(bytes);
  return text === undefined ? `0x${bytes.toString('hex')}` : JSON.stringify(text);
}

function compressionName(codec: number): string {
  return COMPRESSION_NAMES[codec] ?? `codec ${codec}`;
}

function yesNo(flag: boolean): string {
  return flag ? 'yes' : 'NO';
}
