/**
 * Chapter 4, "The log: an efficient structure for retaining and distributing
 * messages". Run it with `npm run book -- 04-the-log` and read 04-the-log.md
 * beside it. Every number printed is read back from the log or from the disk.
 */
import { readFileSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type AppendRecord,
  BATCH_HEADER_SIZE,
  Log,
  type LogConfig,
  type LogRecord,
  type SegmentInfo,
  decodeRecords,
  encodeBatch,
  readBatchHeader,
  segmentFileName,
} from '../src/log/index.js';
import * as w from './lib/walkthrough.js';

const CONFIG: Partial<LogConfig> = { 'segment.bytes': 4096, 'index.interval.bytes': 512 };
const T0 = Date.UTC(2018, 4, 1, 9, 0, 0); // records carry their own timestamps, one a second
const BATCH_SIZES = [3, 5, 2, 8, 4, 6];
const BATCHES = 24;
const CHILD_APPENDS_BEFORE_KILL = 40;
const TORN_BYTES = 7;
// The index layouts: src/log/offset-index.ts and src/log/time-index.ts, #region layout.
const RELATIVE_OFFSET_WIDTH = 4;
const POSITION_WIDTH = 4;
const TIMESTAMP_WIDTH = 8;
const INDEX_ENTRY = RELATIVE_OFFSET_WIDTH + POSITION_WIDTH;
const TIME_ENTRY = TIMESTAMP_WIDTH + RELATIVE_OFFSET_WIDTH;

const pageView = (n: number): AppendRecord => ({
  key: Buffer.from(`user-${n % 7}`),
  value: Buffer.from(JSON.stringify({ event: 'page-viewed', n, page: `/a/${(n * 37) % 101}` })),
  timestamp: T0 + n * 1000,
});
const crashRecord = (j: number): AppendRecord => ({
  key: Buffer.from(`crash-${j}`),
  value: Buffer.from(`record ${j} written by the child`),
  timestamp: T0 + 1_000_000 + j * 1000,
});
const text = (b: Buffer | null | undefined): string => b?.toString() ?? 'null';
const same = (r: LogRecord | undefined, a: AppendRecord): boolean =>
  r !== undefined && text(r.key) === text(a.key) && text(r.value) === text(a.value);
const iso = (ms: number): string => new Date(ms).toISOString();
const file = (dir: string, base: number, suffix: string): string =>
  join(dir, segmentFileName(base, suffix));

/** Every record from the log start to the log end, read batch by batch. */
function readAll(log: Log): LogRecord[] {
  const all: LogRecord[] = [];
  for (let next = log.logStartOffset; next < log.logEndOffset;) {
    const records = decodeRecords(log.read(next));
    all.push(...records);
    next = records[records.length - 1]!.offset + 1;
  }
  return all;
}

/** The whole batches in a .log file, found by walking their headers as recovery does. */
function batchesIn(path: string): { position: number; size: number; base: number; last: number }[] {
  const bytes = readFileSync(path);
  const out = [];
  for (let pos = 0; pos + BATCH_HEADER_SIZE <= bytes.length;) {
    const h = readBatchHeader(bytes, pos);
    if (pos + h.size > bytes.length) break; // torn: cut short by the end of the file
    out.push({ position: pos, size: h.size, base: h.baseOffset, last: h.lastOffset });
    pos += h.size;
  }
  return out;
}

/** The raw .index entries of a segment. Offsets are stored relative to its base offset. */
const offsetIndex = (dir: string, s: SegmentInfo) =>
  w.entries(readFileSync(file(dir, s.baseOffset, '.index')), INDEX_ENTRY).map((raw) => ({
    raw,
    offset: s.baseOffset + raw.readUInt32BE(0),
    position: raw.readUInt32BE(RELATIVE_OFFSET_WIDTH),
  }));

const timeIndex = (dir: string, s: SegmentInfo) =>
  w.entries(readFileSync(file(dir, s.baseOffset, '.timeindex')), TIME_ENTRY).map((raw) => ({
    raw,
    timestamp: Number(raw.readBigInt64BE(0)),
    offset: s.baseOffset + raw.readUInt32BE(TIMESTAMP_WIDTH),
  }));

/** 1. Appends are sequential: each batch lands at the end of the active segment. */
function appendPageViews(log: Log, written: AppendRecord[]): void {
  w.heading('1. Appending: a log only grows at its end');
  w.say(
    `Opened a log in ${log.dir} with segment.bytes=${CONFIG['segment.bytes']} and index.interval.bytes=${CONFIG['index.interval.bytes']}. Appending ${BATCHES} batches of page views, one second apart:`,
  );
  const rows: (string | number)[][] = [];
  let dense = true;
  let atTheEnd = true;
  for (let b = 0; b < BATCHES; b++) {
    const count = BATCH_SIZES[b % BATCH_SIZES.length]!;
    const records = Array.from({ length: count }, (_, i) => pageView(written.length + i));
    const before = log.segments.at(-1)!;
    const r = log.append(records);
    const after = log.segments.at(-1)!;
    const rolled = after.baseOffset !== before.baseOffset;
    const position = rolled ? 0 : before.size;
    dense &&= r.baseOffset === written.length && r.lastOffset === r.baseOffset + count - 1;
    atTheEnd &&= position + r.size === after.size && statSync(after.path).size === after.size;
    atTheEnd &&= !rolled || after.baseOffset === r.baseOffset;
    written.push(...records);
    const name = segmentFileName(after.baseOffset, '.log') + (rolled ? ' (new)' : '');
    rows.push([`${r.baseOffset}–${r.lastOffset}`, name, position, r.size, after.size]);
  }
  w.table(['offsets', 'segment', 'at byte', 'bytes', 'file size'], rows);
  w.check(dense, `offsets are dense: 0..${log.logEndOffset - 1}, each batch after the last`);
  w.check(atTheEnd, 'each batch was written at the end of the active segment, nowhere else');
}

/** 2. The log assigns offsets by patching the header; the records stay as the producer made them. */
function patchNotReencode(log: Log, written: AppendRecord[]): void {
  w.heading('2. Offsets are patched into the header; records are never re-encoded');
  const produced = encodeBatch([pageView(written.length)]);
  const appended = log.appendBatch(Buffer.from(produced), { leaderEpoch: 1 });
  written.push(pageView(written.length));
  const stored = log.read(appended.baseOffset, { maxBytes: 1 });
  const changed = [...produced.keys()].filter((i) => produced[i] !== stored[i]);
  const crc = readBatchHeader(produced).crc;
  w.say(
    `A producer encoded a batch (base offset 0, CRC ${w.hexNumber(crc)}) and handed the ${produced.length} bytes to appendBatch with leader epoch 1. The log gave it offset ${appended.baseOffset}. Byte positions that differ between what was sent and what is on disk: [${changed.join(', ')}].`,
  );
  w.show([
    `sent:   ${w.hex(produced.subarray(0, 21))} ...`,
    `stored: ${w.hex(stored.subarray(0, 21))} ...`,
  ]);
  const inPatchedFields = changed.every((i) => i < 8 || (i >= 12 && i < 16));
  w.check(
    stored.length === produced.length && inPatchedFields,
    'only bytes 0–7 (base offset) and 12–15 (leader epoch) changed',
  );
  w.check(
    readBatchHeader(stored).crc === crc && decodeRecords(stored).length === 1,
    `the CRC is still ${w.hexNumber(crc)} and still verifies: both fields sit outside it`,
  );
}

/** 3. Segment files on disk, named by their base offsets. */
async function showSegments(log: Log): Promise<void> {
  w.heading('3. Segments on disk');
  await log.flush(); // index entries reach their files at flush, roll and close
  const segments = log.segments;
  w.say(
    `The log has ${segments.length} segments. Each is a .log, an .index and a .timeindex named after the segment's base offset in 20 digits, so ls sorts them:`,
  );
  const files = w.listFiles(log.dir);
  w.table(
    ['file', 'bytes'],
    files.map((f) => [f.name, f.size]),
  );
  const logs = files.filter((f) => f.name.endsWith('.log')).map((f) => f.name);
  w.check(
    logs.join() === segments.map((s) => segmentFileName(s.baseOffset, '.log')).join(),
    'one .log per segment, named by its base offset',
  );
  w.check(
    segments.every((s, i) => i === 0 || s.baseOffset === segments[i - 1]!.lastOffset + 1),
    'each segment starts at the offset after the previous one ends',
  );
}

/** 4. The raw bytes of one segment's two sparse indexes. */
function showIndexes(log: Log, seg: SegmentInfo): void {
  w.heading('4. The sparse indexes');
  const idx = offsetIndex(log.dir, seg);
  const batches = batchesIn(seg.path);
  w.say(
    `Segment ${seg.baseOffset} holds offsets ${seg.baseOffset}–${seg.lastOffset} in ${batches.length} batches (${seg.size} bytes). Its .index has ${idx.length} entries of ${INDEX_ENTRY} bytes, big-endian: the offset relative to the base (u32, offset - ${seg.baseOffset}) and a byte position in the .log (u32). An entry names the last offset of the batch at its position:`,
  );
  w.table(
    ['raw bytes', 'relative', 'offset', 'position'],
    idx.map((e) => [w.hex(e.raw), e.offset - seg.baseOffset, e.offset, e.position]),
  );
  w.check(
    idx.length === seg.indexEntries && idx.length > 0 && idx.length < batches.length,
    `the index is sparse: ${idx.length} entries for ${batches.length} batches`,
  );
  w.check(
    idx.every((e) => batches.some((b) => b.position === e.position && b.last === e.offset)),
    'every entry points at the start of the batch whose last offset it names',
  );
  const tix = timeIndex(log.dir, seg);
  w.say(
    `Its .timeindex has ${tix.length} entries of ${TIME_ENTRY} bytes: a timestamp (i64) and a relative offset (u32), "by this offset the segment had reached this time":`,
  );
  w.table(
    ['raw bytes', 'timestamp', 'offset'],
    tix.map((e) => [w.hex(e.raw), iso(e.timestamp), e.offset]),
  );
  const increasing = tix.every(
    (e, i) => i === 0 || (e.timestamp > tix[i - 1]!.timestamp && e.offset > tix[i - 1]!.offset),
  );
  w.check(increasing, 'time index entries strictly increase in timestamp and in offset');
}

/** 5. A read by offset: segment by base offset, then index entry, then a short scan. */
function readByOffset(log: Log, seg: SegmentInfo, written: AppendRecord[]): void {
  w.heading('5. Reading by offset');
  const idx = offsetIndex(log.dir, seg);
  const target = Math.min((idx[0]?.offset ?? seg.baseOffset) + 2, seg.lastOffset);
  const entry = idx.filter((e) => e.offset <= target).at(-1);
  const scanned = batchesIn(seg.path).filter((b) => b.position >= (entry?.position ?? 0));
  const holder = scanned.find((b) => b.last >= target)!;
  const found = entry
    ? `offset ${entry.offset} at byte ${entry.position}`
    : 'none: scan from byte 0';
  w.say(
    `To read offset ${target} the log takes the segment with the greatest base offset ≤ ${target}, ${seg.baseOffset}. Its index's greatest entry ≤ ${target} is ${found}. Walking ${scanned.indexOf(holder) + 1} batch header(s) from there finds offsets ${holder.base}–${holder.last} at byte ${holder.position}.`,
  );
  const got = log.read(target, { maxBytes: 1 });
  const onDisk = readFileSync(seg.path).subarray(holder.position, holder.position + holder.size);
  const record = decodeRecords(got).find((r) => r.offset === target);
  w.show(
    `read(${target}) → ${got.length} bytes; offset ${target}: key=${text(record?.key)} value=${text(record?.value)}`,
  );
  w.check(got.equals(onDisk), 'the read returned that batch exactly as it lies in the file');
  w.check(same(record, written[target]!), `offset ${target} in it is the record appended there`);
}

/** 6. A read by timestamp, checked against a full scan. */
function readByTimestamp(log: Log): void {
  w.heading('6. Reading by timestamp');
  const all = readAll(log);
  const firstAtOrAfter = (t: number) => all.find((r) => r.timestamp >= t)?.offset;
  const when = T0 + 41_500;
  const seg = log.segments.find((s) => s.maxTimestamp >= when)!;
  const entry = timeIndex(log.dir, seg)
    .filter((e) => e.timestamp <= when)
    .at(-1);
  const from = entry ? `${iso(entry.timestamp)} → offset ${entry.offset}` : 'none: scan it all';
  const found = log.offsetForTimestamp(when);
  w.say(
    `offsetForTimestamp(${iso(when)}): the first segment whose largest timestamp reaches the target is ${seg.baseOffset}; its time index's greatest entry ≤ the target is ${from}. The answer is offset ${found}, stamped ${iso(all[found ?? 0]!.timestamp)}.`,
  );
  w.check(found === firstAtOrAfter(when), `a full scan agrees: ${found} is the first at or after`);
  const targets = Array.from({ length: (all.length + 2) * 4 }, (_, i) => T0 - 1000 + i * 250);
  const wrong = targets.filter((t) => log.offsetForTimestamp(t) !== firstAtOrAfter(t));
  w.check(
    wrong.length === 0,
    `a full scan agrees for all ${targets.length} targets, every 250 ms from before the first record to after the last${wrong.length ? `; not for ${wrong.slice(0, 5).map(iso).join(', ')}` : ''}`,
  );
}

/** 7 and 8. Kill a writer mid-stream, tear its last write, and let Log.open recover. */
async function crashAndRecover(
  dir: string,
  flushedEnd: number,
  written: AppendRecord[],
): Promise<void> {
  w.heading('7. A crash');
  w.say(`Closing the log flushed it; its checkpoint file reads:`);
  w.show(readFileSync(join(dir, 'checkpoint'), 'utf8').trimEnd());
  w.say(
    `A child process now opens the same log and appends batches of 3 records in a loop, never flushing. After it reports ${CHILD_APPENDS_BEFORE_KILL} appends it gets SIGKILL.`,
  );
  const child = w.spawnNode(fileURLToPath(import.meta.url), ['--child', dir]);
  let exit;
  try {
    await child.waitFor((lines) => lines.length >= CHILD_APPENDS_BEFORE_KILL, 30_000);
  } finally {
    exit = await child.kill('SIGKILL'); // also when it never got ready: no orphan left behind
  }
  const reportedEnd = Number(child.lines.at(-1)!.split(' ')[1]) + 1;
  const afterKill = new Map(w.listFiles(dir).map((f) => [f.name, f.size]));
  const active = [...afterKill.keys()].filter((name) => name.endsWith('.log')).at(-1)!;
  const activePath = join(dir, active);
  const torn = Math.max(0, afterKill.get(active)! - TORN_BYTES);
  w.say(
    `The child died by ${exit.signal} after reporting ${child.lines.length} appends, offsets ${flushedEnd}–${reportedEnd - 1}. To simulate a torn write, the last ${TORN_BYTES} bytes of the active segment ${active} are cut too.`,
  );
  truncateSync(activePath, torn);
  const whole = batchesIn(activePath).at(-1);
  const expectedEnd = whole ? whole.last + 1 : Number(active.slice(0, 20));
  const expectedSize = whole ? whole.position + whole.size : 0;

  w.heading('8. Recovery');
  const warnings: string[] = [];
  const log = await Log.open(dir, CONFIG, { logger: w.collectingLogger(warnings) });
  w.say(
    `Log.open() loaded the segments below the recovery point ${flushedEnd} after a sanity check, verified the batches from there on (length, magic, CRC, offsets) and reported${warnings.length === 0 ? ' nothing.' : ':'}`,
  );
  w.show(warnings.map((m) => m.replace(dir + '/', '')));
  const files = w.listFiles(dir).filter((f) => /\.(log|index|timeindex)$/.test(f.name));
  w.table(
    ['file', 'after kill', 'after tear', 'after recovery'],
    files.map((f) => [
      f.name,
      afterKill.get(f.name) ?? 0,
      f.name === active ? torn : (afterKill.get(f.name) ?? 0),
      f.size,
    ]),
  );
  const rebuilt = files.filter((f) => !f.name.endsWith('.log') && f.size !== afterKill.get(f.name));
  const cut = torn - statSync(activePath).size;
  w.say(
    `Recovery cut ${cut} bytes${cut > 0 ? ', the rest of the torn batch,' : ''} and rewrote ${rebuilt.map((f) => f.name).join(', ') || 'no index'} from the log. The log end offset is now ${log.logEndOffset}, and the checkpoint reads:`,
  );
  w.show(readFileSync(join(dir, 'checkpoint'), 'utf8').trimEnd());
  w.check(
    log.logEndOffset === expectedEnd && statSync(activePath).size === expectedSize,
    `the log ends after the last whole batch: offset ${expectedEnd}, byte ${expectedSize} of ${active}`,
  );
  const survivors = readAll(log);
  const fromChild = survivors.slice(flushedEnd);
  w.check(
    survivors.slice(0, flushedEnd).every((r, i) => r.offset === i && same(r, written[i]!)),
    `the ${flushedEnd} records flushed before the crash are intact`,
  );
  const prefix = fromChild.every((r, j) => r.offset === flushedEnd + j && same(r, crashRecord(j)));
  w.check(
    prefix && log.logEndOffset <= reportedEnd,
    `the ${fromChild.length} records kept from the child are exactly a prefix of what it reported writing: offsets ${flushedEnd}–${log.logEndOffset - 1}, in order, no holes`,
  );
  const next = log.append([crashRecord(fromChild.length)]);
  w.say(`Appending once more gives offset ${next.baseOffset}.`);
  w.check(next.baseOffset === expectedEnd, 'the next append continues at the recovered end');
  await log.close();
}

async function main(): Promise<void> {
  await w.withTempDir('04-the-log', async (root) => {
    const log = await Log.open(join(root, 'page-views-0'), CONFIG);
    const written: AppendRecord[] = [];
    appendPageViews(log, written);
    patchNotReencode(log, written);
    await showSegments(log);
    showIndexes(log, log.segments[1]!);
    readByOffset(log, log.segments[1]!, written);
    readByTimestamp(log);
    const flushedEnd = log.logEndOffset;
    await log.close();
    await crashAndRecover(log.dir, flushedEnd, written);
  });
}

/** The writer of section 7: appends until it is killed, reporting each batch's offsets. */
async function child(dir: string): Promise<void> {
  const log = await Log.open(dir, CONFIG);
  for (let j = 0; j < 30_000; j += 3) {
    const r = log.append([crashRecord(j), crashRecord(j + 1), crashRecord(j + 2)]);
    process.stdout.write(`${r.baseOffset} ${r.lastOffset}\n`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await log.close();
}

if (process.argv[2] === '--child') await child(process.argv[3]!);
else await w.runWalkthrough('Chapter 4: the log', main);
