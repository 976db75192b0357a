/**
 * LocalCluster: real broker processes that can be killed and started again,
 * for the tests, benchmarks and walkthroughs that need a broker to die.
 */
import { existsSync } from 'node:fs';
import { afterEach, expect, it } from 'vitest';
import { LocalCluster } from '../src/cluster/local-cluster.js';
import * as samsa from '../src/index.js';

let cluster: LocalCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

it('starts brokers that agree on a controller; one killed and restarted rejoins on its port', async () => {
  cluster = await LocalCluster.start({
    brokers: 3,
    config: { 'broker.heartbeat.interval.ms': 100, 'broker.session.timeout.ms': 1000 },
  });
  expect(cluster.bootstrap.split(',')).toHaveLength(3);
  await cluster.waitFor(/broker 1 is now the controller/, { brokerId: 3 });
  const pid = cluster.pid(2);
  await cluster.kill(2);
  expect(cluster.isRunning(2)).toBe(false);
  await cluster.waitFor(/broker 2 missed its heartbeats/, { brokerId: 1, timeoutMs: 30_000 });
  const back = cluster.waitFor(/broker 2 is alive/, { brokerId: 1, fromNow: true });
  await cluster.restart(2);
  expect(cluster.isRunning(2)).toBe(true);
  expect(cluster.pid(2)).not.toBe(pid);
  await back;
  const dir = cluster.dataDir;
  await cluster.close();
  cluster = undefined;
  expect(existsSync(dir)).toBe(false); // its own temporary directory is removed
});

it("is exported from the package's entry point, as the README imports it", () => {
  expect(samsa.LocalCluster).toBe(LocalCluster);
});
