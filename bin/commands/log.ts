/**
 * `samsa log <subcommand>`: one pass of log maintenance on a log directory,
 * the work a broker's log manager does on a timer, run by hand: `compact`
 * (the cleaner) and `retention` (deleting old segments). Each opens the log
 * for writing, so the log must not be open in another process.
 */
import type { Command } from 'commander';
import type { CommandModule } from '../command.js';
import { logCompact } from './log-compact.js';
import { logRetention } from './log-retention.js';

const SUBCOMMANDS: readonly CommandModule[] = [logCompact, logRetention];

export const log: CommandModule = {
  register(program: Command): void {
    const parent = program
      .command('log')
      .description('run one compaction or retention pass on a log directory')
      .addHelpText(
        'after',
        '\nExamples:' +
          '\n  samsa log compact ./samsa-data/page-views-0 --force' +
          '\n  samsa log retention ./samsa-data/page-views-0 --config retention.bytes=16384' +
          '\n  samsa log retention ./samsa-data/page-views-0 --delete-before 500 --json',
      );
    for (const sub of SUBCOMMANDS) sub.register(parent);
  },
};
