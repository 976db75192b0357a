/**
 * Issue 6's promise, with processes: a record acknowledged with acks=all is
 * never lost when a broker dies. Three brokers, a topic of three partitions
 * with three replicas and min.insync.replicas=2; a producer writes numbered
 * records while, round after round, the leader of a partition is killed
 * with SIGKILL and later started again. At the end every acknowledged record
 * is found, each key's records in the order they were sent; duplicates from
 * retries are counted (the producer is not idempotent).
 *
 * The same run with acks=1 is reported, not asserted: a leader killed after
 * acknowledging and before its followers fetched loses those records, and
 * whether that happens depends on timing.
 */
import { afterEach, expect, it } from 'vitest';
import { Admin } from '../src/client/index.js';
import { LocalCluster } from '../src/cluster/local-cluster.js';
import { runDurabilityWorkload } from './support/durability.js';

const SETTINGS = {
  'broker.heartbeat.interval.ms': 100,
  'broker.session.timeout.ms': 1_500,
  'replica.lag.time.max.ms': 3_000,
  'default.replication.factor': 3,
  'min.insync.replicas': 2,
};

let cluster: LocalCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

async function start(topic: string) {
  cluster = await LocalCluster.start({ brokers: 3, config: SETTINGS, logLevel: 'info' });
  const admin = new Admin({ brokers: cluster.bootstrap });
  await admin.createTopic({ name: topic, numPartitions: 3, replicationFactor: 3 });
  await admin.close();
  return cluster;
}

it('acks=all: nothing acknowledged is lost across three leader kills', async () => {
  const c = await start('numbers');
  const report = await runDurabilityWorkload(c, {
    topic: 'numbers',
    partitions: 3,
    acks: 'all',
    rounds: 3,
    step: 300,
  });
  console.log(`acks=all: ${JSON.stringify({ ...report, missing: report.missing.length })}`);
  expect(report.killed).toHaveLength(3);
  expect(report.acked).toBeGreaterThanOrEqual(3 * 2 * 300);
  expect(report.missing).toEqual([]);
  expect(report.outOfOrder).toBe(0);
}, 180_000);

it('acks=1: the same rounds, and what was lost is reported', async () => {
  const c = await start('numbers-acks1');
  const report = await runDurabilityWorkload(c, {
    topic: 'numbers-acks1',
    partitions: 3,
    acks: 1,
    rounds: 3,
    step: 300,
  });
  console.log(
    `acks=1: ${report.acked} acknowledged, ${report.missing.length} of them lost ` +
      `(${report.duplicates} duplicates, ${report.outOfOrder} out of order)`,
  );
  expect(report.killed).toHaveLength(3);
  expect(report.found).toBeGreaterThan(0);
}, 180_000);
