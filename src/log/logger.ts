/**
 * Where the log (and later the broker) says what it does, in plain words:
 * "rolled segment 00000000000000004096", "recovery cut 37 bytes of a torn batch".
 * The default says nothing; the broker passes one that prints.
 */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

const nothing = (): void => {};
export const silentLogger: Logger = {
  debug: nothing,
  info: nothing,
  warn: nothing,
  error: nothing,
};

/** Time in ms since the epoch; injectable so retention and rolling are tested without sleeping. */
export type Clock = () => number;
export const systemClock: Clock = () => Date.now();

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** A logger that prints plain lines to stderr, with a time and level, from `level` up. */
export function consoleLogger(level: LogLevel = 'info', prefix = ''): Logger {
  const at = (l: LogLevel) => (message: string) => {
    if (LEVELS[l] < LEVELS[level]) return;
    const time = new Date().toISOString().slice(11, 23);
    process.stderr.write(`${time} ${l.toUpperCase().padEnd(5)} ${prefix}${message}\n`);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
