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
