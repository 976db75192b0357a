/**
 * A cluster in one process for the replica tests: brokers opened without a
 * `cluster` (Broker.open on temp dirs), each with a ReplicaManager built
 * here; a fake controller (`applyEvent` of src/cluster/controller.ts on an
 * in-memory image) that pushes every new image to each connected broker in
 * order; fetchers that reach their leader by calling its handlers in
 * process (or, with `wire`, over TCP to each broker's own listener). A
 * broker can be cut off (in process only): its fetches fail both ways and it gets
 * no images, as if the network dropped it; or deaf: it gets no images. Time is a ManualScheduler shared
 * by every broker (their clocks too): ISR checks and acks=all timeouts move
 * only when a test advances it.
 */
import { Broker, BrokerServer } from '../src/broker/index.js';
import { ManualScheduler } from '../src/broker/group/scheduler.js';
import { HANDLERS } from '../src/broker/handlers/index.js';
import type { BrokerContext, Handler } from '../src/broker/handlers/index.js';
import type { Partition } from '../src/broker/partition.js';
import { ReplicaManager } from '../src/broker/replica/index.js';
import type { ReplicaClient } from '../src/broker/replica/index.js';
import { type ControllerEvent, applyEvent } from '../src/cluster/controller.js';
import { type MetadataImage, emptyImage, partitionOf } from '../src/cluster/metadata-image.js';
import type { ClusterView, ControllerChannel } from '../src/cluster/runtime/channels.js';
import type { Logger } from '../src/log/index.js';
import {
  type ApiName,
  ProtocolError,
  type RequestBody,
  type ResponseBody,
} from '../src/protocol/index.js';
import { tempDir } from './support/temp.js';

export interface Node {
  readonly id: number;
  readonly dataDir: string;
  readonly broker: Broker;
  readonly replicas: ReplicaManager;
  /** The broker as its handlers see it: with `replicas` and `clusterView`. */
  readonly context: BrokerContext;
  /** The image this broker applied last. */
  image: MetadataImage;
  chain: Promise<void>;
}

export interface TestClusterOptions {
  brokers?: number;
  lagMs?: number;
  minInsyncReplicas?: number;
  logger?: Logger;
  /** Fetch over TCP: each broker listens on a port of its own, and fetchers use client Connections. */
  wire?: boolean;
}

export const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export class TestCluster {
  readonly scheduler = new ManualScheduler();
  readonly nodes = new Map<number, Node>();
  /** Brokers cut off from the others: no fetches in or out, no images. */
  readonly cut = new Set<number>();
  /** Brokers that get no images but still fetch (their metadata lags). */
  readonly deaf = new Set<number>();
  image: MetadataImage;
  readonly servers = new Map<number, BrokerServer>();
  private controllerEpoch = 0;

  private constructor(ids: number[]) {
    this.image = emptyImage(ids.map((id) => ({ id, host: '127.0.0.1', port: 19000 + id })));
  }

  static async start(o: TestClusterOptions = {}): Promise<TestCluster> {
    const ids = Array.from({ length: o.brokers ?? 3 }, (_, i) => i + 1);
    const cluster = new TestCluster(ids);
    for (const id of ids) await cluster.open(id, o);
    if (o.wire === true)
      cluster.image = emptyImage(
        ids.map((id) => ({ id, host: '127.0.0.1', port: cluster.servers.get(id)!.port })),
      );
    await cluster.event({
      type: 'BecomeController',
      brokerId: 1,
      controllerEpoch: ++cluster.controllerEpoch,
      liveBrokerIds: ids,
    });
    return cluster;
  }

  private readonly options = new Map<number, TestClusterOptions>();

  private async open(id: number, o: TestClusterOptions, dataDir?: string): Promise<void> {
    this.options.set(id, o);
    const scheduler = this.scheduler;
    const logger = o.logger ?? silent;
    const dir = dataDir ?? tempDir(`samsa-replica-${id}-`);
    const broker = await Broker.open({
      dataDir: dir,
      brokerId: id,
      logger,
      clock: () => scheduler.now(),
      scheduler,
      config: { 'min.insync.replicas': o.minInsyncReplicas ?? 1 },
    });
    const replicas = new ReplicaManager({
      brokerId: id,
      topics: broker.topics,
      logger,
      scheduler,
      channel: this.channel(id),
      settings: broker.config.settings,
      replicaLagTimeMaxMs: o.lagMs ?? 10_000,
      fetchMaxWaitMs: 50,
      fetchBackoffMs: 10,
      connectTo: o.wire === true ? undefined : (leader) => this.client(id, leader.id),
    });
    if (o.wire === true)
      this.servers.set(id, await BrokerServer.listen(broker, { host: '127.0.0.1', port: 0 }));
    const view: ClusterView = { image: () => node.image, channel: this.channel(id) };
    const context = Object.create(broker, {
      replicas: { value: replicas },
      clusterView: { value: view },
    }) as BrokerContext;
    const image = this.nodes.get(id)?.image ?? this.image; // what it persisted, on a restart
    const node: Node = {
      id,
      dataDir: dir,
      broker,
      replicas,
      context,
      image,
      chain: Promise.resolve(),
    };
    this.nodes.set(id, node);
  }

  /** Closes broker `id` and opens it again on its data dir; it keeps the image it had. */
  async restart(id: number): Promise<void> {
    const node = this.node(id);
    await node.chain;
    await node.replicas.close();
    await node.broker.close();
    await this.open(id, this.options.get(id)!, node.dataDir);
  }

  node(id: number): Node {
    return this.nodes.get(id)!;
  }

  /** One request to broker `id`'s handlers, as a client would send it. */
  call<A extends ApiName>(id: number, api: A, body: RequestBody<A>): Promise<ResponseBody<A>> {
    const handler = HANDLERS[api] as unknown as Handler<A>;
    return Promise.resolve(handler(this.node(id).context, body, {}));
  }

  /** The ISR as broker `id` (the leader) holds it, in order. */
  isr(id: number, topic = 't'): string {
    return [...this.partition(id, topic).isr].sort((a, b) => a - b).join();
  }

  partition(id: number, topic: string, index = 0): Partition {
    const p = this.node(id).broker.topics.partition(topic, index);
    if (p === undefined) throw new Error(`broker ${id} holds no ${topic}-${index}`);
    return p;
  }

  registration(topic: string, index = 0) {
    return partitionOf(this.image, topic, index)!;
  }

  // #region controller
  /** Applies `event` to the image and pushes the result; throws the controller's refusal. */
  async event(event: ControllerEvent) {
    const result = applyEvent(this.image, event);
    if (result.error !== undefined)
      throw new ProtocolError(result.error.error, result.error.message);
    if (result.image !== this.image) await this.publish(result.image);
    return result;
  }

  async createTopic(name: string, replicas: number[], configs: Record<string, string> = {}) {
    await this.event({
      type: 'CreateTopic',
      name,
      partitions: 1,
      replicationFactor: replicas.length,
      configs,
      placement: { startIndex: 0, replicaShift: 0 },
    });
  }

  /** Pushes `image` to every broker not cut off, each in order; resolves once all applied it. */
  async publish(image: MetadataImage): Promise<void> {
    this.image = image;
    await Promise.all([...this.nodes.values()].map((n) => this.push(n)));
  }

  /** Brings broker `id` up to the current image (after it was cut off). */
  push(node: Node): Promise<void> {
    if (this.cut.has(node.id) || this.deaf.has(node.id)) return node.chain;
    const image = this.image;
    node.chain = node.chain.then(async () => {
      // The first image after a start is applied even when it is the one persisted: until then
      // the broker serves nothing. Later, only newer ones.
      const started = node.replicas.image.metadataOffset > 0;
      if (started && node.image.metadataOffset >= image.metadataOffset) return;
      const before = node.image;
      await node.replicas.applyImage(before, image);
      node.image = image;
    });
    return node.chain;
  }

  /** Broker `from`'s way to the controller; a cut-off broker cannot reach it. */
  private channel(from: number): ControllerChannel {
    const refuse = (what: string): never => {
      throw new Error(`the test controller does not ${what}`);
    };
    return {
      alterPartition: async (request) => {
        if (this.cut.has(from))
          throw new ProtocolError(
            'NETWORK_EXCEPTION',
            `broker ${from} cannot reach the controller`,
          );
        const result = await this.event({ type: 'AlterPartition', ...request });
        return result.partition!;
      },
      createTopic: async (call) =>
        void (await this.event({ type: 'CreateTopic', ...call, configs: { ...call.configs } })),
      deleteTopic: async (name) => void (await this.event({ type: 'DeleteTopic', name })),
      alterTopicConfigs: () => refuse('alter configs through the channel'),
    };
  }
  // #endregion controller

  /** A fetcher's way to broker `to`: its handlers, unless either side is cut off. */
  private client(from: number, to: number): ReplicaClient {
    const fail = () =>
      Promise.reject(new ProtocolError('NETWORK_EXCEPTION', `broker ${to} is unreachable`));
    return {
      request: async (api, body) => {
        const cut = () => this.cut.has(from) || this.cut.has(to);
        if (cut()) return fail();
        const answer = await this.call(to, api, body);
        return cut() ? fail() : (answer as never); // an answer in flight is lost too
      },
      close() {},
    };
  }

  /** Waits (real time, turns of the event loop) until `check` holds; throws after `turns` tries. */
  async until(check: () => boolean, what = 'the condition', turns = 2_000): Promise<void> {
    for (let i = 0; i < turns; i++) {
      if (check()) return;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  async close(): Promise<void> {
    for (const n of this.nodes.values()) await n.replicas.close();
    for (const s of this.servers.values()) await s.close();
    for (const n of this.nodes.values()) await n.broker.close();
  }
}

/** Every batch of a partition's log, as bytes: two replicas agree when these are equal. */
export function logBytes(p: Partition): Buffer {
  const chunks: Buffer[] = [];
  let offset = p.logStartOffset;
  while (offset < p.logEndOffset) {
    const bytes = p.log.read(offset, { maxBytes: 1 << 30 });
    if (bytes.length === 0) break;
    chunks.push(bytes);
    offset = nextOffset(bytes);
  }
  return Buffer.concat(chunks);
}

/** The offset after the last batch in `bytes` (v2 batches: base offset, length, ..., last offset delta). */
function nextOffset(bytes: Buffer): number {
  let pos = 0;
  let next = 0;
  while (pos < bytes.length) {
    const base = Number(bytes.readBigInt64BE(pos));
    const length = bytes.readInt32BE(pos + 8);
    const lastDelta = bytes.readInt32BE(pos + 23);
    next = base + lastDelta + 1;
    pos += 12 + length;
  }
  return next;
}
