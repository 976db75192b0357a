/**
 * The TCP server: a thin adapter that gives each accepted socket a
 * Connection over the broker's core. Closing it stops accepting, lets every
 * connection answer what it has in flight (long polls answer at once), and
 * only then closes the core, which flushes and closes the logs.
 */
import { type Server, createServer } from 'node:net';
import type { Broker } from './broker.js';
import { Connection, RequestMemory } from './connection.js';

export interface ListenOptions {
  host?: string;
  port?: number;
  /** How long close() lets connections finish before cutting them. Default 10 s. */
  drainTimeoutMs?: number;
}

export class BrokerServer {
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly server: Server,
    private readonly connections: ReadonlySet<Connection>,
    readonly broker: Broker,
    readonly host: string,
    readonly port: number,
    private readonly drainTimeoutMs: number,
    /** `queued.max.request.bytes`: its bound, the bytes held now (`used`) and the most ever (`peak`). */
    readonly requestMemory: Readonly<RequestMemory>,
  ) {}

  static async listen(broker: Broker, options: ListenOptions = {}): Promise<BrokerServer> {
    const host = options.host ?? '127.0.0.1';
    const s = broker.config.settings;
    const memory = new RequestMemory(s['queued.max.request.bytes']);
    const connectionOptions = {
      maxFrameBytes: s['socket.request.max.bytes'],
      idleMs: s['connections.max.idle.ms'],
      maxInFlight: s['queued.max.requests'],
      memory,
      logger: broker.logger,
    };
    const connections = new Set<Connection>();
    // Half-open: a client that ends its side still gets the answers to what it sent.
    const server = createServer({ allowHalfOpen: true }, (socket) => {
      const connection = new Connection(socket, broker, connectionOptions);
      connections.add(connection);
      socket.once('close', () => connections.delete(connection));
      broker.logger.debug(`connection from ${connection.peer}`);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 9092, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => broker.logger.error(`server: ${err.message}`));
    const address = server.address();
    const port =
      typeof address === 'object' && address !== null ? address.port : (options.port ?? 0);
    const drainMs = options.drainTimeoutMs ?? 10_000;
    const self = new BrokerServer(server, connections, broker, host, port, drainMs, memory);
    broker.listener = { host, port };
    broker.logger.info(`listening on ${host}:${port}`);
    return self;
  }

  /** Stop accepting, finish in-flight requests, close the connections, then the broker. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
      this.broker.beginShutdown();
      const drained = Promise.all([...this.connections].map((c) => c.drain()));
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>(
        (resolve) => (timer = setTimeout(resolve, this.drainTimeoutMs)),
      );
      await Promise.race([drained, late]);
      clearTimeout(timer);
      for (const c of this.connections) c.destroy();
      await stopped;
      await this.broker.close();
    })();
    return this.closing;
  }
}
