/**
 * A fake broker for the client's unit tests: a real TCP server that decodes
 * requests with src/protocol and answers what the test's handler says, in
 * request order per connection. It knows nothing of logs or topics.
 *
 * It answers the clients' ApiVersions handshake itself (every API of
 * src/protocol, or `options.apis`), keeping those requests in `handshakes`
 * rather than `requests`; `options.handshake: 'handler'` passes them to the
 * handler instead.
 */
import { type Server, type Socket, createServer } from 'node:net';
import {
  FrameDecoder,
  ProtocolError,
  type Request,
  decodeRequest,
  encodeFrame,
  encodeResponseFrame,
  supportedApis,
} from '../src/protocol/index.js';

/** What a handler answers: a body, an error response, raw bytes, or nothing (`null`: stay silent). */
export type FakeAnswer =
  { body: unknown } | { error: ProtocolError } | { raw: Buffer } | { destroy: true } | null;

export type FakeHandler = (
  request: Request,
  context: { socket: Socket; connection: number },
) => FakeAnswer | Promise<FakeAnswer>;

export interface FakeBroker {
  host: string;
  port: number;
  /** `host:port`. */
  address: string;
  /** Every request decoded, in arrival order (the ApiVersions it answered itself apart). */
  requests: Request[];
  /** The ApiVersions requests it answered itself. */
  handshakes: Request[];
  /** When each connection was accepted (ms since the epoch). */
  connectedAt: number[];
  sockets: Socket[];
  close(): Promise<void>;
}

export interface FakeBrokerOptions {
  /** Who answers ApiVersions: the fake (default), or the handler. */
  handshake?: 'fake' | 'handler';
  /** What the fake's ApiVersions answer lists; default every API of src/protocol. */
  apis?: { api: string; minVersion: number; maxVersion: number }[];
}

export async function startFakeBroker(
  handler: FakeHandler,
  options: FakeBrokerOptions = {},
): Promise<FakeBroker> {
  const requests: Request[] = [];
  const handshakes: Request[] = [];
  const apis = options.apis ?? supportedApis();
  const answerHandshake = options.handshake !== 'handler';
  const connectedAt: number[] = [];
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => {
    const connection = connectedAt.length;
    connectedAt.push(Date.now());
    sockets.push(socket);
    socket.on('error', () => undefined);
    const decoder = new FrameDecoder();
    let answered: Promise<void> = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      for (const frame of decoder.push(chunk).frames) {
        const decoded = decodeRequest(frame);
        if (!decoded.ok) {
          socket.destroy();
          return;
        }
        const request = decoded.request;
        const itself = answerHandshake && request.api === 'ApiVersions';
        (itself ? handshakes : requests).push(request);
        const answer: Promise<FakeAnswer> = itself
          ? Promise.resolve({ body: { errorCode: 0, apis } })
          : Promise.resolve(handler(request, { socket, connection }));
        // Answers are written in request order, whenever each is ready.
        answered = answered.then(async () => {
          const a = await answer;
          if (a === null || socket.destroyed) return;
          if ('destroy' in a) socket.destroy();
          else if ('raw' in a) socket.write(a.raw);
          else if ('error' in a)
            socket.write(
              encodeResponseFrame({ correlationId: request.correlationId, error: a.error }),
            );
          else
            socket.write(
              encodeResponseFrame({
                correlationId: request.correlationId,
                body: a.body,
              } as never),
            );
        });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    host: '127.0.0.1',
    port,
    address: `127.0.0.1:${port}`,
    requests,
    handshakes,
    connectedAt,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A frame whose body is not msgpack at all. */
export function garbageFrame(): Buffer {
  return encodeFrame(Buffer.from([0xc1, 0xc1, 0xc1]));
}

/** A free port with nothing listening on it (bound, then released). */
export async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export const API_VERSIONS_BODY = { errorCode: 0, apis: [] };

/** A Metadata body naming the fake broker as node 0 and the leader of every partition of `topics`. */
export function metadataBody(
  broker: { host: string; port: number },
  topics: Record<string, number>,
  asked: { name: string }[] | null,
) {
  const names = asked === null ? Object.keys(topics) : asked.map((t) => t.name);
  return {
    brokers: [{ nodeId: 0, host: broker.host, port: broker.port, rack: null }],
    clusterId: 'fake',
    controllerId: 0,
    topics: names.map((name) => {
      const count = topics[name];
      return {
        errorCode: count === undefined ? 3 : 0,
        name,
        isInternal: false,
        partitions: Array.from({ length: count ?? 0 }, (_, i) => ({
          errorCode: 0,
          partitionIndex: i,
          leaderId: 0,
          leaderEpoch: 0,
          replicaNodes: [0],
          isrNodes: [0],
          offlineReplicas: [],
        })),
      };
    }),
  };
}
