/**
 * A spinner with the elapsed seconds on stderr while a long pass runs, so a
 * person at a terminal sees it is alive. Only when stderr is a TTY, and only
 * after half a second (a fast pass shows nothing); never in pipes or tests.
 * Log lines written meanwhile go through `logger`, which clears the spinner
 * line first so the two never mix.
 */
import type { Logger } from '../src/log/index.js';

const FRAMES = ['|', '/', '-', '\\'];
const DELAY_MS = 500;
const TICK_MS = 150;

export interface Progress {
  /** Wraps a logger so its lines do not land on the spinner's line. */
  logger(inner: Logger): Logger;
  stop(): void;
}

export function startProgress(
  label: string,
  stream: NodeJS.WriteStream = process.stderr,
): Progress {
  if (!stream.isTTY) return { logger: (inner) => inner, stop: () => {} };
  const started = Date.now();
  let frame = 0;
  let shown = false;
  const clear = (): void => {
    if (shown) stream.write('\r\x1b[K');
    shown = false;
  };
  const timer = setInterval(() => {
    const elapsed = Date.now() - started;
    if (elapsed < DELAY_MS) return;
    stream.write(
      `\r\x1b[K${FRAMES[frame++ % FRAMES.length]} ${label} ${(elapsed / 1000).toFixed(1)} s`,
    );
    shown = true;
  }, TICK_MS);
  timer.unref();
  const wrap = (write: (message: string) => void) => (message: string) => {
    clear();
    write(message);
  };
  return {
    logger: (inner) => ({
      debug: wrap((m) => inner.debug(m)),
      info: wrap((m) => inner.info(m)),
      warn: wrap((m) => inner.warn(m)),
      error: wrap((m) => inner.error(m)),
    }),
    stop: () => {
      clearInterval(timer);
      clear();
    },
  };
}
