/**
 * A connection's requests between `request()` and their answer, and the one
 * timer that times them out (connection.ts).
 */
import type { ApiName } from '../protocol/index.js';

export interface InFlight {
  /** Given when the frame is encoded, so ids rise in the order frames are written; -1 before. */
  correlationId: number;
  api: ApiName;
  body: unknown;
  /** The version to send at: -1 until the handshake has said (ApiVersions itself knows it). */
  version: number;
  /** The frame as buffers written in order (record batches are not copied into it), once encoded. */
  frame: Buffer[] | undefined;
  /** On the socket: a response is due (written requests lead the queue). */
  written: boolean;
  timeoutMs: number;
  /** When it times out (ms since the epoch). */
  deadline: number;
  /** Resolved once written (acks=0): the response is only matched, then dropped. */
  noResponse: boolean;
  /** The promise is settled. */
  done: boolean;
  resolve(body: unknown): void;
  reject(error: Error): void;
}

export function inFlight(
  api: ApiName,
  body: unknown,
  version: number,
  timeoutMs: number,
  noResponse: boolean,
  resolve: (body: unknown) => void,
  reject: (error: Error) => void,
): InFlight {
  const deadline = Date.now() + timeoutMs;
  return {
    correlationId: -1,
    api,
    body,
    version,
    frame: undefined,
    written: false,
    timeoutMs,
    deadline,
    noResponse,
    done: false,
    resolve,
    reject,
  };
}

/** One timer for every request's timeout (not one per request), due at `at` or earlier. */
export class DeadlineTimer {
  private timer: NodeJS.Timeout | undefined;
  private at = Infinity;

  constructor(private readonly due: () => void) {}

  /** Fires at `at` (ms since the epoch) unless it fires earlier already. */
  arm(at: number): void {
    if (at >= this.at) return;
    clearTimeout(this.timer);
    this.at = at;
    this.timer = setTimeout(this.fire, Math.max(0, at - Date.now()));
    this.timer.unref(); // an open socket or a reconnect timer keeps the process alive, not this
  }

  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.at = Infinity;
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.at = Infinity;
    this.due();
  };
}
