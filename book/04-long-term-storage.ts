/**
 * Chapter 4, "Long-term storage". Run it with `npm run book -- 04-long-term-storage`
 * and read 04-long-term-storage.md beside it. Time comes from a clock the
 * script moves by hand, so "ten days later" takes no time; every number
 * printed is read back from the log or from the disk.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type AppendRecord,
  Log,
  type LogConfig,
  type SegmentInfo,
  decodeBatches,
} from '../src/log/index.js';
import { ManualClock, duration, errorCode, logFileName, offsetRange, readAll } from './lib/log.js';
import * as w from './lib/walkthrough.js';

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2018, 4, 1); // day 0, 00:00
const DAYS = 10;
/** An order log that rolls a segment a day and keeps a week: Kafka's retention.ms default. */
const ORDERS: Partial<LogConfig> = { 'segment.ms': DAY, 'retention.ms': 7 * DAY };
/** A click log bounded by size only. */
const CLICKS: Partial<LogConfig> = {
  'segment.bytes': 1024,
  'retention.bytes': 4096,
  'retention.ms': -1,
};
const CLICK_BATCHES = 60;
const CLICKS_PER_BATCH = 4;
/** A compacted log with retention settings that would delete everything, were they applied. */
const CUSTOMERS: Partial<LogConfig> = {
  'cleanup.policy': 'compact',
  'segment.bytes': 1024,
  'retention.ms': DAY,
  'retention.bytes': 1024,
};
const OUT_OF_RANGE = 'LOG_OFFSET_OUT_OF_RANGE';

/** `day 3 07:00`, counted from T0. */
function when(t: number): string {
  const day = Math.floor((t - T0) / DAY);
  return `day ${day} ${new Date(t).toISOString().slice(11, 16)}`;
}

const order = (n: number): AppendRecord => ({
  key: Buffer.from(`order-${n}`),
  value: Buffer.from(JSON.stringify({ order: n, total: 10 + ((n * 7) % 90) })),
});

/** The segments as a table: offsets, newest record, its age now, bytes. */
function segmentTable(log: Log, now?: number): void {
  w.table(
    now === undefined
      ? ['segment', 'offsets', 'newest record', 'bytes']
      : ['segment', 'offsets', 'newest record', 'age', 'bytes'],
    log.segments.map((s, i) => [
      logFileName(s) + (i === log.segments.length - 1 ? ' (active)' : ''),
      offsetRange(s),
      when(s.maxTimestamp),
      ...(now === undefined ? [] : [duration(now - s.maxTimestamp)]),
      s.size,
    ]),
  );
}

/** The .log files of a log directory, with their sizes, before and after something happened. */
function filesBeforeAfter(before: Map<string, number>, dir: string): void {
  const after = new Map(
    w
      .listFiles(dir)
      .filter((f) => f.name.endsWith('.log'))
      .map((f) => [f.name, f.size]),
  );
  const names = [...new Set([...before.keys(), ...after.keys()])].sort();
  w.table(
    ['file', 'before', 'after'],
    names.map((n) => [n, before.get(n) ?? w.NONE, after.get(n) ?? 'deleted']),
  );
}

const logFiles = (dir: string): Map<string, number> =>
  new Map(
    w
      .listFiles(dir)
      .filter((f) => f.name.endsWith('.log'))
      .map((f) => [f.name, f.size]),
  );

/** The deleted segments must be the oldest ones, in order, and their files gone. */
function checkOldestFirst(before: SegmentInfo[], deleted: SegmentInfo[]): void {
  w.check(
    deleted.every((d, i) => d.baseOffset === before[i]!.baseOffset),
    `the ${w.plural(deleted.length, 'deleted segment')} ${deleted.length === 1 ? 'is the oldest one' : 'are the oldest ones, in order'}: ${deleted.map((d) => d.baseOffset).join(', ') || 'none'}`,
  );
  w.check(
    deleted.every((d) => !existsSync(d.path) && !existsSync(d.path.replace(/\.log$/, '.index'))),
    'their .log, .index and .timeindex files are gone from the disk',
  );
}

/** 1. Reading does not consume: a log is a system of record, not a queue. */
function systemOfRecord(log: Log, clock: ManualClock): void {
  w.heading('1. A system of record, not a queue');
  for (let day = 0; day < DAYS; day++) {
    for (let hour = 0; hour < 24; hour++) {
      clock.set(T0 + day * DAY + hour * HOUR);
      log.append([order(day * 24 + hour)]); // stamped with the clock's time
    }
  }
  w.say(
    `Opened an order log with segment.ms=${duration(ORDERS['segment.ms']!)} and retention.ms=${duration(ORDERS['retention.ms']!)}, on a clock the script moves by hand. It appended one order an hour for ${DAYS} days, offsets ${log.logStartOffset}–${log.logEndOffset - 1}. The log rolled a new segment whenever the next record was a day newer than a segment's first:`,
  );
  segmentTable(log);
  w.check(
    log.segments.length === DAYS &&
      log.segments.every((s, d) => s.maxTimestamp === T0 + d * DAY + 23 * HOUR),
    `one segment per day: ${log.segments.length} segments, each ending at 23:00 of its day`,
  );
  const first = readAll(log, 0);
  const second = readAll(log, 0);
  w.say(
    `A consumer read offsets ${first[0]?.offset}–${first.at(-1)?.offset} (${first.length} records); a second consumer, later, read ${second.length} records from offset 0 again. Reading removed nothing: the log still holds offsets ${log.logStartOffset}–${log.logEndOffset - 1}. In a queue the first reader would have taken them away; here only retention removes data, and only when the configuration says so.`,
  );
  w.check(
    first.length === DAYS * 24 && second.length === first.length && log.logStartOffset === 0,
    `both consumers read all ${DAYS * 24} records and the log start offset is still 0`,
  );
}

/** 2. retention.ms: whole segments whose newest record is older than the limit go, oldest first. */
async function retentionByTime(log: Log, clock: ManualClock): Promise<void> {
  w.heading('2. Retention by time');
  clock.set(T0 + DAYS * DAY + 6 * HOUR);
  const before = log.segments;
  const files = logFiles(log.dir);
  const limit = ORDERS['retention.ms']!;
  w.say(
    `The clock moves on to ${when(clock.now)}. A segment is older than retention.ms=${duration(limit)} when its *newest* record is, so the age column below is measured from each segment's largest timestamp:`,
  );
  segmentTable(log, clock.now);
  const result = await log.enforceRetention(); // now: the log's clock
  w.say(
    `enforceRetention() deleted ${w.plural(result.deleted.length, 'segment')}, ${result.deletedBytes} bytes, and the log start offset is now ${result.logStartOffset}:`,
  );
  w.show(
    result.deleted.map(
      (d) =>
        `${logFileName(d)}  offsets ${offsetRange(d)}  newest ${when(d.maxTimestamp)}  reason: ${d.reason}`,
    ),
  );
  filesBeforeAfter(files, log.dir);
  checkOldestFirst(before, result.deleted);
  const kept = log.segments[0]!;
  w.check(
    result.deleted.length > 0 &&
      result.deleted.every(
        (d) => d.reason === 'retention.ms' && clock.now - d.maxTimestamp > limit,
      ),
    `every deleted segment's newest record is older than ${duration(limit)}`,
  );
  w.check(
    clock.now - kept.maxTimestamp <= limit,
    `the oldest kept segment, ${kept.baseOffset}, is not: its newest record is ${duration(clock.now - kept.maxTimestamp)} old`,
  );
  w.check(
    log.logStartOffset === kept.baseOffset && result.logStartOffset === kept.baseOffset,
    `the log start offset moved to ${kept.baseOffset}, the base offset of the oldest segment left`,
  );
  const below = errorCode(() => log.read(log.logStartOffset - 1));
  const at = readAll(log)[0];
  w.say(
    `A consumer that asks for offset ${log.logStartOffset - 1} now gets ${below ?? 'no error'}; offset ${log.logStartOffset} is the oldest there is, an order from ${at ? when(at.timestamp) : '?'}. Asked for the first record at or after ${when(T0)}, offsetForTimestamp answers ${log.offsetForTimestamp(T0)}.`,
  );
  w.check(below === OUT_OF_RANGE, `a read below the log start offset fails with ${OUT_OF_RANGE}`);
  w.check(
    at?.offset === log.logStartOffset && log.offsetForTimestamp(T0) === log.logStartOffset,
    'reads from the log start offset on still work',
  );
}

/** 3. The high watermark bounds retention, and the active segment is never deleted. */
async function upperBoundAndActive(log: Log, clock: ManualClock): Promise<void> {
  w.heading('3. The high watermark, and the active segment');
  clock.set(T0 + 14 * DAY + 6 * HOUR);
  const limit = ORDERS['retention.ms']!;
  const expired = log.segments.slice(0, -1).filter((s) => clock.now - s.maxTimestamp > limit);
  const holder = expired[Math.min(2, expired.length - 1)]!;
  const hw = holder.baseOffset + 5;
  w.say(
    `It is ${when(clock.now)}: segments ${expired.map((s) => s.baseOffset).join(', ')} are now past retention.ms. On a replicated partition the leader deletes nothing its followers have not copied yet: retention gets an upper bound, the high watermark, and no segment holding an offset at or above it goes. Say the followers have copied up to offset ${hw} (exclusive), which lies in segment ${holder.baseOffset}:`,
  );
  let before = log.segments;
  let result = await log.enforceRetention({ upperBound: hw });
  w.show(
    `enforceRetention({ upperBound: ${hw} }) deleted ${result.deleted.map((d) => logFileName(d)).join(', ') || 'nothing'}; the log now starts at ${result.logStartOffset}`,
  );
  checkOldestFirst(before, result.deleted);
  w.check(
    result.deleted.every((d) => d.lastOffset < hw) &&
      log.segments[0]!.baseOffset === holder.baseOffset,
    `nothing at or above the upper bound ${hw} was deleted: segment ${holder.baseOffset} stays, although its newest record is ${duration(clock.now - holder.maxTimestamp)} old`,
  );
  before = log.segments;
  result = await log.enforceRetention({ upperBound: log.logEndOffset });
  w.show(
    `the high watermark reaches the log end, ${log.logEndOffset}: enforceRetention deleted ${result.deleted.map((d) => logFileName(d)).join(', ') || 'nothing'}; the log now starts at ${result.logStartOffset}`,
  );
  checkOldestFirst(before, result.deleted);
  w.check(
    result.deleted.some((d) => d.baseOffset === holder.baseOffset),
    `once the bound moved past it, segment ${holder.baseOffset} went too`,
  );

  clock.set(T0 + 60 * DAY);
  const active = log.segments.at(-1)!;
  before = log.segments;
  result = await log.enforceRetention();
  w.say(
    `Then nothing is written for weeks. At ${when(clock.now)} every record in the log is older than ${duration(limit)}, yet enforceRetention() deleted ${w.plural(result.deleted.length, 'segment')} and kept the active one:`,
  );
  segmentTable(log, clock.now);
  checkOldestFirst(before, result.deleted);
  w.check(
    log.segments.length === 1 &&
      log.segments[0]!.baseOffset === active.baseOffset &&
      existsSync(active.path) &&
      log.logStartOffset === active.baseOffset &&
      log.logEndOffset === DAYS * 24,
    `only the active segment ${active.baseOffset} is left, though expired; the log holds ${log.logStartOffset}–${log.logEndOffset - 1}`,
  );
  const next = log.append([order(DAYS * 24)]);
  result = await log.enforceRetention();
  w.say(
    `The next order, at ${when(clock.now)}, got offset ${next.baseOffset} in a new segment ${logFileName(log.segments.at(-1)!)} (the old active one's records were at least ${duration(clock.now - active.maxTimestamp)} older than this one: more than segment.ms). Retention then deleted ${result.deleted.map((d) => logFileName(d)).join(', ') || 'nothing'}: no longer active, it could go. The log holds ${log.logStartOffset}–${log.logEndOffset - 1}.`,
  );
  w.check(
    log.segments.length === 1 &&
      log.segments[0]!.baseOffset === next.baseOffset &&
      result.deleted.length === 1 &&
      result.deleted[0]!.baseOffset === active.baseOffset &&
      log.logStartOffset === next.baseOffset,
    `the former active segment ${active.baseOffset} was deleted once a new one took its place`,
  );
}

const click = (n: number): AppendRecord => ({
  key: Buffer.from(`user-${n % 5}`),
  value: Buffer.from(`click ${n} on /p/${(n * 13) % 50}`),
});

/** 4. retention.bytes: delete the oldest segments while the log is still that large without them. */
async function retentionBySize(log: Log): Promise<void> {
  w.heading('4. Retention by size');
  for (let b = 0; b < CLICK_BATCHES; b++) {
    log.append(Array.from({ length: CLICKS_PER_BATCH }, (_, i) => click(b * CLICKS_PER_BATCH + i)));
  }
  const limit = CLICKS['retention.bytes']!;
  const before = log.segments;
  const files = logFiles(log.dir);
  const sizeBefore = log.size;
  w.say(
    `A click log with segment.bytes=${CLICKS['segment.bytes']}, retention.bytes=${limit} and no time limit (retention.ms=-1) got ${CLICK_BATCHES} batches of ${CLICKS_PER_BATCH} clicks: ${before.length} segments, ${sizeBefore} bytes in all. retention.bytes bounds the size of one partition: oldest segments go while the log without them would still hold at least ${limit} bytes.`,
  );
  const result = await log.enforceRetention();
  w.say(
    `enforceRetention() deleted ${w.plural(result.deleted.length, 'segment')} (${result.deletedBytes} bytes, reasons: ${[...new Set(result.deleted.map((d) => d.reason))].join(', ')}); the log is now ${log.size} bytes in ${w.plural(log.segments.length, 'segment')} and starts at offset ${log.logStartOffset}:`,
  );
  filesBeforeAfter(files, log.dir);
  checkOldestFirst(before, result.deleted);
  w.check(
    result.deleted.length > 0 && result.deleted.every((d) => d.reason === 'retention.bytes'),
    'segments were deleted, every one for retention.bytes',
  );
  const oldest = log.segments[0]!;
  w.check(
    log.size >= limit && log.size - oldest.size < limit,
    `the log is ${log.size} bytes: still at least ${limit}, and without its oldest segment (${oldest.size} bytes) it would be below`,
  );
  w.check(
    sizeBefore - result.deletedBytes === log.size,
    `${sizeBefore} - ${result.deletedBytes} deleted = ${log.size} bytes`,
  );
}

/** 5. DeleteRecords: the log start offset moves anywhere; whole segments below it go. */
async function deleteRecords(log: Log): Promise<void> {
  w.heading('5. DeleteRecords: moving the log start offset by hand');
  const [first, second] = log.segments as [SegmentInfo, SegmentInfo];
  const target = first.baseOffset + CLICKS_PER_BATCH + 2; // inside the second batch of the segment
  const files = logFiles(log.dir);
  const start = await log.deleteRecordsBefore(target);
  const got = log.read(target, { maxBytes: 1 });
  const held = decodeBatches(got)[0];
  w.say(
    `An admin deletes the records before offset ${target} (Kafka's DeleteRecords; kafka-delete-records.sh). The log start offset is now ${start}, inside segment ${first.baseOffset} (offsets ${offsetRange(first)}), which stays on disk, unchanged:`,
  );
  filesBeforeAfter(files, log.dir);
  w.check(
    start === target && log.logStartOffset === target,
    `the log start offset is ${target}, inside a segment`,
  );
  w.check(
    log.segments[0]!.baseOffset === first.baseOffset &&
      logFiles(log.dir).get(logFileName(first)) === first.size,
    `segment ${first.baseOffset} is still there, byte for byte: it holds offsets at and after ${target}`,
  );
  const below = errorCode(() => log.read(target - 1));
  const records = readAll(log);
  w.say(
    `read(${target - 1}) fails with ${below ?? 'no error'}. read(${target}) still returns the whole batch that holds it, offsets ${held?.baseOffset}–${held?.lastOffset} (${got.length} bytes): the log never cuts a batch in two. A consumer skips the records below the start offset, so it sees ${records[0]?.offset ?? '?'}–${records.at(-1)?.offset ?? '?'}.`,
  );
  w.check(below === OUT_OF_RANGE, `a read below ${target} fails with ${OUT_OF_RANGE}`);
  w.check(
    held !== undefined && held.baseOffset < target && held.lastOffset >= target,
    `read(${target}) returns the whole batch ${held?.baseOffset}–${held?.lastOffset}, records below the start offset included`,
  );
  w.check(
    records[0]?.offset === target,
    `a consumer from the log start sees offset ${target} first`,
  );

  const target2 = second.baseOffset + 1;
  const files2 = logFiles(log.dir);
  const start2 = await log.deleteRecordsBefore(target2);
  w.say(
    `Deleting the records before ${target2} moves the start offset to ${start2}, into segment ${second.baseOffset}. Now segment ${first.baseOffset} lies wholly below the start, so it goes:`,
  );
  filesBeforeAfter(files2, log.dir);
  w.check(
    log.segments[0]!.baseOffset === second.baseOffset && !existsSync(first.path),
    `segment ${first.baseOffset} was deleted only once every offset in it was below the start offset`,
  );
  w.check(log.logStartOffset === target2, `the log start offset is ${target2}`);
}

/** 6. The log start offset is in the checkpoint file, so a restart keeps it. */
async function restart(log: Log): Promise<Log> {
  w.heading('6. The log start offset survives a restart');
  const start = log.logStartOffset;
  await log.close();
  w.say(`The click log is closed. Its checkpoint file reads:`);
  w.show(readFileSync(join(log.dir, 'checkpoint'), 'utf8').trimEnd());
  const reopened = await Log.open(log.dir, CLICKS);
  const below = errorCode(() => reopened.read(start - 1));
  w.say(
    `Reopened, the log starts at ${reopened.logStartOffset} and ends at ${reopened.logEndOffset}; read(${start - 1}) fails with ${below ?? 'no error'}.`,
  );
  w.check(
    reopened.logStartOffset === start,
    `the log start offset ${start} survived the restart, although it lies inside segment ${reopened.segments[0]!.baseOffset}`,
  );
  w.check(below === OUT_OF_RANGE, 'the deleted records stay deleted');
  return reopened;
}

const customer = (n: number): AppendRecord => ({
  key: Buffer.from(`customer-${n % 6}`),
  value: Buffer.from(JSON.stringify({ address: `${n} Main St`, version: Math.floor(n / 6) })),
});

/** 7. cleanup.policy=compact: retention.ms and retention.bytes do not apply. */
async function compactedKeepsEverything(root: string, clock: ManualClock): Promise<void> {
  w.heading('7. A compacted topic keeps its data');
  clock.set(T0);
  const dir = join(root, 'customers-0');
  let log = await Log.open(dir, CUSTOMERS, { clock: clock.read });
  for (let n = 0; n < 60; n++) {
    clock.set(T0 + n * 4 * HOUR);
    log.append([customer(n)]);
  }
  const last = clock.now;
  const segments = log.segments.length;
  const size = log.size;
  clock.set(T0 + 365 * DAY);
  const result = await log.enforceRetention();
  const all = readAll(log, 0);
  w.say(
    `A customer log with cleanup.policy=compact, and retention.ms=${duration(CUSTOMERS['retention.ms']!)} and retention.bytes=${CUSTOMERS['retention.bytes']} that would delete nearly all of it, got 60 address updates for 6 customers between ${when(T0)} and ${when(last)}: ${segments} segments, ${size} bytes. A year later (${when(clock.now)}), enforceRetention() deleted ${w.plural(result.deleted.length, 'segment')}; all ${all.length} records, offsets ${all[0]?.offset}–${all.at(-1)?.offset}, are still there.`,
  );
  w.check(
    result.deleted.length === 0 && log.logStartOffset === 0 && all.length === 60,
    'retention by time and by size does not apply to a compacted topic: nothing was deleted',
  );
  await log.close();
  log = await Log.open(
    dir,
    { ...CUSTOMERS, 'cleanup.policy': 'compact,delete' },
    {
      clock: clock.read,
    },
  );
  const both = await log.enforceRetention();
  w.say(
    `Reopened with cleanup.policy=compact,delete, the same call deleted ${both.deleted.length} of ${segments} segments (${[...new Set(both.deleted.map((d) => d.reason))].join(', ')}): with both policies a topic is compacted *and* expires.`,
  );
  w.check(both.deleted.length > 0, 'with compact,delete, retention applies again');
  await log.close();
}

async function main(): Promise<void> {
  await w.withTempDir('04-long-term-storage', async (root) => {
    const clock = new ManualClock(T0);
    const orders = await Log.open(join(root, 'orders-0'), ORDERS, { clock: clock.read });
    systemOfRecord(orders, clock);
    await retentionByTime(orders, clock);
    await upperBoundAndActive(orders, clock);
    await orders.close();

    let clicks = await Log.open(join(root, 'clicks-0'), CLICKS);
    await retentionBySize(clicks);
    await deleteRecords(clicks);
    clicks = await restart(clicks);
    await clicks.close();

    await compactedKeepsEverything(root, clock);
  });
}

await w.runWalkthrough('Chapter 4: long-term storage', main);
