/**
 * Chapter 4, "Long-term storage". Run it with `npm run book -- 04-long-term-storage`
 * and read 04-long-term-storage.md beside it. Time comes from a clock the
 * script moves by hand, so "ten days later" takes no time; every number
 * printed is read back from the log or from the disk.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Log } from '../src/log/index.js';
import { ManualClock, duration, errorCode, logFileName, offsetRange, readAll } from './lib/log.js';
import {
  CLICKS,
  DAY,
  DAYS,
  HOUR,
  ORDERS,
  OUT_OF_RANGE,
  T0,
  checkOldestFirst,
  filesBeforeAfter,
  logFiles,
  order,
  segmentTable,
  when,
} from './lib/retention.js';
import {
  compactedKeepsEverything,
  deleteRecords,
  restart,
  retentionBySize,
} from './lib/retention-sections.js';
import * as w from './lib/walkthrough.js';

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
