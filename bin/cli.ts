/**
 * The `samsa` command line: one commander program, and a table of commands
 * (bin/commands/index.ts) that each add themselves to it. A new command is a
 * new module and one line in the table.
 * Exit statuses: see command.ts.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { ExitCode, FailedError, UsageError } from './command.js';
import { COMMANDS } from './commands/index.js';

export function createProgram(): Command {
  const program = new Command('samsa')
    .description('samsa: a small Kafka-like log broker')
    .version(packageVersion(), '-V, --version', 'print the version and exit')
    .helpOption('-h, --help', 'show help')
    .exitOverride()
    .showHelpAfterError('(run with --help to see the usage)');
  for (const command of COMMANDS) command.register(program);
  return program;
}

/** Parses argv and runs the command; resolves to the exit status instead of exiting. */
export async function run(argv: readonly string[]): Promise<number> {
  try {
    await createProgram().parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
  } catch (err) {
    // commander has already printed its message (or the help / version).
    if (err instanceof CommanderError) return err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    if (err instanceof UsageError) {
      process.stderr.write(`samsa: ${err.message}\n`);
      return ExitCode.usage;
    }
    if (err instanceof FailedError) {
      process.stderr.write(`samsa: ${err.message}\n`);
      if (process.env['SAMSA_DEBUG'] && err.cause instanceof Error)
        process.stderr.write(`${err.cause.stack}\n`);
      return ExitCode.failed;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`samsa: ${message}\n`);
    if (process.env['SAMSA_DEBUG'] && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    return ExitCode.usage;
  }
}

/** The version in the package.json above this file: dist/bin/ when built, bin/ from source. */
function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 4; up++, dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'samsa' && pkg.version) return pkg.version;
    } catch {
      // not here: look one directory up
    }
  }
  return 'unknown';
}
