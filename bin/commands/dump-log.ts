/**
 * `samsa dump-log <dir-or-file>`: what is in a log directory or one segment,
 * batch by batch, like Kafka's kafka-dump-log. Read-only: it never opens a
 * Log, so it never repairs anything, and it is safe on a log a broker is
 * using. Exit status 0 when clean, 1 when it found damage (each place printed
 * on stderr as file and byte position), 2 when the path is not usable.
 */
import { statSync } from 'node:fs';
import type { Command } from 'commander';
import {
  type LogReport,
  type SegmentReport,
  inspectLog,
  inspectSegment,
} from '../../src/log/index.js';
import { type CommandModule, ExitCode, UsageError } from '../command.js';
import { requireLogDir, statPath } from '../log-dir.js';
import { jsonLines, textLines } from './dump-log-format.js';
import { isOffsetsTopicDir } from './dump-log-offsets.js';

export interface DumpLogOptions {
  records?: boolean;
  index?: boolean;
  json?: boolean;
  offsetsDecoder?: boolean;
}

export const dumpLog: CommandModule = {
  register(program: Command): void {
    program
      .command('dump-log')
      .description('show the batches, records and indexes of a log directory or segment file')
      .argument('<dir-or-file>', 'a log directory, or one .log, .index or .timeindex file')
      .option('--records', 'show the records in each batch')
      .option('--index', 'show the index and time index entries, and whether each agrees')
      .option('--json', 'print one JSON object per line instead of text')
      .option(
        '--offsets-decoder',
        'show records as __consumer_offsets commits and groups (implies --records; on by default for a __consumer_offsets-N directory)',
      )
      .addHelpText(
        'after',
        '\nReads the files only: it never repairs anything, so it is safe on a live or damaged log.' +
          '\nExit status: 0 clean, 1 damage found (listed on stderr), 2 usage error or unusable path.',
      )
      .action((path: string, options: DumpLogOptions) => {
        process.exitCode = runDumpLog(path, options);
      });
  },
};

/** Runs the command, writing to stdout and stderr; returns the exit status. */
export function runDumpLog(path: string, options: DumpLogOptions): number {
  const target = resolveTarget(path);
  const offsetsDecoder =
    options.offsetsDecoder ?? (target.kind === 'dir' && isOffsetsTopicDir(path));
  options = { ...options, offsetsDecoder, records: (options.records ?? false) || offsetsDecoder };
  const inspectOptions = { records: options.records ?? false };
  const report =
    target.kind === 'dir'
      ? inspectLog(path, inspectOptions)
      : singleSegment(inspectSegment(target.file, inspectOptions));
  const lines = options.json ? jsonLines(report, options) : textLines(report, options);
  for (const line of lines) process.stdout.write(line + '\n');
  if (report.problems.length === 0) return ExitCode.ok;
  const count = report.problems.length;
  process.stderr.write(
    `samsa dump-log: found ${count} problem${count === 1 ? '' : 's'} in ${path}:\n` +
      report.problems.map((p) => `  ${p}\n`).join(''),
  );
  return ExitCode.problemsFound;
}

type Target = { kind: 'dir' } | { kind: 'file'; file: string };

function resolveTarget(path: string): Target {
  if (statPath(path).isDirectory()) {
    requireLogDir(path);
    return { kind: 'dir' };
  }
  if (path.endsWith('.log')) return { kind: 'file', file: path };
  const index = /\.(index|timeindex)$/.exec(path);
  if (index) {
    const file = path.slice(0, index.index) + '.log';
    try {
      statSync(file);
    } catch {
      throw new UsageError(`${path} has no ${file} beside it to check its entries against`);
    }
    return { kind: 'file', file };
  }
  throw new UsageError(`${path} is not a log directory or a .log, .index or .timeindex file`);
}

/** A single segment as a log report, so both print the same way. */
function singleSegment(segment: SegmentReport): LogReport & { single: true } {
  return {
    single: true,
    dir: segment.path,
    checkpoint: { exists: false },
    logStartOffset: segment.firstOffset ?? segment.baseOffset,
    cleanerCheckpoint: 0,
    logEndOffset: (segment.lastOffset ?? segment.baseOffset - 1) + 1,
    segments: [segment],
    problems: segment.problems.map((p) => `${segment.path}: ${p}`),
    notes: segment.notes,
    tombstones: segment.tombstones,
    emptyBatches: segment.emptyBatches,
    offsetGaps: segment.offsetGaps,
    temporaryFiles: [],
  };
}
