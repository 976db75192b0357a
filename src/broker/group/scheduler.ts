/**
 * Time and timers for the group coordinator: session timeouts, rebalance
 * timeouts, the initial rebalance delay and the offsets expiry schedule all
 * go through one small interface, so tests drive them by hand and never
 * sleep.
 *
 * `realScheduler` uses `setTimeout` (unref'd: a pending session timer never
 * keeps the process alive). `ManualScheduler` keeps its own clock: time moves
 * only when a test calls `advance(ms)`, which runs every timer that falls due,
 * in due order (ties in the order they were scheduled), with `now()` set to
 * each timer's due time while it runs.
 */
import { type Clock, systemClock } from '../../log/index.js';

export interface Scheduler {
  /** ms since the epoch. */
  now(): number;
  /** Runs `fn` once, `delayMs` from now; returns the cancel (idempotent). */
  schedule(delayMs: number, fn: () => void): () => void;
}

// setTimeout fires at once for delays past 2^31 - 1 ms (about 24.8 days).
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export function realScheduler(clock: Clock = systemClock): Scheduler {
  return {
    now: clock,
    schedule(delayMs, fn) {
      const timer = setTimeout(fn, Math.min(Math.max(0, delayMs), MAX_TIMEOUT_MS));
      timer.unref();
      return () => clearTimeout(timer);
    },
  };
}

interface ManualTimer {
  due: number;
  seq: number;
  fn: () => void;
}

export class ManualScheduler implements Scheduler {
  private time: number;
  private seq = 0;
  private timers: ManualTimer[] = [];

  constructor(start = 1_700_000_000_000) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  schedule(delayMs: number, fn: () => void): () => void {
    const timer: ManualTimer = { due: this.time + Math.max(0, delayMs), seq: this.seq++, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** Timers scheduled and not yet run or cancelled. */
  get pending(): number {
    return this.timers.length;
  }

  /** Moves time forward by `ms`, running every timer that falls due on the way. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new TypeError(`advance needs a duration ≥ 0, not ${ms}`);
    const target = this.time + ms;
    for (;;) {
      const next = this.nextDue(target);
      if (next === undefined) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.time = next.due;
      next.fn();
    }
    this.time = target;
  }

  private nextDue(target: number): ManualTimer | undefined {
    let best: ManualTimer | undefined;
    for (const t of this.timers)
      if (
        t.due <= target &&
        (best === undefined || t.due < best.due || (t.due === best.due && t.seq < best.seq))
      )
        best = t;
    return best;
  }
}
