/**
 * The embedded broker: a core and a TCP server in this process, in
 * milliseconds, for a test suite or a script.
 *
 *   const broker = await startBroker({ port: 0 });
 *   // clients connect to broker.host:broker.port; in-process code may use broker.broker
 *   await broker.close();
 *
 * Without `dataDir` it makes a fresh temporary directory and removes it on close.
 *
 * One broker of a cluster (docs/cluster.md):
 *
 *   await startBroker({ brokerId: 2, cluster: '1@127.0.0.1:9101,2@127.0.0.1:9102,3@127.0.0.1:9103' });
 *
 * listens where its own entry says, unless `host` or `port` say otherwise.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Clock, type LogLevel, consoleLogger, type Logger } from '../log/index.js';
import type { Timers } from './background.js';
import { parseClusterBrokers } from '../cluster/cluster-config.js';
import { Broker } from './broker.js';
import type { BrokerConfigInput } from './config.js';
import type { Scheduler } from './group/index.js';
import { BrokerServer } from './server.js';

export interface StartBrokerOptions {
  /** Where the topics live; default a fresh temporary directory, removed on close. */
  dataDir?: string;
  /** Default 127.0.0.1, or this broker's entry in `cluster`. */
  host?: string;
  /** Default 0: any free port (read it from the result); or this broker's entry in `cluster`. */
  port?: number;
  /** Default 'warn' (an embedded broker stays quiet); ignored when `logger` is given. */
  logLevel?: LogLevel;
  logger?: Logger;
  /**
   * Kafka's names, e.g. { 'num.partitions': 3, 'log.retention.ms': 60000 }.
   * Unlike a standalone broker, the embedded one defaults
   * `group.initial.rebalance.delay.ms` to 0 (a test's group forms at once)
   * and `group.min.session.timeout.ms` to 10 (tests may use short sessions);
   * both can be set here as usual.
   */
  config?: BrokerConfigInput;
  clock?: Clock;
  timers?: Timers;
  /** The group coordinator's and the cluster's timers (e.g. a `ManualScheduler` to expire sessions without waiting). */
  scheduler?: Scheduler;
  /** This broker's id (Kafka's `broker.id`); default `config['broker.id']`, else 0. */
  brokerId?: number;
  /**
   * The cluster, `id@host:port,...` with this broker among them (heartbeat
   * settings in `config`: `broker.heartbeat.interval.ms`,
   * `broker.session.timeout.ms`). Absent: a cluster of one.
   */
  cluster?: string;
  /** How long `close` waits for connections to finish what is in flight. Default 10000. */
  drainTimeoutMs?: number;
}

/** The group settings an embedded broker changes from Kafka's defaults (see `config`). */
export const EMBEDDED_GROUP_DEFAULTS: Readonly<BrokerConfigInput> = Object.freeze({
  'group.initial.rebalance.delay.ms': 0,
  'group.min.session.timeout.ms': 10,
});

export interface RunningBroker {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  /** The core, for in-process use (`broker.call('CreateTopics', ...)`). */
  readonly broker: Broker;
  /** Stops accepting, finishes in-flight requests, flushes and closes the logs (and removes a temp dir). */
  close(): Promise<void>;
}

export async function startBroker(options: StartBrokerOptions = {}): Promise<RunningBroker> {
  const temporary = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'samsa-broker-'));
  const logger = options.logger ?? consoleLogger(options.logLevel ?? 'warn');
  const cleanUp = () => {
    if (temporary) rmSync(dataDir, { recursive: true, force: true });
  };
  let broker: Broker;
  let server: BrokerServer;
  try {
    broker = await Broker.open({
      dataDir,
      config: { ...EMBEDDED_GROUP_DEFAULTS, ...options.config },
      logger,
      clock: options.clock,
      timers: options.timers,
      scheduler: options.scheduler,
      brokerId: options.brokerId,
      cluster: options.cluster,
    });
  } catch (err) {
    cleanUp();
    throw err;
  }
  try {
    const own = ownEntry(broker.meta.brokerId, options.cluster);
    server = await BrokerServer.listen(broker, {
      host: options.host ?? own?.host,
      port: options.port ?? own?.port ?? 0,
      drainTimeoutMs: options.drainTimeoutMs,
    });
  } catch (err) {
    await broker.close();
    cleanUp();
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    host: server.host,
    port: server.port,
    dataDir,
    broker,
    close: () => (closing ??= server.close().finally(cleanUp)),
  };
}

/** This broker's entry in the cluster list (Broker.open has checked it is there). */
function ownEntry(brokerId: number, cluster: string | undefined) {
  return cluster === undefined
    ? undefined
    : parseClusterBrokers(cluster).find((b) => b.id === brokerId);
}
