/**
 * The setting of the chapter 4 walkthrough on long-term storage
 * (book/04-long-term-storage.ts): its clock, the configurations of its order,
 * click and customer logs, and the tables and checks its sections share.
 */
import { existsSync } from 'node:fs';
import type { AppendRecord, Log, LogConfig, SegmentInfo } from '../../src/log/index.js';
import { duration, logFileName, offsetRange } from './log.js';
import * as w from './walkthrough.js';

export const HOUR = 60 * 60 * 1000;
export const DAY = 24 * HOUR;
export const T0 = Date.UTC(2018, 4, 1); // day 0, 00:00
export const DAYS = 10;
/** An order log that rolls a segment a day and keeps a week: Kafka's retention.ms default. */
export const ORDERS: Partial<LogConfig> = { 'segment.ms': DAY, 'retention.ms': 7 * DAY };
/** A click log bounded by size only. */
export const CLICKS: Partial<LogConfig> = {
  'segment.bytes': 1024,
  'retention.bytes': 4096,
  'retention.ms': -1,
};
export const CLICK_BATCHES = 60;
export const CLICKS_PER_BATCH = 4;
/** A compacted log with retention settings that would delete everything, were they applied. */
export const CUSTOMERS: Partial<LogConfig> = {
  'cleanup.policy': 'compact',
  'segment.bytes': 1024,
  'retention.ms': DAY,
  'retention.bytes': 1024,
};
export const OUT_OF_RANGE = 'LOG_OFFSET_OUT_OF_RANGE';

/** `day 3 07:00`, counted from T0. */
export function when(t: number): string {
  const day = Math.floor((t - T0) / DAY);
  return `day ${day} ${new Date(t).toISOString().slice(11, 16)}`;
}

export const order = (n: number): AppendRecord => ({
  key: Buffer.from(`order-${n}`),
  value: Buffer.from(JSON.stringify({ order: n, total: 10 + ((n * 7) % 90) })),
});

/** The segments as a table: offsets, newest record, its age now, bytes. */
export function segmentTable(log: Log, now?: number): void {
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
export function filesBeforeAfter(before: Map<string, number>, dir: string): void {
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

export const logFiles = (dir: string): Map<string, number> =>
  new Map(
    w
      .listFiles(dir)
      .filter((f) => f.name.endsWith('.log'))
      .map((f) => [f.name, f.size]),
  );

/** The deleted segments must be the oldest ones, in order, and their files gone. */
export function checkOldestFirst(before: SegmentInfo[], deleted: SegmentInfo[]): void {
  w.check(
    deleted.every((d, i) => d.baseOffset === before[i]!.baseOffset),
    `the ${w.plural(deleted.length, 'deleted segment')} ${deleted.length === 1 ? 'is the oldest one' : 'are the oldest ones, in order'}: ${deleted.map((d) => d.baseOffset).join(', ') || 'none'}`,
  );
  w.check(
    deleted.every((d) => !existsSync(d.path) && !existsSync(d.path.replace(/\.log$/, '.index'))),
    'their .log, .index and .timeindex files are gone from the disk',
  );
}
