/**
 * One TCP connection to one broker, pipelined: requests are written as they
 * come, many in flight, and the broker answers them in order. The in-flight
 * requests form a queue; each response must carry the correlation id of the
 * queue's head. Anything else (another id, a frame that does not decode, a
 * response nobody asked for) means the stream is out of step: the connection
 * closes and every request in flight fails with NETWORK_EXCEPTION.
 *
 * Invariant: `queue` holds exactly the requests written to (or waiting for)
 * the current socket, oldest first, the written ones before the others. A
 * written request that times out closes the connection (as Kafka's
 * NetworkClient does): a later response cannot be matched past a missing one.
 *
 * Handshake (api-versions.ts): on each new socket ApiVersions goes first;
 * the requests made meanwhile wait behind it, unwritten, and are written at
 * the versions negotiated when its answer arrives, one round trip once per
 * connection. A request for an API the broker does not speak fails alone.
 *
 * The socket is opened on the first request and again after a failure, but
 * not before the reconnect backoff (`reconnect.backoff.ms`, doubling per
 * failure up to `reconnect.backoff.max.ms`, ±20% jitter) has passed; requests
 * made meanwhile wait for it (reconnect-backoff.ts). Parsers never see the
 * socket: bytes go through `FrameDecoder` and `matchResponse` (response-match.ts).
 * Not shared between threads (there are none).
 */
import { Socket, connect } from 'node:net';
import {
  type ApiName,
  FrameDecoder,
  ProtocolError,
  type RequestBody,
  type ResponseBody,
  encodeRequestFrameChunks,
  type Request,
} from '../protocol/index.js';
import { type BrokerAddress, formatAddress } from './address.js';
import {
  type BrokerApiVersions,
  HANDSHAKE_VERSION,
  negotiatedVersion,
  readHandshake,
  unsupportedApi,
} from './api-versions.js';
import { ClientError, ClientErrorCode, networkError } from './errors.js';
import { DeadlineTimer, type InFlight, inFlight } from './in-flight.js';
import { NestedCork } from './nested-cork.js';
import { ReconnectBackoff } from './reconnect-backoff.js';
import { matchResponse, settle } from './response-match.js';

export interface ConnectionOptions {
  clientId?: string;
  /** `request.timeout.ms`: how long a request may wait for its response. Default 30000. */
  requestTimeoutMs?: number;
  /** `reconnect.backoff.ms`: the first wait before reconnecting. Default 50. */
  reconnectBackoffMs?: number;
  /** `reconnect.backoff.max.ms`: the longest wait before reconnecting. Default 1000. */
  reconnectBackoffMaxMs?: number;
  /** `socket.connection.setup.timeout.ms`. Default 10000. */
  connectTimeoutMs?: number;
}

export interface RequestOptions {
  /** Overrides `request.timeout.ms` (a long-polling fetch adds its wait). */
  timeoutMs?: number;
  /** Resolve (with `undefined`) once written; the response is read and dropped (Produce acks=0). */
  noResponse?: boolean;
}

/** The handshake's body: the very object tells the handshake from a caller's own ApiVersions. */
const HANDSHAKE_BODY = Object.freeze({});

export class Connection {
  readonly address: string;
  private readonly clientId: string | undefined;
  private readonly requestTimeoutMs: number;
  private readonly backoff: ReconnectBackoff;
  private readonly connectTimeoutMs: number;
  private socket: Socket | undefined;
  /** The broker's API versions on the current socket; undefined until its handshake is done. */
  private versions: BrokerApiVersions | undefined;
  private decoder = new FrameDecoder();
  private queue: InFlight[] = [];
  private nextCorrelationId = 0;
  private connectTimer: NodeJS.Timeout | undefined;
  private readonly timeouts = new DeadlineTimer(() => this.checkTimeouts());
  private closed = false;
  private readonly corks = new NestedCork();

  constructor(
    readonly broker: BrokerAddress,
    options: ConnectionOptions = {},
  ) {
    this.address = formatAddress(broker);
    this.clientId = options.clientId;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.backoff = new ReconnectBackoff(options);
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  }

  /**
   * Requests sent (or waiting to be) that their callers still wait on. A
   * `noResponse` request (Produce with acks=0) stops counting once written,
   * as in Kafka, though its answer is still read off the socket when it
   * comes: a producer limited by in-flight requests must not wait on answers
   * it never asked for (it would never be woken).
   */
  get inFlight(): number {
    let waiting = 0;
    for (const entry of this.queue) if (!entry.done) waiting++;
    return waiting;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** What the broker said it speaks on the current socket (undefined before its handshake). */
  get apiVersions(): BrokerApiVersions | undefined {
    return this.versions;
  }

  // #region request
  /** Sends one request; resolves to its response body, rejects with the broker's or the network's ProtocolError. */
  request<A extends ApiName>(
    api: A,
    body: RequestBody<A>,
    options?: RequestOptions & { noResponse?: false },
  ): Promise<ResponseBody<A>>;
  request<A extends ApiName>(
    api: A,
    body: RequestBody<A>,
    options: RequestOptions,
  ): Promise<ResponseBody<A> | undefined>;
  request<A extends ApiName>(
    api: A,
    body: RequestBody<A>,
    options: RequestOptions = {},
  ): Promise<ResponseBody<A> | undefined> {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(
          new ClientError(ClientErrorCode.CLOSED, `the connection to ${this.address} is closed`),
        );
        return;
      }
      const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs;
      const noResponse = options.noResponse === true;
      const entry = inFlight(api, body, -1, timeoutMs, noResponse, resolve as never, reject);
      const socket = this.socket;
      // Ready: the frame is encoded now, so a body that cannot be encoded throws to the caller.
      if (socket !== undefined && this.versions !== undefined && !this.prepare(entry)) return;
      this.queue.push(entry);
      this.timeouts.arm(entry.deadline);
      if (socket === undefined) this.scheduleConnect();
      else if (this.versions !== undefined) this.write(socket, entry);
      // else: written when the handshake is done
    });
  }

  /**
   * Picks the entry's version and correlation id (ids rise in the order
   * frames are written) and encodes its frame; false (and the entry
   * rejected) when it cannot be sent.
   */
  private prepare(entry: InFlight): boolean {
    if (entry.version < 0) {
      entry.version = negotiatedVersion(entry.api, this.versions!);
      if (entry.version < 0) {
        entry.done = true;
        entry.reject(unsupportedApi(entry.api, this.versions!, this.address));
        return false;
      }
    }
    const correlationId = this.nextCorrelationId;
    this.nextCorrelationId = (correlationId + 1) & 0x7fffffff;
    entry.correlationId = correlationId;
    const { api, version, body } = entry;
    try {
      const request = { api, version, correlationId, clientId: this.clientId, body } as Request;
      entry.frame = encodeRequestFrameChunks(request);
      return true;
    } catch (error) {
      entry.done = true;
      entry.reject(error as Error);
      return false;
    }
  }
  // #endregion request

  // #region handshake
  /** Puts ApiVersions at the head of the queue and writes it: nothing else is written until it is answered. */
  private handshake(socket: Socket, version: number, retried = false): void {
    const entry = inFlight(
      'ApiVersions',
      HANDSHAKE_BODY,
      version,
      this.requestTimeoutMs,
      false,
      (body) => this.handshaken(socket, version, retried, { body: body as never }),
      (error) => this.handshaken(socket, version, retried, { error }),
    );
    this.prepare(entry);
    this.queue.unshift(entry);
    this.timeouts.arm(entry.deadline);
    this.write(socket, entry);
  }

  private handshaken(
    socket: Socket,
    sent: number,
    retried: boolean,
    answer: Parameters<typeof readHandshake>[0],
  ): void {
    if (this.socket !== socket) return; // the socket is gone: its close failed the queue
    const outcome = readHandshake(answer, sent, retried, this.address);
    if (outcome.kind === 'retry') return this.handshake(socket, outcome.version, true);
    if (outcome.kind === 'failed') return this.drop(socket, outcome.error);
    this.versions = outcome.versions;
    // Every request still queued waited behind the handshake: write them, in order, at their versions.
    const waiting = this.queue;
    this.queue = [];
    socket.cork();
    for (const entry of waiting) {
      if (entry.done || !this.prepare(entry)) continue;
      this.queue.push(entry);
      this.write(socket, entry);
    }
    socket.uncork();
  }
  // #endregion handshake

  /** Fails what is in flight and closes the socket; later requests are refused. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.connectTimer);
    this.timeouts.clear();
    const socket = this.socket;
    this.failAll(
      new ClientError(ClientErrorCode.CLOSED, `the connection to ${this.address} was closed`),
    );
    this.socket = undefined;
    if (socket === undefined || socket.destroyed) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.destroy();
    });
  }

  // #region socket
  private scheduleConnect(): void {
    if (this.socket !== undefined || this.connectTimer !== undefined) return;
    const delay = this.backoff.delay();
    if (delay <= 0) this.open();
    else {
      this.connectTimer = setTimeout(() => {
        this.connectTimer = undefined;
        if (!this.closed && this.queue.length > 0) this.open();
      }, delay);
    }
  }

  private open(): void {
    const socket = connect({ host: this.broker.host, port: this.broker.port });
    this.socket = socket;
    this.decoder = new FrameDecoder();
    socket.setNoDelay(true);
    let connected = false;
    let failure: Error | undefined;
    const setup = setTimeout(
      () => socket.destroy(new Error(`no connection within ${this.connectTimeoutMs} ms`)),
      this.connectTimeoutMs,
    );
    socket.once('connect', () => {
      connected = true;
      clearTimeout(setup);
    });
    socket.on('data', (chunk: Buffer) => this.received(socket, chunk));
    socket.on('error', (error) => (failure = error));
    socket.once('close', () => {
      clearTimeout(setup);
      const why = failure === undefined ? 'closed by the broker' : failure.message;
      const message = connected
        ? `the connection to broker ${this.address} closed: ${why}`
        : `cannot connect to broker ${this.address}: ${why}`;
      this.drop(socket, networkError(message, failure));
    });
    this.versions = undefined;
    this.handshake(socket, HANDSHAKE_VERSION);
  }

  /**
   * Holds this connection's writes until `uncork`, so the requests of one
   * drain leave in one system call. Calls nest; each `cork` needs its `uncork`.
   */
  cork(): void {
    this.corks.cork(this.socket);
  }

  uncork(): void {
    this.corks.uncork();
  }

  private write(socket: Socket, entry: InFlight): void {
    const chunks = entry.frame!;
    entry.written = true;
    const last = chunks.length - 1;
    if (last > 0) socket.cork();
    for (let i = 0; i < last; i++) socket.write(chunks[i]!);
    if (!entry.noResponse) socket.write(chunks[last]!);
    else this.writeLast(socket, entry, chunks[last]!);
    if (last > 0) socket.uncork();
  }

  private writeLast(socket: Socket, entry: InFlight, chunk: Buffer): void {
    socket.write(chunk, (error) => {
      if (error || entry.done) return; // a failed write: the socket's close rejects it
      entry.done = true;
      entry.resolve(undefined);
    });
  }

  private received(socket: Socket, chunk: Buffer): void {
    if (this.socket !== socket) return;
    const { frames, error } = this.decoder.push(chunk);
    for (const frame of frames) {
      const match = matchResponse(this.queue[0], frame);
      if (!match.ok) return this.break(match.why, match.cause);
      const head = this.queue.shift()!;
      // A broker that answers requests is healthy: the backoff starts over (not for the handshake
      // alone, or a broker that drops every request after it would be retried at full speed).
      if (head.body !== HANDSHAKE_BODY) this.backoff.succeeded();
      settle(head, match.response);
    }
    if (error !== undefined) this.break(error.message, error);
  }

  /** The broker broke the protocol (or a request timed out): drop the connection and everything in flight. */
  private break(why: string, cause?: unknown): void {
    const socket = this.socket;
    if (socket === undefined) return;
    this.drop(
      socket,
      networkError(`broker ${this.address} is out of step, closing: ${why}`, cause),
    );
  }

  /** Forgets `socket` at once (later requests open a new one after the backoff) and fails its requests. */
  private drop(socket: Socket, error: Error): void {
    if (this.socket !== socket) return;
    this.socket = undefined;
    this.versions = undefined;
    this.backoff.failed();
    this.failAll(error);
    socket.destroy();
  }
  // #endregion socket

  /** Times out every request past its deadline, then waits for the next deadline. */
  private checkTimeouts(): void {
    const now = Date.now();
    for (const entry of this.queue.filter((e) => e.deadline <= now)) this.timedOut(entry);
    let next = Infinity;
    for (const entry of this.queue) if (entry.deadline < next) next = entry.deadline;
    if (next < Infinity && !this.closed) this.timeouts.arm(next);
  }

  private timedOut(entry: InFlight): void {
    const index = this.queue.indexOf(entry);
    if (index < 0) return;
    const error = new ProtocolError(
      'REQUEST_TIMED_OUT',
      `${entry.api} request to ${this.address} got no response within ${entry.timeoutMs} ms`,
    );
    this.queue.splice(index, 1);
    if (!entry.done) {
      entry.done = true;
      entry.reject(error);
    }
    // Never written (waiting out the reconnect backoff, or behind the handshake): only this one goes.
    if (!entry.written || this.socket === undefined) return;
    this.break(`a ${entry.api} request timed out after ${entry.timeoutMs} ms`);
  }

  private failAll(error: Error): void {
    const queue = this.queue;
    this.queue = [];
    for (const entry of queue) {
      if (entry.done) continue;
      entry.done = true;
      entry.reject(error);
    }
  }
}
