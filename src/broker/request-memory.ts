/**
 * The memory side of a broker connection, apart from its request flow: the
 * pool of request bytes that every connection of a server shares
 * (`queued.max.request.bytes`), and the walk over length prefixes that
 * charges a frame to it before the frame is decoded. It stands alone because
 * it is shared state across connections with its own invariant, and because
 * it knows frames only by their length prefix, never by their requests.
 */
import { LENGTH_PREFIX_WIDTH } from '../protocol/index.js';

// #region memory
/**
 * `queued.max.request.bytes`, Kafka's MemoryPool and channel muting: the
 * bytes of request frames read and not yet handled, across every connection.
 * A frame's bytes are taken whole when its length prefix arrives (as Kafka
 * allocates a frame's buffer when it reads its size) and given back once
 * the broker is done with the request (answered, or parked: a long poll).
 * While `used` ≥ `bound`, no connection starts reading a new frame: each
 * stops at the next frame boundary (socket.pause) and waits until enough
 * is given back; one already inside a frame reads it to its end, its bytes
 * being taken already, so the pool never waits on itself.
 *
 * Invariant: `used` < bound + the largest frame (a frame is admitted only
 * while used < bound; Kafka's non-strict pool overshoots the same way).
 */
export class RequestMemory {
  used = 0;
  /** The most `used` has been (a gauge for tests and operators). */
  peak = 0;
  private readonly waiting = new Set<{ updateFlow(): void }>();

  /** `bound` ≤ 0: no bound (Kafka's -1). */
  constructor(readonly bound: number) {}

  get bounded(): boolean {
    return this.bound > 0;
  }

  get exhausted(): boolean {
    return this.bound > 0 && this.used >= this.bound;
  }

  take(bytes: number): void {
    this.used += bytes;
    if (this.used > this.peak) this.peak = this.used;
  }

  give(bytes: number): void {
    const was = this.exhausted;
    this.used -= bytes;
    if (!was || this.exhausted) return;
    const waiting = [...this.waiting];
    this.waiting.clear();
    for (const connection of waiting) connection.updateFlow();
  }

  /** `connection` stopped reading for memory: its `updateFlow` runs when memory is given back. */
  wait(connection: { updateFlow(): void }): void {
    this.waiting.add(connection);
  }

  forget(connection: { updateFlow(): void }): void {
    this.waiting.delete(connection);
  }
}

/**
 * Where frames start in a connection's byte stream, read from their length
 * prefixes as chunks arrive (the FrameDecoder still does the decoding): so
 * that a frame's bytes are taken when its length is known, and reading stops
 * at a frame boundary.
 */
export class FrameStarts {
  /** Bytes of the current frame's body still to come. */
  private remaining = 0;
  /** Bytes of the current length prefix read so far, and their value. */
  private prefix = 0;
  private length = 0;

  get atBoundary(): boolean {
    return this.remaining === 0 && this.prefix === 0;
  }

  /**
   * Walks `chunk`: before each new frame asks `admit()`, and when a frame's
   * length is complete calls `start(frameBytes)`. Returns where it stopped:
   * `chunk.length`, or the start of a frame it was refused.
   */
  walk(chunk: Buffer, admit: () => boolean, start: (frameBytes: number) => void): number {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.length - pos);
        pos += n;
        this.remaining -= n;
        continue;
      }
      if (this.prefix === 0 && !admit()) return pos;
      this.length = this.length * 256 + chunk[pos++]!;
      if (++this.prefix < LENGTH_PREFIX_WIDTH) continue;
      this.remaining = this.length;
      start(LENGTH_PREFIX_WIDTH + this.length);
      this.prefix = 0;
      this.length = 0;
    }
    return pos;
  }
}
// #endregion memory
