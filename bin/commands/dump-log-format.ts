/**
 * How `samsa dump-log` prints a report: text for people (one line per batch,
 * Kafka's `name: value` style so it greps well) or JSON lines for programs
 * (one object per segment, batch, index entry, and a summary last, each with
 * a `type`). Field names in the JSON are stable; the text may change.
 */
import type { BatchReport, LogRecord, LogReport, SegmentReport } from '../../src/log/index.js';

export interface FormatOptions {
  records?: boolean;
  index?: boolean;
}

/** A report from inspectLog, or one segment dressed as one (`single`). */
export type DumpReport = LogReport & { single?: boolean };

const COMPRESSION_NAMES = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

// #region text
export function* textLines(report: DumpReport, options: FormatOptions): Generator<string> {
  if (!report.single) yield `Log directory ${report.dir}`;
  for (const segment of report.segments) {
    yield '';
    yield `Segment ${segment.path}: base offset ${segment.baseOffset}, ${segment.size} bytes, ${plural(segment.batches.length, 'batch', 'batches')}`;
    for (const batch of segment.batches) {
      yield batchLine(batch);
      if (options.records && batch.records) for (const r of batch.records) yield recordLine(r);
    }
    if (options.index) yield* indexLines(segment);
  }
  yield '';
  yield* summaryLines(report);
}

function batchLine(b: BatchReport): string {
  const parts = [
    `baseOffset: ${b.baseOffset}`,
    `lastOffset: ${b.lastOffset}`,
    `count: ${b.recordCount}`,
    `position: ${b.position}`,
    `size: ${b.size}`,
    `${b.logAppendTime ? 'logAppendTime' : 'createTime'}: ${time(b.firstTimestamp)}`,
    `maxTime: ${time(b.maxTimestamp)}`,
    `producerId: ${b.producerId}`,
    `producerEpoch: ${b.producerEpoch}`,
    `baseSequence: ${b.baseSequence}`,
    `leaderEpoch: ${b.partitionLeaderEpoch}`,
  ];
  if (b.compression !== 0) parts.push(`compression: ${compressionName(b.compression)}`);
  if (b.isTransactional) parts.push('transactional');
  if (b.isControl) parts.push('control');
  parts.push(`crc: ${b.crcOk ? 'ok' : 'NOT OK'}`);
  return parts.join(' ');
}

function recordLine(r: LogRecord): string {
  const value = r.value === null ? 'null (tombstone)' : showBytes(r.value);
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
    const { exists, recoveryPoint, logStartOffset } = report.checkpoint;
    yield exists
      ? `  checkpoint: recovery point ${recoveryPoint ?? 'unknown'}, log start offset ${logStartOffset ?? 'unknown'}`
      : '  checkpoint: none';
    yield `  log end offset: ${report.logEndOffset}`;
  }
  if (report.offsetGaps.length === 0) yield '  offset gaps: none';
  for (const g of report.offsetGaps)
    yield `  offset gap: ${plural(g.missing, 'offset', 'offsets')} missing between ${g.after} and ${g.next} (before byte ${g.position} of ${g.path})`;
  for (const note of report.notes) yield `  note: ${note}`;
  yield report.problems.length === 0
    ? '  problems: none'
    : `  problems: ${report.problems.length} (listed on stderr)`;
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
    logEndOffset: report.logEndOffset,
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
  if (options.records) json['records'] = records?.map(recordJson) ?? null;
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

function time(ms: number): string {
  const date = new Date(ms);
  return ms >= 0 && !Number.isNaN(date.getTime()) ? `${ms} (${date.toISOString()})` : String(ms);
}

function compressionName(codec: number): string {
  return COMPRESSION_NAMES[codec] ?? `codec ${codec}`;
}

function yesNo(flag: boolean): string {
  return flag ? 'yes' : 'NO';
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}
