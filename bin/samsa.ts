#!/usr/bin/env node
/** The `samsa` executable: runs the command line and exits with its status. */
import { run } from './cli.js';

// `samsa dump-log ... | head` closes the pipe early: that is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

process.exitCode = await run(process.argv.slice(2));
