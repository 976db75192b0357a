/**
 * One TCP connection to one broker, pipelined: requests are written as they
 * come, many in flight, and the broker answers them in order. The in-flight
 * requests form a queue; each response must carry the correlation id of the
 * queue's head. Anything else (another id, a frame that does not decode, a
 * response nobody asked for) means the stream is out of step: the connection
 * closes and every request in flight fails with NETWORK_EXCEPTION.
 *
 * Invariant: `queue` holds exactly the requests written to (or waiting for)
 * the current socket, oldest first. A request that times out closes the
 * connection (as Kafka's NetworkClient does): a later response cannot be
 * matched past a missing one.
 *
 * The socket is opened on the first request and again after a failure, but
 * not before the reconnect backoff (`reconnect.backoff.ms`, doubling per
 * failure up to `reconnect.backoff.max.ms`, ±20% jitter) has passed; requests
 * made meanwhile wait for it. Parsers never see the socket: bytes go through
 * `FrameDecoder` and `decodeResponse`. Not shared between threads (there are none).
 */
import { Socket, connect } from 'node:net';
import {
  type ApiName,
  FrameDecoder,
  ProtocolError,
  type RequestBody,
  type ResponseBody,
  decodeResponse,
  encodeRequestFrameChunks,
  type Request,
} from '../protocol/index.js';
import { type BrokerAddress, formatAddress } from './address.js';
import { ClientError, ClientErrorCode, networkError } from './errors.js';

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

interface InFlight {
  correlationId: number;
  api: ApiName;
  /** The frame as buffers written in order (record batches are not copied into it). */
  frame: Buffer[];
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

const JITTER = 0.2;

export class Connection {
  readonly address: string;
  private readonly clientId: string | undefined;
  private readonly requestTimeoutMs: number;
  private readonly backoffMs: number;
  private readonly backoffMaxMs: number;
  private readonly connectTimeoutMs: number;
  private socket: Socket | undefined;
  private decoder = new FrameDecoder();
  private queue: InFlight[] = [];
  private nextCorrelationId = 0;
  private failures = 0;
  private retryAt = 0;
  private connectTimer: NodeJS.Timeout | undefined;
  /** One timer for every request's timeout (not one per request), due at `timeoutAt` or earlier. */
  private timeoutTimer: NodeJS.Timeout | undefined;
  private timeoutAt = Infinity;
  private closed = false;
  /** Open `cork` calls, and the socket the first of them corked (none if there was none). */
  private corkDepth = 0;
  private corked: Socket | undefined;

  constructor(
    readonly broker: BrokerAddress,
    options: ConnectionOptions = {},
  ) {
    this.address = formatAddress(broker);
    this.clientId = options.clientId;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.backoffMs = options.reconnectBackoffMs ?? 50;
    this.backoffMaxMs = Math.max(options.reconnectBackoffMaxMs ?? 1000, this.backoffMs);
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  }

  /** Requests sent (or waiting to be) whose responses have not arrived. */
  get inFlight(): number {
    return this.queue.length;
  }

  get isClosed(): boolean {
    return this.closed;
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
      const correlationId = this.nextCorrelationId;
      this.nextCorrelationId = (correlationId + 1) & 0x7fffffff;
      const request = { api, version: 0, correlationId, clientId: this.clientId, body } as Request;
      const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs;
      const entry: InFlight = {
        correlationId,
        api,
        frame: encodeRequestFrameChunks(request),
        timeoutMs,
        deadline: Date.now() + timeoutMs,
        noResponse: options.noResponse === true,
        done: false,
        resolve: resolve as (body: unknown) => void,
        reject,
      };
      this.queue.push(entry);
      if (entry.deadline < this.timeoutAt) this.armTimeout(entry.deadline);
      if (this.socket !== undefined) this.write(this.socket, entry);
      else this.scheduleConnect();
    });
  }
  // #endregion request

  /** Fails what is in flight and closes the socket; later requests are refused. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.connectTimer);
    clearTimeout(this.timeoutTimer);
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
    const delay = this.retryAt - Date.now();
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
    for (const entry of this.queue) this.write(socket, entry);
  }

  /**
   * Holds this connection's writes until `uncork`, so the requests of one
   * drain leave in one system call. Calls nest; each `cork` needs its `uncork`.
   */
  cork(): void {
    this.corkDepth += 1;
    if (this.corkDepth > 1) return;
    this.corked = this.socket;
    this.corked?.cork();
  }

  uncork(): void {
    if (this.corkDepth === 0) return;
    this.corkDepth -= 1;
    if (this.corkDepth > 0) return;
    const socket = this.corked;
    this.corked = undefined;
    socket?.uncork();
  }

  private write(socket: Socket, entry: InFlight): void {
    const chunks = entry.frame;
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
      const head = this.queue[0];
      if (head === undefined) return this.break('a response arrived with no request in flight');
      const decoded = decodeResponse(frame, head.api);
      if (!decoded.ok) return this.break(decoded.error.message, decoded.error);
      const { response } = decoded;
      if (response.correlationId !== head.correlationId) {
        return this.break(
          `expected the response to correlation id ${head.correlationId} (${head.api}), got ${response.correlationId}`,
        );
      }
      this.queue.shift();
      this.failures = 0; // a broker that answers is healthy: the backoff starts over
      if (head.done) continue;
      head.done = true;
      if (head.noResponse) head.resolve(undefined);
      else if (response.error !== undefined) head.reject(response.error);
      else head.resolve(response.body);
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
    this.failures += 1;
    const backoff = Math.min(this.backoffMs * 2 ** (this.failures - 1), this.backoffMaxMs);
    this.retryAt = Date.now() + backoff * (1 - JITTER + 2 * JITTER * Math.random());
    this.failAll(error);
    socket.destroy();
  }
  // #endregion socket

  private armTimeout(at: number): void {
    clearTimeout(this.timeoutTimer);
    this.timeoutAt = at;
    this.timeoutTimer = setTimeout(this.checkTimeouts, Math.max(0, at - Date.now()));
    this.timeoutTimer.unref(); // an open socket or a reconnect timer keeps the process alive, not this
  }

  /** Times out every request past its deadline, then waits for the next deadline. */
  private readonly checkTimeouts = (): void => {
    this.timeoutTimer = undefined;
    this.timeoutAt = Infinity;
    const now = Date.now();
    for (const entry of this.queue.filter((e) => e.deadline <= now)) this.timedOut(entry);
    let next = Infinity;
    for (const entry of this.queue) if (entry.deadline < next) next = entry.deadline;
    if (next < Infinity && !this.closed) this.armTimeout(next);
  };

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
    // Never written (waiting out the reconnect backoff): only this one goes.
    if (this.socket === undefined) return;
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
