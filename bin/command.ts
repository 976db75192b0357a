/**
 * What every `samsa` command shares: the shape of a command module and the
 * exit statuses. Kept free of imports so command modules and the program can
 * both import it without a cycle.
 *
 * Exit status, for every command: 0 success, 1 the command ran and found
 * something wrong (dump-log: corruption) or could not finish (log compact,
 * log retention: the log refused or the disk failed), 2 usage errors and
 * unusable paths.
 */
import type { Command } from 'commander';

/** What a command module exports: it adds its command (and options) to the program. */
export interface CommandModule {
  register(program: Command): void;
}

export const ExitCode = { ok: 0, problemsFound: 1, failed: 1, usage: 2 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A problem the user can fix (a missing path, a wrong kind of file): printed without a stack. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The command ran but could not finish (the log refused, the disk failed): printed without a stack, exit 1. */
export class FailedError extends Error {
  override name = 'FailedError';
}
