/**
 * Sections 4–7 of the chapter 4 walkthrough on long-term storage
 * (book/04-long-term-storage.ts): retention by size, DeleteRecords, a restart,
 * and a compacted topic, which retention leaves alone.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AppendRecord, Log, type SegmentInfo, decodeBatches } from '../../src/log/index.js';
import { ManualClock, duration, errorCode, logFileName, offsetRange, readAll } from './log.js';
import {
  CLICKS,
  CLICK_BATCHES,
  CLICKS_PER_BATCH,
  CUSTOMERS,
  DAY,
  HOUR,
  OUT_OF_RANGE,
  T0,
  checkOldestFirst,
  filesBeforeAfter,
  logFiles,
  when,
} from './retention.js';
import * as w from './walkthrough.js';

const click = (n: number): AppendRecord => ({
  key: Buffer.from(`user-${n % 5}`),
  value: Buffer.from(`click ${n} on /p/${(n * 13) % 50}`),
});

/** 4. retention.bytes: delete the oldest segments while the log is still that large without them. */
export async function retentionBySize(log: Log): Promise<void> {
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
export async function deleteRecords(log: Log): Promise<void> {
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
export async function restart(log: Log): Promise<Log> {
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
export async function compactedKeepsEverything(root: string, clock: ManualClock): Promise<void> {
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
