/**
 * Kafka's reconnect backoff for one broker connection: `reconnect.backoff.ms`,
 * doubling per failure up to `reconnect.backoff.max.ms`, ±20% jitter. It stands
 * alone because it is policy, not I/O: it never sees a socket, only failures,
 * successes and the clock, so the connection's socket code stays about sockets.
 *
 * Invariant: `retryAt` is the earliest time (ms since the epoch) a new socket
 * may be opened; 0 before any failure.
 */
const JITTER = 0.2;

export class ReconnectBackoff {
  private readonly backoffMs: number;
  private readonly backoffMaxMs: number;
  private failures = 0;
  private retryAt = 0;

  constructor(options: { reconnectBackoffMs?: number; reconnectBackoffMaxMs?: number }) {
    this.backoffMs = options.reconnectBackoffMs ?? 50;
    this.backoffMaxMs = Math.max(options.reconnectBackoffMaxMs ?? 1000, this.backoffMs);
  }

  /** How long from now until a new socket may be opened (≤ 0: at once). */
  delay(): number {
    return this.retryAt - Date.now();
  }

  /** A socket failed: the next one waits, twice as long as after the failure before. */
  failed(): void {
    this.failures += 1;
    const backoff = Math.min(this.backoffMs * 2 ** (this.failures - 1), this.backoffMaxMs);
    this.retryAt = Date.now() + backoff * (1 - JITTER + 2 * JITTER * Math.random());
  }

  /** The broker answered a request: the backoff starts over. */
  succeeded(): void {
    this.failures = 0;
  }
}
