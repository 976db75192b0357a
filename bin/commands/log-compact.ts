/**
 * `samsa log compact <dir>`: one cleaner pass over a log directory (see
 * src/log/cleaner/): the latest record of each key stays at its offset, older
 * ones go, tombstones go once delete.retention.ms has passed. Says what was
 * read, kept and removed, or why the cleaner skipped the log.
 */
import type { Command } from 'commander';
import type { CleanerStats } from '../../src/log/index.js';
import type { Log, LogConfig } from '../../src/log/index.js';
import type { CommandModule } from '../command.js';
import { change, duration } from '../text.js';
import {
  type LogShape,
  collectConfig,
  parseConfigPairs,
  shapeLine,
  shapeOf,
  withLog,
} from './log-pass.js';

export interface LogCompactOptions {
  config?: string[];
  force?: boolean;
  json?: boolean;
}

export const logCompact: CommandModule = {
  register(parent: Command): void {
    parent
      .command('compact')
      .description('run one compaction pass: keep the latest record of each key')
      .argument('<dir>', 'a log directory')
      .option(
        '--config <key=value>',
        'a log config value (Kafka key names; repeat for more), e.g. delete.retention.ms=0',
        collectConfig,
      )
      .option('--force', 'clean even when the dirty ratio is below min.cleanable.dirty.ratio')
      .option('--json', 'print one JSON object instead of text')
      .addHelpText(
        'after',
        '\ncleanup.policy is compact unless --config says otherwise; other keys get Kafka defaults' +
          '\n(min.cleanable.dirty.ratio 0.5, delete.retention.ms 1 day, min.compaction.lag.ms 0).' +
          '\nThe active segment is never cleaned. The log must not be open in another process.' +
          '\nExit status: 0 done (also when the cleaner skipped the log), 1 the log refused or' +
          '\nfailed, 2 usage error or not a log directory.',
      )
      .action(async (dir: string, options: LogCompactOptions) => {
        process.exitCode = await runLogCompact(dir, options);
      });
  },
};

export interface CompactReport extends CleanerStats {
  command: 'log compact';
  dir: string;
  force: boolean;
  skipped: string | undefined;
  config: Pick<
    LogConfig,
    | 'cleanup.policy'
    | 'min.cleanable.dirty.ratio'
    | 'delete.retention.ms'
    | 'min.compaction.lag.ms'
    | 'segment.bytes'
  >;
  cleanerCheckpoint: { before: number; after: number };
  /** The whole log's size before and after the pass (bytesRead/Written count cleaned groups only). */
  logBytes: { before: number; after: number };
  log: LogShape;
}

/** Runs the command, writing to stdout; returns the exit status (throws Usage/FailedError). */
export async function runLogCompact(dir: string, options: LogCompactOptions): Promise<number> {
  const { overrides, config } = parseConfigPairs(options.config ?? [], {
    'cleanup.policy': 'compact',
  });
  const force = options.force ?? false;
  const report = await withLog('log compact', dir, overrides, 'compacting', async (log: Log) => {
    const before = log.cleanerCheckpoint;
    const sizeBefore = log.size;
    const stats = await log.compact({ force });
    const result: CompactReport = {
      command: 'log compact',
      dir,
      force,
      ...stats,
      skipped: stats.skipped,
      config: {
        'cleanup.policy': config['cleanup.policy'],
        'min.cleanable.dirty.ratio': config['min.cleanable.dirty.ratio'],
        'delete.retention.ms': config['delete.retention.ms'],
        'min.compaction.lag.ms': config['min.compaction.lag.ms'],
        'segment.bytes': config['segment.bytes'],
      },
      cleanerCheckpoint: { before, after: log.cleanerCheckpoint },
      logBytes: { before: sizeBefore, after: log.size },
      log: shapeOf(log),
    };
    return result;
  });
  if (options.json) {
    // `skipped` as null rather than absent, so every field is always there.
    process.stdout.write(JSON.stringify({ ...report, skipped: report.skipped ?? null }) + '\n');
  } else {
    for (const line of textLines(report)) process.stdout.write(line + '\n');
  }
  return 0;
}

function* textLines(r: CompactReport): Generator<string> {
  const c = r.config;
  const settings =
    `cleanup.policy ${c['cleanup.policy']}, min.cleanable.dirty.ratio ${c['min.cleanable.dirty.ratio']}, ` +
    `delete.retention.ms ${duration(c['delete.retention.ms'])}, min.compaction.lag.ms ${duration(c['min.compaction.lag.ms'])}`;
  if (r.skipped !== undefined) {
    yield `Nothing compacted in ${r.dir}: ${r.skipped}`;
    yield `  settings: ${settings}${r.force ? ', --force' : ''}`;
    if (!r.force && r.skipped.includes('min.cleanable.dirty.ratio'))
      yield '  (--force cleans even below min.cleanable.dirty.ratio)';
  } else {
    const removed = r.recordsRead - r.recordsKept;
    yield `Compacted ${r.dir}: offsets ${r.start}..${r.end - 1} cleaned in ${duration(r.durationMs)}`;
    yield `  records:    ${r.recordsRead} read, ${r.recordsKept} kept, ${removed} removed`;
    yield `  tombstones: ${r.tombstonesRemoved} removed`;
    const { before, after } = r.logBytes;
    yield `  bytes:      ${before} → ${after} in the log (${change(before, after)}); ${r.bytesRead} read, ${r.bytesWritten} written`;
    yield r.segmentsWritten > 0
      ? `  segments:   ${r.segmentsRead} read → ${r.segmentsWritten} written`
      : `  segments:   ${r.segmentsRead} read, none rewritten (nothing in them to remove)`;
    yield `  settings:   ${settings}${r.force ? ', --force' : ''}`;
  }
  const { before, after } = r.cleanerCheckpoint;
  yield after === before
    ? `cleaner checkpoint: ${after} (unchanged)`
    : `cleaner checkpoint: ${before} → ${after}`;
  yield `the log now: ${shapeLine(r.log)}`;
}
