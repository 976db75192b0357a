/**
 * What `samsa log compact` and `samsa log retention` share: reading
 * `--config key=value` options into a checked log config, and running one
 * pass over a log directory opened for it (the log's own plain-words lines on
 * stderr, a spinner there while a long pass runs on a terminal, the log
 * closed whatever happens).
 *
 * Exit statuses: a bad option, an unknown or out-of-range config value, or a
 * path that is not a log directory is a UsageError (2), found before the log
 * is opened, so nothing is created or changed; anything failing once the log
 * is open is a FailedError (1), its LogError code in the message.
 */
import {
  DEFAULT_LOG_CONFIG,
  InvalidConfigError,
  Log,
  type LogConfig,
  LogError,
  consoleLogger,
  resolveLogConfig,
} from '../../src/log/index.js';
import { FailedError, UsageError } from '../command.js';
import { requireLogDir } from '../log-dir.js';
import { startProgress } from '../progress.js';
import { bytes, plural } from '../text.js';

/** commander's collector for a repeatable `--config key=value`. */
export function collectConfig(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * The `--config` pairs over `defaults`, each value a number where the key's
 * value is one, checked with the log's own rules. Throws UsageError naming
 * the bad pair or key.
 */
export function parseConfigPairs(
  pairs: readonly string[],
  defaults: Partial<LogConfig> = {},
): { overrides: Partial<LogConfig>; config: LogConfig } {
  const overrides: Record<string, string | number> = { ...defaults };
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const key = pair.slice(0, eq).trim();
    if (eq < 0 || key === '')
      throw new UsageError(
        `--config wants key=value (for example retention.ms=60000), got '${pair}'`,
      );
    const value = pair.slice(eq + 1).trim();
    const numeric = typeof DEFAULT_LOG_CONFIG[key as keyof LogConfig] === 'number';
    overrides[key] =
      numeric && value !== '' && !Number.isNaN(Number(value)) ? Number(value) : value;
  }
  try {
    return {
      overrides: overrides as Partial<LogConfig>,
      config: resolveLogConfig(overrides as Partial<LogConfig>),
    };
  } catch (err) {
    if (!(err instanceof InvalidConfigError)) throw err;
    const known = err.message.startsWith('unknown')
      ? `; known keys: ${Object.keys(DEFAULT_LOG_CONFIG).join(', ')}`
      : '';
    throw new UsageError(`${err.message} (${err.code})${known}`);
  }
}

/** What the log looks like after a pass, for the reports. */
export interface LogShape {
  logStartOffset: number;
  logEndOffset: number;
  segments: number;
  size: number;
}

export function shapeOf(log: Log): LogShape {
  const { logStartOffset, logEndOffset, size } = log;
  return { logStartOffset, logEndOffset, segments: log.segments.length, size };
}

export function shapeLine(shape: LogShape): string {
  return (
    `offsets [${shape.logStartOffset}, ${shape.logEndOffset}) in ` +
    `${plural(shape.segments, 'segment', 'segments')}, ${bytes(shape.size)}`
  );
}

/**
 * Opens the log directory `dir` (which must already hold segments) with
 * `overrides`, runs `pass` on it with a spinner labelled `label`, and closes
 * it. Failures after the checks are FailedErrors naming `command`.
 */
export async function withLog<T>(
  command: string,
  dir: string,
  overrides: Partial<LogConfig>,
  label: string,
  pass: (log: Log) => Promise<T>,
): Promise<T> {
  requireLogDir(dir);
  const progress = startProgress(label);
  let log: Log | undefined;
  let result: T;
  try {
    log = await Log.open(dir, overrides, { logger: progress.logger(consoleLogger('info')) });
    result = await pass(log);
  } catch (err) {
    progress.stop();
    // The pass's own failure matters more than a failed close after it.
    await log?.close().catch(() => {});
    throw err instanceof UsageError ? err : failed(command, err);
  }
  progress.stop();
  try {
    await log.close();
  } catch (err) {
    throw failed(command, err);
  }
  return result;
}

function failed(command: string, err: unknown): FailedError {
  const message = err instanceof Error ? err.message : String(err);
  const code = err instanceof LogError ? ` (${err.code})` : '';
  return new FailedError(`${command} failed: ${message}${code}`, { cause: err });
}
