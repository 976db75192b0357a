/**
 * One client connection: bytes in → frames → requests → the core → responses
 * → bytes out. Never sees a log; knows only `Broker.handle`.
 *
 * - Pipelining: requests start one after another in arrival order (so a
 *   pipelined CreateTopics then Produce, or two Produces, keep their order);
 *   a fetch that long-polls lets the next request start while it waits.
 *   Responses are written strictly in request order: a finished response
 *   waits behind an earlier one still being worked on.
 * - Bad input (docs/protocol.md): a bad request that has a correlation id gets
 *   an error response and the connection stays; a frame too large, or one
 *   with no readable correlation id, closes the connection at once.
 * - Flow: past `queued.max.requests` in flight, or while the socket's write
 *   buffer is full, the connection stops reading. Across connections,
 *   `queued.max.request.bytes` bounds the bytes of requests read and not yet
 *   handled (RequestMemory, in request-memory.ts).
 * - Idle: with nothing in flight for `connections.max.idle.ms`, it closes
 *   (also a client stalled inside a frame).
 */
import type { Socket } from 'node:net';
import type { Logger } from '../log/index.js';
import {
  FrameDecoder,
  LENGTH_PREFIX_WIDTH,
  ProtocolError,
  type Request,
  type Response,
  decodeRequest,
  encodeResponseFrameChunks,
  toProtocolError,
} from '../protocol/index.js';
import type { Broker } from './broker.js';
import { FrameStarts, type RequestMemory } from './request-memory.js';

/** The server makes the pool its connections share; it imports it from here, with them. */
export { RequestMemory } from './request-memory.js';

interface Slot {
  /** The response's frame as buffers to write in order (a fetch's batches are not copied into it). */
  frame: Buffer[] | undefined;
}

export interface ConnectionOptions {
  maxFrameBytes: number;
  idleMs: number;
  maxInFlight: number;
  /** `queued.max.request.bytes`, shared by every connection of the server. */
  memory: RequestMemory;
  logger: Logger;
}

export class Connection {
  private readonly decoder: FrameDecoder;
  private readonly slots: Slot[] = [];
  /** Decoded requests not yet started, oldest first, with their frame's bytes. */
  private readonly waiting: { request: Request; slot: Slot; bytes: number }[] = [];
  private readonly starts = new FrameStarts();
  /** Bytes this connection has taken from `memory` and not given back. */
  private taken = 0;
  /** The rest of a chunk read when memory ran out (at most one chunk), read before the socket again. */
  private held: Buffer | undefined;
  private replaying = false;
  /** The client ended its side while a chunk was held: end once it is read. */
  private endHeld = false;
  /** A request has started and is neither answered nor parked: the next must wait. */
  private running = false;
  /** Inside startWaiting (a request finishing meanwhile must not start the next one reentrantly). */
  private starting = false;
  private draining = false;
  /** Corked until the end of this turn of the event loop (see onData). */
  private corked = false;
  private ended: Promise<void>;
  readonly peer: string;
  private readonly clientHost: string;

  constructor(
    private readonly socket: Socket,
    private readonly broker: Broker,
    private readonly options: ConnectionOptions,
  ) {
    this.peer = `${socket.remoteAddress}:${socket.remotePort}`;
    this.clientHost = `/${socket.remoteAddress ?? 'unknown'}`;
    this.decoder = new FrameDecoder({ maxFrameBytes: options.maxFrameBytes });
    this.ended = new Promise((resolve) =>
      socket.once('close', () => {
        this.give(this.taken); // whatever was read and never handled
        options.memory.forget(this);
        resolve();
      }),
    );
    socket.setNoDelay(true);
    socket.setTimeout(options.idleMs);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.updateFlow());
    socket.on('timeout', () => this.onIdle());
    socket.on('end', () => this.onEnd());
    socket.on('error', (err) => options.logger.debug(`connection ${this.peer}: ${err.message}`));
  }

  // #region read
  private onData(chunk: Buffer): void {
    if (this.draining || this.socket.destroyed) return;
    if (this.options.memory.bounded) {
      const stop = this.starts.walk(chunk, this.admit, this.take);
      if (stop < chunk.length) {
        // Memory ran out at a frame boundary: the rest of the chunk waits until it is given back.
        this.held = chunk.subarray(stop);
        chunk = chunk.subarray(0, stop);
      }
    }
    const { frames, error } = this.decoder.push(chunk);
    // Pipelined requests that arrived together are answered in one write when they finish
    // together (a produce burst): one system call, and one wake-up of the client, not one each.
    if (frames.length > 1 && !this.corked) {
      this.corked = true;
      this.socket.cork();
      setImmediate(this.uncork);
    }
    for (const body of frames) if (!this.accept(body)) return;
    if (error !== undefined) return this.abort(error.message);
    this.updateFlow();
  }

  private readonly admit = (): boolean => !this.options.memory.exhausted;

  private readonly take = (frameBytes: number): void => {
    // A length over the limit closes the connection: take no more than a frame may be.
    const bytes = Math.min(frameBytes, LENGTH_PREFIX_WIDTH + this.options.maxFrameBytes);
    this.taken += bytes;
    this.options.memory.take(bytes);
  };

  private give(bytes: number): void {
    const n = Math.min(bytes, this.taken);
    if (n <= 0) return;
    this.taken -= n;
    this.options.memory.give(n);
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  /** Takes one frame body; false when the connection had to close. */
  private accept(body: Buffer): boolean {
    const decoded = decodeRequest(body);
    if (!decoded.ok && decoded.fatal) {
      this.abort(decoded.error.message);
      return false;
    }
    const slot: Slot = { frame: undefined };
    this.slots.push(slot);
    const bytes = this.options.memory.bounded ? LENGTH_PREFIX_WIDTH + body.length : 0;
    if (!decoded.ok) {
      this.give(bytes);
      slot.frame = this.encode({ correlationId: decoded.correlationId, error: decoded.error });
      this.writeReady();
      return true;
    }
    this.waiting.push({ request: decoded.request, slot, bytes });
    if (!this.running && !this.starting) this.startWaiting();
    return true;
  }

  /**
   * Starts waiting requests in order while none runs. A request that is
   * answered at once (a produce) is encoded and written right here: no
   * promise, no microtask. One that waits holds the line until it is
   * answered or parks.
   */
  private startWaiting(): void {
    this.starting = true;
    try {
      while (!this.running && this.waiting.length > 0) {
        const { request, slot, bytes } = this.waiting.shift()!;
        this.running = true;
        let released = false;
        const next = (): void => {
          if (released) return;
          released = true;
          this.give(bytes); // handled: its frame may go
          this.running = false;
          if (!this.starting) this.startWaiting();
        };
        let response: Response | Promise<Response>;
        try {
          response = this.broker.respond(request, { parked: next, clientHost: this.clientHost });
        } catch (err) {
          response = { correlationId: request.correlationId, error: toProtocolError(err) };
        }
        if (response instanceof Promise) {
          void response.then((answered) => this.answer(slot, answered, next));
        } else this.answer(slot, response, next);
      }
    } finally {
      this.starting = false;
    }
  }

  private answer(slot: Slot, response: Response, next: () => void): void {
    try {
      slot.frame = this.encode(response);
      this.writeReady();
    } finally {
      next();
    }
  }
  // #endregion read

  // #region write
  private encode(response: Response): Buffer[] {
    try {
      return encodeResponseFrameChunks(response);
    } catch (err) {
      this.options.logger.error(`could not encode a response: ${(err as Error).message}`);
      const error = new ProtocolError('UNKNOWN_SERVER_ERROR', 'the response could not be encoded');
      return encodeResponseFrameChunks({ correlationId: response.correlationId, error });
    }
  }

  /** Writes every finished response at the head of the queue, in request order. */
  private writeReady(): void {
    if (this.socket.destroyed) return;
    const slots = this.slots;
    const first = slots[0]?.frame;
    if (first !== undefined) {
      if (first.length === 1 && slots[1]?.frame === undefined) {
        // The common case, one response of one buffer: a plain write, no cork.
        slots.shift();
        this.socket.write(first[0]!);
      } else {
        this.socket.cork();
        while (slots.length > 0 && slots[0]!.frame !== undefined)
          for (const chunk of slots.shift()!.frame!) this.socket.write(chunk);
        this.socket.uncork();
      }
    }
    this.updateFlow();
  }
  // #endregion write

  /** Reads or stops reading, as the in-flight count, the write buffer and the memory bound allow. */
  updateFlow(): void {
    if (this.socket.destroyed) return;
    if (this.draining && this.slots.length === 0) {
      this.socket.end();
      // Read on, discarding (onData ignores a draining connection), so the
      // client's own end is seen and the socket closes: a paused socket never
      // reads it, and the drain would wait out its timeout.
      this.socket.resume();
      return;
    }
    const memory = this.options.memory;
    const noMemory = memory.exhausted && this.starts.atBoundary;
    if (noMemory) memory.wait(this);
    const stop =
      this.draining ||
      noMemory ||
      this.slots.length >= this.options.maxInFlight ||
      this.socket.writableNeedDrain;
    if (stop || this.held !== undefined) this.socket.pause();
    else this.socket.resume();
    if (!stop && this.held !== undefined && !this.replaying) {
      this.replaying = true;
      setImmediate(this.replay);
    }
  }

  /** Reads the held rest of a chunk, once memory allows; the socket resumes after it. */
  private readonly replay = (): void => {
    this.replaying = false;
    const held = this.held;
    this.held = undefined;
    if (held !== undefined) this.onData(held);
    if (this.endHeld && this.held === undefined) this.onEnd();
  };

  private onIdle(): void {
    if (this.slots.length > 0) return; // a long poll is not idleness
    const partial =
      this.decoder.bufferedBytes > 0
        ? ` (${this.decoder.bufferedBytes} bytes of a frame stalled)`
        : '';
    this.options.logger.info(
      `closing connection ${this.peer}: idle for ${this.options.idleMs} ms${partial}`,
    );
    this.socket.destroy();
  }

  private onEnd(): void {
    this.endHeld = this.held !== undefined;
    if (this.endHeld) return;
    // The client sent its last byte; answer what is in flight, then close.
    const cut = this.decoder.end();
    if (cut !== undefined) this.options.logger.debug(`connection ${this.peer}: ${cut.message}`);
    this.drain();
  }

  private abort(why: string): void {
    this.options.logger.warn(`closing connection ${this.peer}: ${why}`);
    this.socket.destroy();
  }

  /** Stops reading, answers what is in flight, then ends the connection. */
  drain(): Promise<void> {
    this.draining = true;
    this.updateFlow();
    return this.ended;
  }

  destroy(): void {
    this.socket.destroy();
  }
}
