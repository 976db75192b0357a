/**
 * The cluster, running (src/cluster/runtime/): first ClusterNodes wired to
 * each other in memory on one ManualScheduler, so time moves only when the
 * test says; then real brokers on real ports with short heartbeats.
 * The rule under test is docs/cluster.md's: the controller is the live
 * broker with the lowest id, and every new controller takes a higher epoch.
 */
import { describe, expect, it } from 'vitest';
import { ManualScheduler, startBroker, type RunningBroker } from '../src/broker/index.js';
import { InconsistentBrokerIdError } from '../src/broker/index.js';
import {
  ClusterNode,
  type ControllerEpochStore,
  type PeerTransport,
  clusterConfig,
  memoryEpochStore,
} from '../src/cluster/index.js';
import type { Logger } from '../src/log/index.js';
import type { ResponseBody } from '../src/protocol/index.js';
import { tempDir } from './support/temp.js';
import { freePorts, until } from './support/ports.js';

const SPEC = '1@10.0.0.1:9101,2@10.0.0.2:9102,3@10.0.0.3:9103';
const INTERVAL = 100;
const SESSION = 500;

function recorder(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const put = (message: string) => void lines.push(message);
  return { lines, debug: () => {}, info: put, warn: put, error: put };
}

/** Three nodes in memory: a heartbeat reaches a node that is up, else fails at once. */
function memoryCluster() {
  const scheduler = new ManualScheduler();
  const nodes = new Map<number, ClusterNode>();
  const stores = new Map<number, ControllerEpochStore>();
  const logs = new Map<number, string[]>();
  const transport = (): PeerTransport => ({
    heartbeat: (peer, request) => {
      const target = nodes.get(peer.id);
      return target === undefined
        ? Promise.reject(new Error(`broker ${peer.id} is down`))
        : Promise.resolve(target.receiveHeartbeat(request));
    },
    close: async () => {},
  });
  const up = (id: number) => {
    const logger = recorder();
    logs.set(id, logger.lines);
    if (!stores.has(id)) stores.set(id, memoryEpochStore());
    const config = clusterConfig({
      brokerId: id,
      cluster: SPEC,
      'broker.heartbeat.interval.ms': INTERVAL,
      'broker.session.timeout.ms': SESSION,
    });
    const node = new ClusterNode({
      config,
      scheduler,
      logger,
      transport: transport(),
      epochStore: stores.get(id),
    });
    nodes.set(id, node);
    node.start();
    return node;
  };
  const down = async (id: number) => {
    await nodes.get(id)?.close();
    nodes.delete(id);
  };
  /** Moves time in heartbeat steps, letting the answers arrive after each. */
  const advance = async (ms: number) => {
    for (let t = 0; t < ms; t += INTERVAL / 4) {
      scheduler.advance(INTERVAL / 4);
      for (let i = 0; i < 5; i++) await Promise.resolve();
    }
  };
  const view = () => [...nodes.values()].map((n) => n.state());
  return { nodes, stores, logs, up, down, advance, view };
}

describe('ClusterNode, in memory', () => {
  it('all agree on the lowest id as the controller, in epoch 1', async () => {
    const c = memoryCluster();
    for (const id of [1, 2, 3]) c.up(id);
    await c.advance(INTERVAL);
    for (const s of c.view()) {
      expect(s).toMatchObject({ controllerId: 1, controllerEpoch: 1, liveBrokerIds: [1, 2, 3] });
      expect(s.isController).toBe(s.brokerId === 1);
    }
    expect(c.logs.get(1)).toContain('broker 1 is now the controller (epoch 1)');
    expect(c.logs.get(3)).toEqual(
      expect.arrayContaining(['broker 1 is alive', 'broker 1 is now the controller (epoch 1)']),
    );
  });

  it('the next lowest takes over after a session with a higher epoch; the lowest takes it back on return', async () => {
    const c = memoryCluster();
    for (const id of [1, 2, 3]) c.up(id);
    await c.advance(INTERVAL);
    await c.down(1);
    await c.advance(SESSION - INTERVAL);
    expect(c.nodes.get(2)!.state().controllerId).toBe(1); // not yet: its session has not run out
    await c.advance(2 * INTERVAL);
    for (const s of c.view())
      expect(s).toMatchObject({ controllerId: 2, controllerEpoch: 2, liveBrokerIds: [2, 3] });
    expect(c.logs.get(2)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^broker 1 missed its heartbeats for \d+ ms: dead$/),
        'broker 2 is now the controller (epoch 2)',
      ]),
    );
    expect(c.logs.get(3)).toContain('broker 2 is now the controller (epoch 2)');

    // Broker 1 returns with its own memory of epoch 1; it learns of epoch 2 before it claims.
    c.up(1);
    await c.advance(INTERVAL);
    for (const s of c.view())
      expect(s).toMatchObject({ controllerId: 1, controllerEpoch: 3, liveBrokerIds: [1, 2, 3] });
    expect(c.nodes.get(2)!.state().isController).toBe(false);
    expect(c.logs.get(2)).toContain(
      'broker 2 is no longer the controller: broker 1 is live and has a lower id',
    );
    expect(c.stores.get(1)!.load()).toBe(3);
  });

  it('a broker that restarts alone never reuses an epoch it has seen', async () => {
    const c = memoryCluster();
    c.stores.set(1, memoryEpochStore(7));
    c.up(1);
    await c.advance(INTERVAL);
    expect(c.nodes.get(1)!.state()).toMatchObject({ controllerId: 1, controllerEpoch: 8 });
    expect(c.stores.get(1)!.load()).toBe(8);
  });

  it('a broker started after a lower one waits for it for a session', async () => {
    const c = memoryCluster();
    c.up(2);
    await c.advance(SESSION - INTERVAL);
    expect(c.nodes.get(2)!.state()).toMatchObject({ controllerId: 1, isController: false });
    await c.advance(2 * INTERVAL);
    expect(c.nodes.get(2)!.state()).toMatchObject({ controllerId: 2, controllerEpoch: 1 });
  });

  it('a lower id heard before it has claimed the role is not taken for a controller in epoch 0', async () => {
    const c = memoryCluster();
    c.up(2);
    c.up(1); // its first heartbeat reaches broker 2 carrying epoch 0, before it claims
    await c.advance(INTERVAL);
    expect(c.nodes.get(2)!.state()).toMatchObject({ controllerId: 1, controllerEpoch: 1 });
    expect(c.logs.get(2)!.filter((line) => line.includes('is now the controller'))).toEqual([
      'broker 1 is now the controller (epoch 1)',
    ]);
  });

  it('refuses a heartbeat from a broker outside its list, and does not count it', () => {
    const c = memoryCluster();
    const node = c.up(2);
    for (const brokerId of [9, 2]) {
      const answer = node.receiveHeartbeat({ brokerId, controllerEpoch: 5, metadataOffset: 0 });
      expect(answer).toMatchObject({ errorCode: 42, brokerId: 2 });
    }
    expect(node.state().liveBrokerIds).toEqual([2]);
    expect(node.state().highestControllerEpoch).toBe(0);
  });
});

/** The broker's Metadata answer, once `ok` holds of it. */
async function metadataOf(
  broker: RunningBroker,
  ok: (m: ResponseBody<'Metadata'>) => boolean,
): Promise<ResponseBody<'Metadata'>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const metadata = await broker.broker.call('Metadata', { topics: [] });
    if (ok(metadata)) return metadata;
    if (Date.now() > deadline) throw new Error('timed out waiting for Metadata to follow');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('brokers in a cluster, over TCP', () => {
  const config = { 'broker.heartbeat.interval.ms': 100, 'broker.session.timeout.ms': 1000 };

  it('agree on the controller, fail over to the next id, and take it back; Metadata follows', async () => {
    const ports = await freePorts(3);
    const cluster = ports.map((port, i) => `${i + 1}@127.0.0.1:${port}`).join(',');
    const dirs = [1, 2, 3].map((id) => tempDir(`samsa-cluster-${id}-`));
    const start = (id: number) =>
      startBroker({ brokerId: id, cluster, dataDir: dirs[id - 1], config });
    const brokers: (RunningBroker | undefined)[] = await Promise.all([1, 2, 3].map(start));
    try {
      expect(brokers.map((b) => b!.port)).toEqual(ports); // each listens where its entry says
      const agreed = (controllerId: number, live: number[]) => () => {
        const states = brokers.flatMap((b) => (b === undefined ? [] : [b.broker.cluster!.state()]));
        const ok = states.every(
          (s) =>
            s.controllerId === controllerId &&
            s.controllerEpoch > 0 &&
            s.controllerEpoch === states[0]!.controllerEpoch &&
            s.liveBrokerIds.join() === live.join(),
        );
        return ok ? states[0]!.controllerEpoch : undefined;
      };
      const first = await until('broker 1 as the controller', agreed(1, [1, 2, 3]));

      // Metadata answers from the image, which follows once the controller has pushed it.
      const metadata = await metadataOf(brokers[2]!, (m) => m.brokers.length === 3);
      expect(metadata.controllerId).toBe(1);
      expect(metadata.brokers).toEqual(
        ports.map((port, i) => ({ nodeId: i + 1, host: '127.0.0.1', port, rack: null })),
      );

      await brokers[0]!.close();
      brokers[0] = undefined;
      const second = await until('broker 2 as the controller', agreed(2, [2, 3]));
      expect(second).toBeGreaterThan(first);
      const after = await metadataOf(brokers[2]!, (m) => m.controllerId === 2);
      expect(after.controllerId).toBe(2);
      expect(after.brokers.map((b) => b.nodeId)).toEqual([2, 3]);

      brokers[0] = await start(1);
      const third = await until('broker 1 back as the controller', agreed(1, [1, 2, 3]));
      expect(third).toBeGreaterThan(second);
    } finally {
      await Promise.all(brokers.map((b) => b?.close()));
    }
  });

  it('refuses a data dir written by another broker id', async () => {
    const dataDir = tempDir('samsa-cluster-id-');
    const [port] = await freePorts(1);
    await (await startBroker({ dataDir, brokerId: 1 })).close();
    const started = startBroker({ dataDir, brokerId: 2, cluster: `2@127.0.0.1:${port}` });
    await expect(started).rejects.toBeInstanceOf(InconsistentBrokerIdError);
    await expect(started).rejects.toThrow(
      /broker\.id=1, but this broker is configured as broker 2/,
    );
  });

  it('a broker without --cluster answers a heartbeat INVALID_REQUEST', async () => {
    const broker = await startBroker({ logLevel: 'error' });
    try {
      const answer = await broker.broker.call('BrokerHeartbeat', {
        brokerId: 5,
        controllerEpoch: 1,
        metadataOffset: 0,
      });
      expect(answer).toEqual({ errorCode: 42, brokerId: 0, controllerEpoch: 0, metadataOffset: 0 });
    } finally {
      await broker.close();
    }
  });
});
