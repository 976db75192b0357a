/**
 * Helpers for the broker tests: record batches, a quiet in-process broker,
 * and a tiny raw client over TCP written with src/protocol's codecs only (the
 * real client lives in src/client; these tests must not depend on it).
 */
import { type Socket, connect } from 'node:net';
import { Broker, type BrokerOptions } from '../src/broker/index.js';
import { type Logger, decodeRecords, encodeBatch } from '../src/log/index.js';
import {
  type ApiName,
  FrameDecoder,
  type Request,
  type RequestBody,
  type ResponseOf,
  decodeResponse,
  encodeRequestFrame,
} from '../src/protocol/index.js';
import { tempDir } from './support/temp.js';

export const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** A logger that keeps its lines, for tests that check what the broker says. */
export function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (m: string) => void lines.push(`${level} ${m}`);
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export function openBroker(options: Partial<BrokerOptions> = {}): Promise<Broker> {
  return Broker.open({ dataDir: tempDir('samsa-broker-'), logger: quiet, ...options });
}

/** One batch of records `${prefix}${i}` with keys `k${i}`. */
export function batch(values: string[], timestamp?: number): Buffer {
  return encodeBatch(
    values.map((v, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(v) })),
    timestamp === undefined ? {} : { timestamp },
  );
}

export function values(records: Buffer): string[] {
  return decodeRecords(records).map((r) => r.value!.toString());
}

export function produceBody(
  topic: string,
  partition: number,
  records: Buffer,
  acks: 0 | 1 | -1 = 1,
) {
  return {
    acks,
    timeoutMs: 1000,
    topics: [{ name: topic, partitions: [{ partitionIndex: partition, records }] }],
  };
}

export function fetchBody(
  topic: string,
  partition: number,
  fetchOffset: number,
  o: { maxWaitMs?: number; minBytes?: number; maxBytes?: number; partitionMaxBytes?: number } = {},
): RequestBody<'Fetch'> {
  return {
    maxWaitMs: o.maxWaitMs ?? 0,
    minBytes: o.minBytes ?? 0,
    maxBytes: o.maxBytes ?? 1 << 20,
    topics: [
      {
        name: topic,
        partitions: [
          {
            partitionIndex: partition,
            fetchOffset,
            partitionMaxBytes: o.partitionMaxBytes ?? 1 << 20,
          },
        ],
      },
    ],
  };
}

/**
 * A raw client: sends frames, matches responses to requests strictly in
 * order (the protocol's rule), and fails everything when the broker closes.
 */
export class RawClient {
  private readonly decoder = new FrameDecoder();
  private readonly waiting: {
    api: ApiName;
    id: number;
    resolve: (r: unknown) => void;
    reject: (e: Error) => void;
  }[] = [];
  private nextId = 1;
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk) => {
      const { frames, error } = this.decoder.push(chunk);
      for (const frame of frames) {
        const head = this.waiting.shift();
        if (head === undefined) throw new Error('a response nobody asked for');
        const decoded = decodeResponse(frame, head.api);
        if (!decoded.ok) head.reject(decoded.error);
        else if (decoded.response.correlationId !== head.id)
          head.reject(
            new Error(`out of order: got ${decoded.response.correlationId}, wanted ${head.id}`),
          );
        else head.resolve(decoded.response);
      }
      if (error) socket.destroy(error);
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiting.splice(0)) w.reject(new Error('connection closed'));
    });
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host }, () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends one request; resolves with the whole response (body or error). */
  send<A extends ApiName>(api: A, body: RequestBody<A>): Promise<ResponseOf<A>> {
    const id = this.nextId++;
    const frame = encodeRequestFrame({
      api,
      version: 0,
      correlationId: id,
      clientId: 'test',
      body,
    } as Request);
    return this.sendFrame(api, id, frame) as Promise<ResponseOf<A>>;
  }

  /** The body of a successful response; throws the error of an error response. */
  async call<A extends ApiName>(api: A, body: RequestBody<A>) {
    const response = await this.send(api, body);
    if (response.error !== undefined) throw response.error;
    return response.body;
  }

  /** Sends raw bytes that will be answered as `api` with correlation id `id`. */
  sendFrame(api: ApiName, id: number, frame: Buffer): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ api, id, resolve, reject });
      this.socket.write(frame);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
