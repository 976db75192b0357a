/**
 * Brokers' ClusterRuntimes wired to each other in memory, on one
 * ManualScheduler: heartbeats, pushes, snapshots and AlterPartition reach a
 * runtime that is up (through the protocol's body checks, as on the wire),
 * or fail at once. Stores and controller epochs outlive a runtime, as a
 * data dir does, so a broker can come back with what it had.
 */
import { ManualScheduler } from '../src/broker/index.js';
import { HANDLERS } from '../src/broker/handlers/index.js';
import type { BrokerContext } from '../src/broker/handlers/index.js';
import { type MetadataImage, clusterConfig } from '../src/cluster/index.js';
import {
  ClusterRuntime,
  type ControllerEpochStore,
  type MetadataStore,
  type PeerChannel,
  type PeerTransport,
  controllerChannelClientId,
  memoryEpochStore,
  memoryMetadataStore,
} from '../src/cluster/runtime/index.js';
import type { Logger } from '../src/log/index.js';
import { APIS, type ApiName } from '../src/protocol/index.js';

export const SPEC = '1@10.0.0.1:9101,2@10.0.0.2:9102,3@10.0.0.3:9103';
export const INTERVAL = 100;
export const SESSION = 500;

export function recorder(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const put = (message: string) => void lines.push(message);
  return { lines, debug: () => {}, info: put, warn: put, error: put };
}

export const flush = () => new Promise((resolve) => setImmediate(resolve));

/** The handler context an in-memory runtime answers AlterPartition with. */
export function contextOf(runtime: ClusterRuntime, logger: Logger): BrokerContext {
  return { clusterView: runtime, cluster: runtime.node, logger } as unknown as BrokerContext;
}

export function memoryRuntimes() {
  const scheduler = new ManualScheduler();
  const runtimes = new Map<number, ClusterRuntime>();
  const stores = new Map<number, MetadataStore & { saved: MetadataImage[] }>();
  const epochs = new Map<number, ControllerEpochStore>();
  const logs = new Map<number, string[]>();
  /** Every save by every broker, in order: `2 saved 1:4` is broker 2 saving (epoch 1, offset 4). */
  const saves: string[] = [];
  /** Brokers whose pushes are lost on the way (UpdateMetadata fails). */
  const losePushesTo = new Set<number>();

  const transport = (): PeerTransport => ({
    heartbeat: (peer, request) => {
      const target = runtimes.get(peer.id);
      return target === undefined
        ? Promise.reject(new Error(`broker ${peer.id} is down`))
        : Promise.resolve(target.node.receiveHeartbeat(request));
    },
    close: async () => {},
  });

  const peers = (from: number): PeerChannel => ({
    request: async (peer, api, body) => {
      const target = runtimes.get(peer.id);
      if (target === undefined) throw new Error(`broker ${peer.id} is down`);
      if (api === 'UpdateMetadata' && losePushesTo.has(peer.id)) throw new Error('push lost');
      const request = APIS[api as ApiName].request(structuredClone(body), 'body') as never;
      const answer = await dispatch(target, api, request, from);
      return APIS[api as ApiName].response(structuredClone(answer), 'body') as never;
    },
    close: async () => {},
  });

  const dispatch = (target: ClusterRuntime, api: ApiName, body: never, from: number) => {
    switch (api) {
      case 'UpdateMetadata':
        return target.receivePush(body);
      case 'FetchSnapshot':
        return target.snapshot(body);
      case 'AlterPartition':
        return HANDLERS.AlterPartition(contextOf(target, recorder()), body, {
          clientId: controllerChannelClientId(from),
        });
      default:
        throw new Error(`${api} is not wired in memory`);
    }
  };

  const up = (id: number, options: { requestTimeoutMs?: number } = {}) => {
    const logger = recorder();
    logs.set(id, logger.lines);
    if (!stores.has(id)) stores.set(id, memoryMetadataStore());
    if (!epochs.has(id)) epochs.set(id, memoryEpochStore());
    const inner = stores.get(id)!;
    const store: MetadataStore = {
      load: () => inner.load(),
      save: (image) => {
        inner.save(image);
        saves.push(`${id} saved ${image.controllerEpoch}:${image.metadataOffset}`);
      },
    };
    const runtime = new ClusterRuntime({
      config: clusterConfig({
        brokerId: id,
        cluster: SPEC,
        'broker.heartbeat.interval.ms': INTERVAL,
        'broker.session.timeout.ms': SESSION,
      }),
      scheduler,
      logger,
      store,
      epochStore: epochs.get(id)!,
      requestTimeoutMs: options.requestTimeoutMs ?? 2_000,
      transport: transport(),
      peers: peers(id),
    });
    runtimes.set(id, runtime);
    runtime.start();
    return runtime;
  };

  const down = async (id: number) => {
    const runtime = runtimes.get(id);
    runtimes.delete(id);
    await runtime?.close();
  };

  /** Moves time in quarter heartbeats, letting every answer arrive after each. */
  const advance = async (ms: number) => {
    for (let t = 0; t < ms; t += INTERVAL / 4) {
      scheduler.advance(INTERVAL / 4);
      for (let i = 0; i < 3; i++) await flush();
    }
  };

  const get = (id: number) => runtimes.get(id)!;
  const images = () => [...runtimes.values()].map((r) => r.image());
  /** Whether every runtime up holds the same image version. */
  const agreed = () => {
    const all = images();
    return all.every(
      (i) =>
        i.controllerEpoch === all[0]!.controllerEpoch &&
        i.metadataOffset === all[0]!.metadataOffset,
    );
  };

  const closeAll = async () => {
    for (const id of [...runtimes.keys()]) await down(id);
  };

  return {
    scheduler,
    runtimes,
    stores,
    logs,
    saves,
    losePushesTo,
    up,
    down,
    advance,
    get,
    images,
    agreed,
    closeAll,
  };
}

/** The first image in `saved` after `fromOffset` in which `brokerId` is live. */
export function unfencedAt(
  saved: readonly MetadataImage[],
  brokerId: number,
  fromOffset = 0,
): MetadataImage | undefined {
  return saved.find(
    (image) =>
      image.metadataOffset > fromOffset && image.brokers.some((b) => b.id === brokerId && b.live),
  );
}
