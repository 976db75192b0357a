/**
 * Chapter 4, "Compacted topics". Run it with `npm run book -- 04-compacted-topics`
 * and read 04-compacted-topics.md beside it. A topic of customer addresses is
 * compacted by samsa's cleaner; time comes from a clock the script moves by
 * hand, and every number printed is read back from the log or from the disk.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type AppendRecord,
  Attributes,
  Log,
  type LogConfig,
  type LogRecord,
  decodeBatches,
} from '../src/log/index.js';
import {
  ManualClock,
  countBatches,
  duration,
  errorCode,
  logFileName,
  offsetRange,
  readAll,
} from './lib/log.js';
import * as w from './lib/walkthrough.js';

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2018, 4, 1, 9, 0, 0);
const CONFIG: Partial<LogConfig> = {
  'cleanup.policy': 'compact',
  'segment.bytes': 1024,
  'delete.retention.ms': DAY, // Kafka's default
  'min.cleanable.dirty.ratio': 0.5, // Kafka's default
  'min.compaction.lag.ms': 0, // Kafka's default
};
/** Who moved, in order: a = alice, b = bob, ... erin moves once, early, and never again. */
const MOVES = 'aebcdabcadbcabdcbadcabdbcadbacdbca';
const NAMES: Record<string, string> = { a: 'alice', b: 'bob', c: 'carol', d: 'dave', e: 'erin' };
const STREETS = ['Elm St', 'Oak Ave', 'Mill Lane', 'High St', 'Quay Rd', 'Park Row', 'Dock St'];

/** The records as written: what each offset held before any compaction. */
type Written = Map<number, AppendRecord>;
type Table = Map<string, string>;

/** `hour 42`: hours since the first update. */
const hour = (t: number): string => `hour ${(t - T0) / HOUR}`;
const text = (b: Buffer | null | undefined): string => (b ? b.toString() : 'null');
const address = (n: number): Buffer =>
  Buffer.from(JSON.stringify({ street: `${n + 1} ${STREETS[n % STREETS.length]}` }));

/** A table is what a reader folds the log into: the latest value per key; a tombstone deletes. */
function fold(records: readonly (LogRecord | AppendRecord)[], into: Table = new Map()): Table {
  for (const r of records) {
    if (r.value === null) into.delete(text(r.key));
    else into.set(text(r.key), text(r.value));
  }
  return into;
}

const sameTable = (a: Table, b: Table): boolean =>
  a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);

function showTable(table: Table): void {
  w.table(
    ['key', 'value'],
    [...table].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, v]),
  );
}

function append(log: Log, written: Written, record: AppendRecord): number {
  const r = log.append([record]);
  written.set(r.baseOffset, record);
  return r.baseOffset;
}

/** Segments with their offsets and sizes, keyed by file name, to compare before and after. */
function snapshot(log: Log): Map<string, { offsets: string; size: number; batches: number }> {
  return new Map(
    log.segments.map((s) => [
      logFileName(s),
      {
        offsets: offsetRange(s),
        size: s.size,
        batches: decodeBatches(readFileSync(s.path)).length,
      },
    ]),
  );
}

function showBeforeAfter(before: ReturnType<typeof snapshot>, log: Log): void {
  const after = snapshot(log);
  const active = logFileName(log.segments.at(-1)!);
  const names = [...new Set([...before.keys(), ...after.keys()])].sort();
  w.table(
    ['segment', 'offsets before', 'bytes', 'offsets after', 'bytes', 'batches'],
    names.map((n) => {
      const b = before.get(n);
      const a = after.get(n);
      return [
        n + (n === active ? ' (active)' : ''),
        b?.offsets ?? w.NONE,
        b?.size ?? w.NONE,
        a?.offsets ?? (b ? 'merged' : w.NONE),
        a?.size ?? w.NONE,
        `${b?.batches ?? w.NONE} → ${a?.batches ?? w.NONE}`,
      ];
    }),
  );
}

/** 1. Updates to a few keys: the topic as a stream of changes, and the table it folds into. */
function appendUpdates(log: Log, clock: ManualClock, written: Written): void {
  w.heading('1. A topic of updates');
  for (let n = 0; n < MOVES.length; n++) {
    clock.set(T0 + n * HOUR);
    append(log, written, { key: Buffer.from(NAMES[MOVES[n]!]!), value: address(n) });
  }
  w.say(
    `Opened a log with cleanup.policy=compact and segment.bytes=${CONFIG['segment.bytes']}, and appended ${MOVES.length} address changes for ${Object.keys(NAMES).length} customers, one an hour, each its own batch. Which offsets each customer's changes got:`,
  );
  const byKey = new Map<string, number[]>();
  for (const [offset, r] of written)
    byKey.set(text(r.key), [...(byKey.get(text(r.key)) ?? []), offset]);
  w.table(
    ['key', 'changes', 'at offsets'],
    [...byKey]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, offsets]) => [k, offsets.length, offsets.join(' ')]),
  );
  w.say(`The log has ${log.segments.length} segments:`);
  w.table(
    ['segment', 'offsets', 'bytes'],
    log.segments.map((s, i) => [
      logFileName(s) + (i === log.segments.length - 1 ? ' (active)' : ''),
      offsetRange(s),
      s.size,
    ]),
  );
  const table = fold(readAll(log, 0));
  w.say(
    `A reader that folds the whole log into a map, key → latest value, gets the current address of every customer: the topic read as a table.`,
  );
  showTable(table);
  w.check(
    sameTable(table, fold([...written.values()])) && table.size === byKey.size,
    `the table has ${table.size} rows, the latest value of each key`,
  );
}

/** 2. One cleaner pass: the latest value per key stays, at its offset; the rest goes. */
async function compactOnce(log: Log, written: Written): Promise<void> {
  w.heading('2. Compaction');
  const before = snapshot(log);
  const sizeBefore = log.size;
  const active = log.segments.at(-1)!;
  const activeBytes = readFileSync(active.path);
  const cleanedSizes = log.segments.slice(0, -1).map((s) => s.size);
  const stats = await log.compact();
  if (stats.skipped !== undefined) {
    w.check(false, `log.compact() cleaned something; it says: ${stats.skipped}`);
    return;
  }
  w.say(
    `log.compact() ran one cleaner pass over offsets ${stats.start}–${stats.end - 1}, every segment but the active one: it read ${stats.recordsRead} records in ${w.plural(stats.segmentsRead, 'segment')} (${stats.bytesRead} bytes), kept ${stats.recordsKept} and wrote ${stats.bytesWritten} bytes in ${w.plural(stats.segmentsWritten, 'segment')}. The log went from ${sizeBefore} to ${log.size} bytes:`,
  );
  showBeforeAfter(before, log);
  w.check(stats.recordsKept < stats.recordsRead, 'the pass dropped records');
  w.check(
    log.size < sizeBefore && stats.bytesWritten < stats.bytesRead,
    `the cleaned segments shrank from ${stats.bytesRead} to ${stats.bytesWritten} bytes`,
  );
  if (stats.segmentsWritten === stats.segmentsRead && stats.segmentsRead > 1) {
    w.say(
      `The ${stats.segmentsRead} cleaned segments were not merged: the cleaner groups segments whose sizes *before* cleaning add up to at most segment.bytes, and they were ${Math.min(...cleanedSizes)}–${Math.max(...cleanedSizes)} bytes each, so no two fit in ${CONFIG['segment.bytes']}. Now that they are small, the next pass merges them (section 3).`,
    );
  }
  const after = readAll(log, 0);
  const moved = after.filter((r) => {
    const orig = written.get(r.offset);
    return !orig || text(orig.key) !== text(r.key) || text(orig.value) !== text(r.value);
  });
  const offsets = after.map((r) => r.offset);
  const missing = log.logEndOffset - log.logStartOffset - offsets.length;
  w.say(
    `What a reader from offset 0 gets now: ${after.length} records at offsets ${offsets.join(' ')}.`,
  );
  w.check(
    moved.length === 0,
    `every record kept has the offset it was written at, with the same key and value`,
  );
  w.check(
    missing > 0 && offsets.every((o, i) => i === 0 || o > offsets[i - 1]!),
    `offsets have gaps now: ${missing} of the offsets ${log.logStartOffset}–${log.logEndOffset - 1} hold no record; none was reused or renumbered`,
  );
  const cleaned = after.filter((r) => r.offset < stats.end);
  const latestBelowEnd = new Map<string, number>();
  for (const [offset, r] of written)
    if (offset < stats.end) latestBelowEnd.set(text(r.key), offset);
  w.say(`In the cleaned part, offsets below ${stats.end}:`);
  w.table(
    ['offset', 'key', 'value', 'written'],
    cleaned.map((r) => [r.offset, text(r.key), text(r.value), hour(r.timestamp)]),
  );
  w.check(
    cleaned.length === latestBelowEnd.size &&
      cleaned.every((r) => latestBelowEnd.get(text(r.key)) === r.offset),
    `the cleaned part holds exactly one record per key (${latestBelowEnd.size}), the latest written below ${stats.end}`,
  );
  const erin = after.find((r) => text(r.key) === 'erin');
  w.check(
    erin?.offset === 1,
    `erin, who moved once, is still at offset ${erin?.offset}: an old record is kept as long as it is the latest of its key`,
  );
  w.check(
    readFileSync(log.segments.at(-1)!.path).equals(activeBytes) &&
      log.segments.at(-1)!.baseOffset === active.baseOffset,
    `the active segment ${logFileName(active)} is untouched, byte for byte`,
  );
  const batches = countBatches(log, 0);
  const empty = log.segments
    .slice(0, -1)
    .map((seg) => ({ seg, last: decodeBatches(readFileSync(seg.path)).at(-1) }))
    .filter(({ last }) => last !== undefined && last.records.length === 0);
  w.say(
    `Reading batch by batch, the log holds ${w.plural(batches, 'batch', 'batches')} for ${w.plural(after.length, 'record')}. ${empty.length === 0 ? 'None is empty.' : `${empty.length === 1 ? 'One is' : `${empty.length} are`} empty: the last batch of ${empty.map(({ seg, last }) => `segment ${seg.baseOffset} (offsets ${last!.baseOffset}–${last!.lastOffset})`).join(' and ')}. A cleaned segment keeps its last batch even when every record in it went, so that it still ends at the offset where the next segment begins.`}`,
  );
  w.check(
    log.segments.every((s, i) => i === 0 || s.baseOffset === log.segments[i - 1]!.lastOffset + 1),
    'segments are still contiguous: each starts right after the previous one ends',
  );
  w.say(
    `The cleaner checkpoint is now ${log.cleanerCheckpoint}: offsets below it have been cleaned at least once. Only what lies at or after it is dirty. The log's checkpoint file keeps it across restarts:`,
  );
  w.show(
    readFileSync(join(log.dir, 'checkpoint'), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('cleaner-offset')),
  );
  w.check(log.cleanerCheckpoint === stats.end, `the cleaner checkpoint moved to ${stats.end}`);
  const again = await log.compact();
  w.say(
    `A second pass right away ${again.skipped ? `does nothing: ${again.skipped}` : `cleaned offsets ${again.start}–${again.end - 1}`}.`,
  );
  w.check(again.skipped !== undefined, 'with nothing new to clean, the cleaner skips the log');
}

/** The batch holding `offset`, decoded. */
const batchAt = (log: Log, offset: number) =>
  decodeBatches(log.read(offset, { maxBytes: 1 })).find(
    (b) => b.baseOffset <= offset && offset <= b.lastOffset,
  );

/** 3. A tombstone deletes a key, stays for delete.retention.ms, then goes. */
async function tombstone(log: Log, clock: ManualClock, written: Written): Promise<void> {
  w.heading('3. A tombstone removes a key');
  const readerAt = log.logEndOffset;
  const reader = fold(readAll(log, 0));
  const awayReader = fold(readAll(log, 0));
  clock.advance(HOUR);
  const dead = append(log, written, { key: Buffer.from('bob'), value: null });
  for (const [i, k] of ['c', 'a', 'c', 'd', 'a', 'c', 'a', 'd'].entries()) {
    clock.advance(HOUR);
    append(log, written, { key: Buffer.from(NAMES[k]!), value: address(100 + i) });
  }
  log.roll();
  w.say(
    `Bob closes his account: a record with key bob and a null value, a tombstone, is appended at offset ${dead}, followed by ${log.logEndOffset - dead - 1} more address changes; then the log rolls so the tombstone's segment is no longer active (a busy topic rolls on its own). A reader that had read up to offset ${readerAt - 1} earlier still has bob in its table.`,
  );
  const before = snapshot(log);
  const segmentsBefore = log.segments.length;
  const first = await log.compact();
  const horizonBatch = batchAt(log, dead);
  const stamped = horizonBatch && (horizonBatch.attributes & Attributes.DELETE_HORIZON) !== 0;
  const horizon = horizonBatch?.firstTimestamp ?? 0;
  const bobNow = readAll(log, 0).filter((r) => text(r.key) === 'bob');
  w.say(
    `log.compact() at ${hour(clock.now)} cleaned offsets ${first.start}–${first.end - 1}: kept ${first.recordsKept} of ${first.recordsRead} records, ${first.tombstonesRemoved} tombstones removed. Bob's records left in the log: ${bobNow.map((r) => `offset ${r.offset} = ${text(r.value)}`).join(', ') || 'none'}. The batch holding the tombstone now carries a delete horizon (attribute bit ${w.hexNumber(Attributes.DELETE_HORIZON, 2)} set: ${stamped ? 'yes' : 'no'}): ${hour(horizon)}, ${duration(horizon - clock.now)} from now.`,
  );
  showBeforeAfter(before, log);
  w.check(
    log.segments.length < segmentsBefore,
    `small cleaned segments were merged: ${segmentsBefore} segments became ${log.segments.length}`,
  );
  w.check(
    bobNow.length === 1 && bobNow[0]!.offset === dead && bobNow[0]!.value === null,
    `bob's old addresses are gone; only the tombstone at offset ${dead} is left`,
  );
  w.check(
    stamped && horizon === clock.now + CONFIG['delete.retention.ms']!,
    `the tombstone's batch is stamped with a delete horizon: now + delete.retention.ms (${duration(CONFIG['delete.retention.ms']!)})`,
  );
  fold(readAll(log, readerAt), reader);
  w.say(
    `The earlier reader catches up from offset ${readerAt}: it reads the tombstone and drops bob. Its table: ${[...reader.keys()].sort().join(', ')}.`,
  );
  w.check(!reader.has('bob'), 'a reader that catches up sees the delete');

  clock.set(Math.max(clock.now, horizon - HOUR));
  const early = await log.compact({ force: true });
  const stillThere = batchAt(log, dead)?.records.some((r) => r.offset === dead) ?? false;
  w.say(
    `At ${duration(horizon - clock.now)} before the horizon, another pass (force: true, since no new records made the log dirty) removed ${w.plural(early.tombstonesRemoved, 'tombstone')}; the tombstone is ${stillThere ? 'still at' : 'gone from'} offset ${dead}.`,
  );
  w.check(stillThere, 'before the horizon the tombstone stays, for readers still catching up');

  clock.set(horizon);
  const late = await log.compact({ force: true });
  const all = readAll(log, 0);
  w.say(
    `At the horizon, ${hour(clock.now)}, the next pass removed ${w.plural(late.tombstonesRemoved, 'tombstone')}. Records with key bob in the log: ${all.filter((r) => text(r.key) === 'bob').length}.`,
  );
  w.check(
    late.tombstonesRemoved === 1 && all.every((r) => text(r.key) !== 'bob'),
    'once delete.retention.ms has passed, the tombstone goes too: the key is gone from the log',
  );
  const gone = errorCode(() => log.read(dead));
  const next = decodeBatches(log.read(dead))[0];
  w.say(
    `read(${dead}) ${gone ? `fails with ${gone}` : `still works: the offset lies in a gap now, and the read returns the next batch there is, offsets ${next?.baseOffset}–${next?.lastOffset} (${w.plural(next?.records.length ?? 0, 'record')})`}.`,
  );
  w.check(gone === undefined, 'reading at a removed offset is not an error: the reader moves on');
  fold(readAll(log, readerAt), awayReader);
  w.say(
    `A second reader had also stopped at offset ${readerAt - 1}, but comes back only now, after the horizon. It reads on from ${readerAt} and never meets the tombstone, so its table still has bob: ${awayReader.get('bob') ?? 'no'}. That is the contract of delete.retention.ms: it is how long a reader may fall behind and still see every delete.`,
  );
  w.check(
    awayReader.has('bob'),
    'a reader away for longer than delete.retention.ms misses the delete',
  );
}

/** 4. Rebuild the table from offset 0 and compare it with the latest state. */
function rebuild(log: Log, written: Written): void {
  w.heading('4. Rebuilding the table from the log');
  const records = readAll(log, 0);
  const table = fold(records);
  const expected = fold([...written.values()]);
  w.say(
    `A new service bootstraps its table by reading the compacted log from offset 0: ${records.length} records (${written.size} were ever written). It gets:`,
  );
  showTable(table);
  w.check(
    sameTable(table, expected),
    `the table equals the latest state of every key, bob deleted: ${[...expected.keys()].sort().join(', ')}`,
  );
  const keys = new Set(records.map((r) => text(r.key)));
  w.check(
    records.length < written.size && keys.size === table.size,
    `it read ${records.length} records instead of ${written.size}, for ${table.size} keys`,
  );
}

async function main(): Promise<void> {
  await w.withTempDir('04-compacted-topics', async (root) => {
    const clock = new ManualClock(T0);
    const log = await Log.open(join(root, 'customers-0'), CONFIG, { clock: clock.read });
    const written: Written = new Map();
    appendUpdates(log, clock, written);
    await compactOnce(log, written);
    await tombstone(log, clock, written);
    rebuild(log, written);
    await log.close();
  });
}

await w.runWalkthrough('Chapter 4: compacted topics', main);
