/**
 * The broker's core, callable in process: a data dir, its topics and
 * partitions, the background passes, and `handle(request)`, which dispatches
 * by the handler table. The TCP server (server.ts) is a thin adapter over it;
 * the embedded broker (embedded.ts) starts both.
 *
 * Lifecycle: `Broker.open` → `handle` any number of times, concurrently →
 * `beginShutdown` (long polls answer now) → `close` (stops the passes,
 * flushes and closes every log). `handle` never rejects: any failure becomes
 * an error response.
 *
 * With `cluster` (`--cluster 1@h:p,2@h:p,...`) the broker also runs a
 * ClusterRuntime (src/cluster/runtime/): heartbeats with its peers, who is
 * alive, who the controller is; the metadata image, pushed by the
 * controller and persisted in `cluster-metadata.json`; the controller
 * itself when this broker acts as it; and `clusterView` (the image and the
 * ControllerChannel) for the handlers. Its cluster.id is derived from the
 * --cluster list (src/cluster/runtime/cluster-id.ts), the same on every
 * broker. Without `cluster`, it is a cluster of one.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { clusterConfig } from '../cluster/cluster-config.js';
import {
  ClusterNode,
  ClusterRuntime,
  type ClusterView,
  type ImageListener,
  clusterIdFor,
  fileMetadataStore,
} from '../cluster/runtime/index.js';
import { type Clock, type Logger, consoleLogger, systemClock } from '../log/index.js';
import {
  type ApiName,
  type Request,
  type RequestBody,
  type Response,
  type ResponseBody,
  toProtocolError,
} from '../protocol/index.js';
import {
  BackgroundPasses,
  type CleanerSummary,
  type PassSummary,
  type Timers,
} from './background.js';
import { type BrokerConfig, type BrokerConfigInput, resolveBrokerConfig } from './config.js';
import {
  type BrokerMeta,
  controllerEpochStore,
  loadOrCreateMeta,
  lockDataDir,
} from './data-dir.js';
import { GroupCoordinator, OFFSETS_TOPIC, type Scheduler, realScheduler } from './group/index.js';
import { ReplicaManager } from './replica/index.js';
import { HANDLERS } from './handlers/index.js';
import type { BrokerContext, Handler, RequestContext } from './handlers/index.js';
import { TopicManager } from './topics.js';

export interface BrokerOptions {
  dataDir: string;
  /** Kafka's names: broker settings and broker-wide topic defaults (`log.retention.ms`). */
  config?: BrokerConfigInput;
  /** Default: plain lines on stderr from 'info' up. */
  logger?: Logger;
  clock?: Clock;
  /** For tests: drive the retention and cleaner schedule by hand. */
  timers?: Timers;
  /**
   * The group coordinator's and the cluster's time and timers (sessions,
   * rebalances, offsets expiry, heartbeats); default real ones on `clock`.
   */
  scheduler?: Scheduler;
  /** This broker's id (Kafka's `broker.id` / `node.id`); the same as `config['broker.id']`. */
  brokerId?: number;
  /**
   * The cluster, `id@host:port` entries separated by commas, this broker's
   * among them; its settings `broker.heartbeat.interval.ms` and
   * `broker.session.timeout.ms` go in `config`. Absent: a cluster of one.
   */
  cluster?: string;
  /**
   * In a cluster: what applies each metadata image on this broker (the
   * ReplicaManager). A function is called with the opened broker, before the
   * first heartbeat, so the listener can use its topics and `clusterView`.
   * Without one, the broker only holds the image. Ignored without `cluster`.
   * A listener with a `close()` is closed by `Broker.close`, after the last
   * image was applied and before the logs close.
   */
  imageListener?: ImageListener | ((broker: Broker) => ImageListener);
}

export class Broker implements BrokerContext {
  listener: { host: string; port: number } | undefined;
  private stopping = false;
  private closed: Promise<void> | undefined;
  private readonly shutdownListeners = new Set<() => void>();
  /** The ImageListener plugged in (`BrokerOptions.imageListener`), if any. */
  private imageListener: ImageListener | undefined;
  /** In a cluster, the replicas of this broker: leading, following, acks=all (src/broker/replica/). */
  replicas: ReplicaManager | undefined;

  private constructor(
    readonly dataDir: string,
    readonly meta: BrokerMeta,
    readonly config: BrokerConfig,
    readonly topics: TopicManager,
    readonly logger: Logger,
    readonly clock: Clock,
    readonly groups: GroupCoordinator,
    /** The cluster's part in this broker (src/cluster/runtime/); undefined for a cluster of one. */
    readonly runtime: ClusterRuntime | undefined,
    private readonly background: BackgroundPasses,
    private readonly unlock: () => void,
  ) {}

  /** The default ImageListener: this broker's ReplicaManager, which tells the groups what it leads. */
  private replicaManager(runtime: ClusterRuntime, scheduler: Scheduler): ReplicaManager {
    this.replicas = new ReplicaManager({
      brokerId: this.meta.brokerId,
      topics: this.topics,
      logger: this.logger,
      scheduler,
      channel: runtime.channel,
      settings: this.config.settings,
      onLeadershipChange: ({ topic, partition, isLeader, leaderEpoch }) => {
        if (topic === OFFSETS_TOPIC)
          void this.groups.onLeadershipChange(partition, isLeader, leaderEpoch);
      },
    });
    return this.replicas;
  }

  /** Heartbeats, liveness, the controller's epoch (BrokerContext's `cluster`). */
  get cluster(): ClusterNode | undefined {
    return this.runtime?.node;
  }

  /** The applied metadata image and the way to the controller, in a cluster. */
  get clusterView(): ClusterView | undefined {
    return this.runtime;
  }

  static async open(options: BrokerOptions): Promise<Broker> {
    if (typeof options?.dataDir !== 'string' || options.dataDir === '')
      throw new TypeError('dataDir must be a non-empty string');
    const dataDir = resolve(options.dataDir);
    const input = { ...options.config };
    if (options.brokerId !== undefined) {
      const given = input['broker.id'];
      if (given !== undefined && Number(given) !== options.brokerId)
        throw new TypeError(`brokerId ${options.brokerId} and broker.id ${given} disagree`);
      input['broker.id'] = options.brokerId;
    }
    const config = resolveBrokerConfig(input);
    const brokerId = config.settings['broker.id'];
    const cluster =
      options.cluster === undefined
        ? undefined
        : clusterConfig({
            brokerId,
            cluster: options.cluster,
            'broker.heartbeat.interval.ms': config.settings['broker.heartbeat.interval.ms'],
            'broker.session.timeout.ms': config.settings['broker.session.timeout.ms'],
          });
    const logger = options.logger ?? consoleLogger('info');
    const clock = options.clock ?? systemClock;
    const scheduler = options.scheduler ?? realScheduler(clock);
    mkdirSync(dataDir, { recursive: true });
    const unlock = lockDataDir(dataDir);
    try {
      const meta = loadOrCreateMeta(
        dataDir,
        brokerId,
        cluster === undefined ? undefined : clusterIdFor(cluster.brokers),
      );
      const replicated = cluster !== undefined;
      const topics = await TopicManager.open({ dataDir, config, logger, clock, replicated });
      topics.effectiveConfig({}); // the broker-wide topic defaults must hold on their own
      const runtime =
        cluster &&
        new ClusterRuntime({
          config: cluster,
          scheduler,
          logger,
          store: fileMetadataStore(dataDir, logger),
          epochStore: controllerEpochStore(dataDir),
          requestTimeoutMs: config.settings['request.timeout.ms'],
        });
      const groups = GroupCoordinator.open({
        topics,
        settings: config.settings,
        logger,
        scheduler,
        cluster: runtime && { image: () => runtime.image() },
      });
      const background = new BackgroundPasses(() => topics.partitions(), logger, options.timers);
      const broker = new Broker(
        dataDir,
        meta,
        config,
        topics,
        logger,
        clock,
        groups,
        runtime,
        background,
        unlock,
      );
      const s = config.settings;
      background.start(
        s['log.retention.check.interval.ms'],
        s['log.cleaner.enable'] ? s['log.cleaner.backoff.ms'] : undefined,
      );
      const count = topics.list().length;
      logger.info(
        `broker ${meta.brokerId} of cluster ${meta.clusterId} opened ${dataDir}: ${count} topic(s), ` +
          `${topics.partitions().length} partition(s)`,
      );
      if (runtime !== undefined) {
        const listener = options.imageListener;
        try {
          broker.imageListener =
            typeof listener === 'function'
              ? listener(broker)
              : (listener ?? broker.replicaManager(runtime, scheduler));
          runtime.setImageListener(broker.imageListener);
        } catch (err) {
          await broker.close();
          throw err;
        }
        runtime.start();
      }
      return broker;
    } catch (err) {
      unlock();
      throw err;
    }
  }

  // #region handle
  /** Answers one request: its response, or an error response. Never rejects. */
  async handle(request: Request, ctx: RequestContext = {}): Promise<Response> {
    return this.respond(request, ctx);
  }

  /**
   * `handle` without a promise when the handler answers at once (a produce
   * to existing topics): the response itself, or a promise of it. Never
   * throws or rejects. The transport calls this, so that a request that
   * needs no waiting costs no turn of the microtask queue.
   */
  respond(request: Request, ctx: RequestContext = {}): Response | Promise<Response> {
    const { correlationId } = request;
    try {
      if (this.closed !== undefined) throw new Error('the broker is closed');
      const handler = HANDLERS[request.api] as Handler<ApiName>;
      const context = { ...ctx, clientId: request.clientId ?? '' };
      const body = handler(this, request.body as RequestBody<ApiName>, context);
      if (!(body instanceof Promise)) return { correlationId, body } as Response;
      return body.then(
        (answered) => ({ correlationId, body: answered }) as Response,
        (err: unknown) => this.failed(request, err),
      );
    } catch (err) {
      return this.failed(request, err);
    }
  }

  private failed(request: Request, err: unknown): Response {
    const error = toProtocolError(err);
    if (error.name === 'UNKNOWN_SERVER_ERROR')
      this.logger.error(`${request.api} failed: ${describe(err)}`);
    return { correlationId: request.correlationId, error };
  }
  // #endregion handle

  /** In process: one API call, its response body, or the error response's `ProtocolError` thrown. */
  async call<A extends ApiName>(api: A, body: RequestBody<A>): Promise<ResponseBody<A>> {
    const request = { api, version: 0, correlationId: 0, body } as Request;
    const response = await this.handle(request);
    if (response.error !== undefined) throw response.error;
    return response.body as ResponseBody<A>;
  }

  get shuttingDown(): boolean {
    return this.stopping;
  }

  onShutdown(fn: () => void): () => void {
    this.shutdownListeners.add(fn);
    return () => this.shutdownListeners.delete(fn);
  }

  /** Long polls answer now with what they have, parked JoinGroup and SyncGroup requests with NOT_COORDINATOR. */
  beginShutdown(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.runtime?.beginShutdown();
    void this.groups.shutdown();
    for (const fn of [...this.shutdownListeners]) fn();
  }

  /** One retention pass over every partition now (also runs on its schedule). */
  runRetention(now?: number): Promise<PassSummary | undefined> {
    return this.background.retention(now);
  }

  /** One cleaner pass over every compacted partition now (also runs on its schedule). */
  runCleaner(): Promise<CleanerSummary | undefined> {
    return this.background.cleaner();
  }

  /** Stops the passes, then flushes and closes every log. Idempotent. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      this.beginShutdown();
      try {
        await this.runtime?.close(); // before the logs: no image is applied after this
        const listener = this.imageListener as { close?: () => Promise<void> | void } | undefined;
        await listener?.close?.();
        await this.groups.shutdown();
        await this.background.stop();
        await this.topics.close();
        this.logger.info(`broker ${this.meta.brokerId} closed ${this.dataDir}`);
      } finally {
        this.unlock();
      }
    })();
    return this.closed;
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}
