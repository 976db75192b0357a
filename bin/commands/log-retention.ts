/**
 * `samsa log retention <dir>`: one retention pass over a log directory, as a
 * broker's log manager would run it (see src/log/retention.ts for the rules),
 * optionally after moving the log start offset (`--delete-before`, Kafka's
 * DeleteRecords). Says which segments went and why, or why none could: the
 * limits in force against the oldest segment's age and the log's size.
 */
import { basename } from 'node:path';
import type { Command } from 'commander';
import type {
  Log,
  LogConfig,
  RetentionReason,
  RetentionResult,
  SegmentInfo,
} from '../../src/log/index.js';
import { type CommandModule, UsageError } from '../command.js';
import { bytes, duration, isoTime, plural } from '../text.js';
import {
  type LogShape,
  collectConfig,
  parseConfigPairs,
  shapeLine,
  shapeOf,
  withLog,
} from './log-pass.js';

export interface LogRetentionOptions {
  config?: string[];
  now?: string;
  deleteBefore?: string;
  json?: boolean;
}

export const logRetention: CommandModule = {
  register(parent: Command): void {
    parent
      .command('retention')
      .description('delete the segments retention allows now, and say which and why')
      .argument('<dir>', 'a log directory')
      .option(
        '--config <key=value>',
        'a log config value (Kafka key names; repeat for more), e.g. retention.bytes=1048576',
        collectConfig,
      )
      .option('--now <time>', 'the time the pass runs at: ISO 8601 or ms since the epoch')
      .option(
        '--delete-before <offset>',
        'first move the log start offset to <offset> (Kafka DeleteRecords)',
      )
      .option('--json', 'print one JSON object instead of text')
      .addHelpText(
        'after',
        '\nWith no --config the log gets Kafka defaults: cleanup.policy delete, retention.ms 7 days,' +
          '\nretention.bytes -1 (no limit). Only whole segments go, oldest first, never the active one.' +
          '\nThe log must not be open in another process. Exit status: 0 done (even if nothing was' +
          '\ndeleted), 1 the log refused or failed, 2 usage error or not a log directory.',
      )
      .action(async (dir: string, options: LogRetentionOptions) => {
        process.exitCode = await runLogRetention(dir, options);
      });
  },
};

interface DeletedSegment {
  path: string;
  baseOffset: number;
  lastOffset: number;
  size: number;
  maxTimestamp: number;
  reason: RetentionReason;
  /** Why, in words: the limit and the figure that broke it. */
  why: string;
}

export interface RetentionReport {
  command: 'log retention';
  dir: string;
  now: number;
  config: Pick<LogConfig, 'cleanup.policy' | 'retention.ms' | 'retention.bytes'>;
  deleteBefore: number | null;
  deleted: DeletedSegment[];
  deletedBytes: number;
  logStartOffset: { before: number; after: number };
  /** Why nothing was deleted, when nothing was. */
  nothingToDelete: string | null;
  /** The oldest segment left, with the figures retention compares. */
  oldestSegment: (SegmentInfo & { ageMs: number | null }) | null;
  log: LogShape;
}

/** Runs the command, writing to stdout; returns the exit status (throws Usage/FailedError). */
export async function runLogRetention(dir: string, options: LogRetentionOptions): Promise<number> {
  const { overrides, config } = parseConfigPairs(options.config ?? []);
  const now = options.now === undefined ? Date.now() : parseTime(options.now);
  const deleteBefore =
    options.deleteBefore === undefined ? undefined : parseOffset(options.deleteBefore);
  const report = await withLog('log retention', dir, overrides, 'retention', async (log) =>
    retentionPass(log, dir, config, now, deleteBefore),
  );
  const out = options.json ? [JSON.stringify(report)] : textLines(report);
  for (const line of out) process.stdout.write(line + '\n');
  return 0;
}

async function retentionPass(
  log: Log,
  dir: string,
  config: LogConfig,
  now: number,
  deleteBefore: number | undefined,
): Promise<RetentionReport> {
  const before = log.logStartOffset;
  const sizeBefore = log.size;
  const deleted: RetentionResult['deleted'] = [];
  if (deleteBefore !== undefined) {
    // deleteRecordsBefore says only where the log now starts: the segments it dropped are the
    // ones no longer at the front.
    const segments = log.segments;
    await log.deleteRecordsBefore(deleteBefore);
    const first = log.segments[0]!.baseOffset;
    for (const s of segments.filter((s) => s.baseOffset < first))
      deleted.push({ ...s, reason: 'log-start-offset' });
  }
  const startForPolicy = log.logStartOffset; // as retention by policy saw it
  const result = await log.enforceRetention({ now });
  deleted.push(...result.deleted);
  const remaining = log.segments;
  const oldest = remaining[0] ?? null;
  const report: RetentionReport = {
    command: 'log retention',
    dir,
    now,
    config: {
      'cleanup.policy': config['cleanup.policy'],
      'retention.ms': config['retention.ms'],
      'retention.bytes': config['retention.bytes'],
    },
    deleteBefore: deleteBefore ?? null,
    deleted: [],
    deletedBytes: deleted.reduce((n, s) => n + s.size, 0),
    logStartOffset: { before, after: log.logStartOffset },
    nothingToDelete: null,
    oldestSegment: oldest && {
      ...oldest,
      ageMs: oldest.maxTimestamp < 0 ? null : now - oldest.maxTimestamp,
    },
    log: shapeOf(log),
  };
  // Explain each deletion with the log's size as retention saw it: they went oldest first.
  let size = sizeBefore;
  for (const s of deleted) {
    report.deleted.push({
      path: s.path,
      baseOffset: s.baseOffset,
      lastOffset: s.lastOffset,
      size: s.size,
      maxTimestamp: s.maxTimestamp,
      reason: s.reason,
      why: whyDeleted(s, config, now, size, startForPolicy),
    });
    size -= s.size;
  }
  if (deleted.length === 0)
    report.nothingToDelete = whyNothing(log, remaining, config, now, before);
  return report;
}

function whyDeleted(
  s: SegmentInfo & { reason: RetentionReason },
  config: LogConfig,
  now: number,
  logSize: number,
  logStartOffset: number,
): string {
  switch (s.reason) {
    case 'retention.ms':
      return `its newest record is ${duration(now - s.maxTimestamp)} old, over retention.ms ${duration(config['retention.ms'])}`;
    case 'retention.bytes':
      return `the log was ${logSize} bytes; without it, ${logSize - s.size} bytes is still at least retention.bytes ${config['retention.bytes']}`;
    case 'log-start-offset':
      return `every offset in it is below the log start offset ${logStartOffset}`;
  }
}

/** Why retention could delete nothing now, in plain words. */
function whyNothing(
  log: Log,
  segments: readonly SegmentInfo[],
  config: LogConfig,
  now: number,
  startBefore: number,
): string {
  if (segments.length <= 1)
    return (
      'the log has only its active segment, which retention never deletes ' +
      '(a new one starts at segment.bytes or segment.ms)'
    );
  const oldest = segments[0]!;
  const reasons: string[] = [];
  if (log.logStartOffset > startBefore)
    reasons.push(
      `records below ${log.logStartOffset} are deleted (unreadable), but segment ` +
        `${basename(oldest.path)} also holds offsets up to ${oldest.lastOffset}: it goes once ` +
        'every offset in it is below the log start offset',
    );
  if (!config['cleanup.policy'].split(',').includes('delete')) {
    reasons.push(
      `cleanup.policy is ${config['cleanup.policy']}: retention only deletes segments below the ` +
        'log start offset (use --delete-before, or --config cleanup.policy=compact,delete)',
    );
    return reasons.join('; ');
  }
  const retentionMs = config['retention.ms'];
  if (retentionMs < 0) reasons.push('retention.ms is -1 (no time limit)');
  else if (oldest.maxTimestamp < 0)
    reasons.push(`the oldest segment has no timestamps to compare with retention.ms`);
  else
    reasons.push(
      `the oldest segment's newest record is ${duration(now - oldest.maxTimestamp)} old, ` +
        `within retention.ms ${duration(retentionMs)} (${retentionMs})`,
    );
  const retentionBytes = config['retention.bytes'];
  if (retentionBytes < 0) reasons.push('retention.bytes is -1 (no size limit)');
  else
    reasons.push(
      `the log is ${log.size} bytes; without its oldest segment (${oldest.size} bytes) it would be ` +
        `${log.size - oldest.size}, below retention.bytes ${retentionBytes}`,
    );
  return reasons.join('; ');
}

function* textLines(r: RetentionReport): Generator<string> {
  const policy =
    `cleanup.policy ${r.config['cleanup.policy']}, ` +
    `retention.ms ${limit(r.config['retention.ms'], duration)}, ` +
    `retention.bytes ${limit(r.config['retention.bytes'], (n) => String(n))}`;
  yield `Retention pass on ${r.dir} at ${isoTime(r.now)} (${policy})`;
  if (r.deleteBefore !== null) yield `  asked to delete records before offset ${r.deleteBefore}`;
  if (r.deleted.length === 0) {
    const moved = r.logStartOffset.after > r.logStartOffset.before;
    yield `${moved ? 'no segment deleted' : 'nothing to delete'}: ${r.nothingToDelete}`;
  } else {
    yield `deleted ${plural(r.deleted.length, 'segment', 'segments')}, ${bytes(r.deletedBytes)}:`;
    const offsets = r.deleted.map((s) => `offsets ${s.baseOffset}..${s.lastOffset}`);
    const sizes = r.deleted.map((s) => `${s.size} bytes`);
    const ow = Math.max(...offsets.map((o) => o.length));
    const sw = Math.max(...sizes.map((o) => o.length));
    for (const [i, s] of r.deleted.entries())
      yield `  ${basename(s.path)}  ${offsets[i]!.padEnd(ow)}  ${sizes[i]!.padStart(sw)}  ${s.reason}: ${s.why}`;
  }
  const { before, after } = r.logStartOffset;
  yield after === before
    ? `log start offset: ${after} (unchanged)`
    : `log start offset: ${before} → ${after}`;
  const o = r.oldestSegment;
  if (o)
    yield `oldest segment now: ${basename(o.path)}, offsets ${o.baseOffset}..${o.lastOffset}, ${o.size} bytes, newest record ${o.ageMs === null ? 'none' : `${duration(o.ageMs)} old`}`;
  yield `the log now: ${shapeLine(r.log)}`;
}

function limit(n: number, show: (n: number) => string): string {
  return n < 0 ? '-1 (none)' : show(n);
}

/** ISO 8601 or ms since the epoch. */
export function parseTime(text: string): number {
  const ms = /^-?\d+$/.test(text.trim()) ? Number(text) : Date.parse(text);
  if (!Number.isSafeInteger(ms))
    throw new UsageError(
      `--now wants an ISO 8601 time (2024-05-01T12:00:00Z) or ms since the epoch, got '${text}'`,
    );
  return ms;
}

function parseOffset(text: string): number {
  const offset = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isSafeInteger(offset))
    throw new UsageError(`--delete-before wants an offset (a non-negative integer), got '${text}'`);
  return offset;
}
