/**
 * Checks that a path names an existing log directory before a command reads
 * or opens it: `Log.open` would create a missing directory, which is right for
 * a program and wrong for a command given a mistyped path.
 */
import { type Stats, readdirSync, statSync } from 'node:fs';
import { UsageError } from './command.js';

const SEGMENT_LOG_NAME = /^\d{20}\.log$/;

/** The path's stat, or a UsageError saying in plain words why it cannot be used. */
export function statPath(path: string): Stats {
  try {
    return statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`${path} does not exist`);
    if (code === 'EACCES') throw new UsageError(`${path} cannot be read (permission denied)`);
    throw err;
  }
}

/** Throws a UsageError unless `path` is a directory holding at least one segment file. */
export function requireLogDir(path: string): void {
  if (!statPath(path).isDirectory())
    throw new UsageError(`${path} is not a directory: give a log directory`);
  if (!readdirSync(path).some((name) => SEGMENT_LOG_NAME.test(name))) {
    throw new UsageError(
      `${path} holds no segment files: a log directory has files like 00000000000000000000.log`,
    );
  }
}
