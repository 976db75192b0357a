/**
 * `samsa broker`: runs a broker until SIGINT or SIGTERM, then shuts down
 * gracefully (stop accepting, answer what is in flight, flush and close the
 * logs) and exits 0. `--port 0` takes any free port; the first line on stdout
 * says which (`samsa broker listening on 127.0.0.1:PORT`), so scripts and
 * tests can read it.
 *
 * With `--id N --cluster 1@host:port,2@host:port,...` it is broker N of a
 * cluster: it listens where its entry says (unless --host or --port say
 * otherwise) and heartbeats with the others (docs/cluster.md). A data dir
 * written by another broker id is refused (exit 2).
 */
import { Option, type Command } from 'commander';
import { DEFAULT_BROKER_SETTINGS, startBroker } from '../../src/broker/index.js';
import { parseClusterBrokers } from '../../src/cluster/index.js';
import { type LogLevel, consoleLogger } from '../../src/log/index.js';
import { type CommandModule, UsageError } from '../command.js';
import { collectConfig } from './log-pass.js';

export interface BrokerCommandOptions {
  dataDir: string;
  host?: string;
  port?: string;
  logLevel: string;
  config?: string[];
  id?: string;
  cluster?: string;
  /** Print the "Try next" lines (`--no-hints`: no; `samsa cluster` says them once for all). */
  hints?: boolean;
  /** Stop, as on SIGTERM, when stdin closes: `samsa cluster` died without stopping its brokers. */
  stopWithParent?: boolean;
}

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_PORT = '9092';

export const broker: CommandModule = {
  register(program: Command): void {
    program
      .command('broker')
      .description('run a broker: topics and partitions over TCP, until Ctrl-C')
      .option('--data-dir <dir>', 'where topics live (created if missing)', './samsa-data')
      .option(
        '--host <host>',
        `the address to listen on (default: ${DEFAULT_HOST}, or the --cluster entry)`,
      )
      .option(
        '--port <port>',
        `the port to listen on; 0 for any free port (default: ${DEFAULT_PORT}, or the --cluster entry)`,
      )
      .option(
        '--id <id>',
        "this broker's id (Kafka's broker.id); must match the data dir's meta.properties",
      )
      .option(
        '--cluster <brokers>',
        'every broker of the cluster, this one included: id@host:port,id@host:port,...',
      )
      .option('--log-level <level>', 'debug, info, warn or error', 'info')
      .option(
        '--config <key=value>',
        "a broker config, Kafka's names (repeat for more), e.g. num.partitions=3 log.retention.ms=60000",
        collectConfig,
      )
      .addOption(new Option('--no-hints', 'do not print what to try next').hideHelp())
      .addOption(new Option('--stop-with-parent', 'stop when stdin closes').hideHelp())
      .action(async (options: BrokerCommandOptions, command: Command) => {
        const siblings = new Set(command.parent?.commands.map((c) => c.name()) ?? []);
        process.exitCode = await runBroker(options, siblings);
      });
  },
};

export async function runBroker(
  options: BrokerCommandOptions,
  commands: ReadonlySet<string> = new Set(),
): Promise<number> {
  const { brokerId, cluster } = clusterOptions(options);
  const own =
    cluster === undefined ? undefined : parseClusterBrokers(cluster).find((b) => b.id === brokerId);
  if (cluster !== undefined && own === undefined)
    throw new UsageError(`--id ${brokerId} is not in the --cluster list ${cluster}`);
  const portText = options.port ?? (own === undefined ? DEFAULT_PORT : String(own.port));
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535)
    throw new UsageError(`--port wants a port number (0 to 65535), got '${portText}'`);
  const level = options.logLevel as LogLevel;
  if (!LEVELS.includes(level))
    throw new UsageError(
      `--log-level wants one of ${LEVELS.join(', ')}, got '${options.logLevel}'`,
    );
  const config: Record<string, string> = {};
  for (const pair of options.config ?? []) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`--config wants key=value, got '${pair}'`);
    config[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  // Listening for signals before anything is printed (or even started): a
  // SIGTERM that arrived before a listener would end the process at once.
  const stopped = untilStopped(options.stopWithParent === true);
  const running = await startBroker({
    dataDir: options.dataDir,
    host: options.host ?? own?.host ?? DEFAULT_HOST,
    port,
    brokerId,
    cluster,
    // A broker people run gets Kafka's group defaults (a 3 s initial rebalance delay, sessions of
    // 6 s or more); startBroker's are for test suites.
    config: {
      'group.initial.rebalance.delay.ms':
        DEFAULT_BROKER_SETTINGS['group.initial.rebalance.delay.ms'],
      'group.min.session.timeout.ms': DEFAULT_BROKER_SETTINGS['group.min.session.timeout.ms'],
      ...config,
    },
    logger: consoleLogger(level),
  }).catch((err: unknown) => {
    process.stdin.pause(); // --stop-with-parent resumed it: let a failed start exit
    throw err;
  });
  const address = `${running.host}:${running.port}`;
  const out = (line = '') => process.stdout.write(line + '\n');
  const who = cluster === undefined ? '' : ` (broker ${brokerId} of ${cluster})`;
  out(`samsa broker listening on ${address}${who} (data dir ${running.dataDir})`);
  if (options.hints !== false) {
    out();
    out('Try next, from another terminal:');
    for (const line of nextSteps(address, running.dataDir, commands)) out(`  ${line}`);
    out('Ctrl-C stops the broker gracefully.');
  }
  await stopped;
  process.stdin.pause();
  await running.close();
  out('samsa broker stopped');
  return 0;
}

/** Resolves on SIGINT, SIGTERM or (with --stop-with-parent) the end of stdin, saying which on stderr. */
function untilStopped(withParent: boolean): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (why: string) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.stdin.off('end', parentGone);
      process.stderr.write(`${why}: shutting down\n`);
      resolve();
    };
    const parentGone = () => stop('stdin closed (samsa cluster is gone)');
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    if (withParent) {
      process.stdin.on('end', parentGone);
      process.stdin.resume();
    }
  });
}

/** `--id` and `--cluster`: both or neither (an id alone is `broker.id`, as with --config). */
function clusterOptions(options: BrokerCommandOptions): { brokerId?: number; cluster?: string } {
  let brokerId: number | undefined;
  if (options.id !== undefined) {
    brokerId = Number(options.id);
    if (!/^\d+$/.test(options.id) || !Number.isSafeInteger(brokerId) || brokerId > 2 ** 31 - 1)
      throw new UsageError(`--id wants a broker id (an int32 ≥ 0), got '${options.id}'`);
  }
  if (options.cluster !== undefined && brokerId === undefined)
    throw new UsageError('--cluster needs --id: which broker of the list is this one?');
  if (options.cluster !== undefined) parseClusterBrokers(options.cluster); // a bad list: its own message
  return { brokerId, cluster: options.cluster };
}

/** What to try next: only the commands this samsa has. */
function nextSteps(address: string, dataDir: string, commands: ReadonlySet<string>): string[] {
  const broker = address === '127.0.0.1:9092' ? '' : ` --broker ${address}`;
  const steps: [string, string][] = [
    ['topics', `npx samsa topics create page-views --partitions 3${broker}`],
    ['produce', `echo hello | npx samsa produce --topic page-views${broker}`],
    ['consume', `npx samsa consume --topic page-views --from-beginning${broker}`],
    [
      'groups',
      `npx samsa consume --topic page-views --group viewers${broker}   (in two terminals; then: npx samsa groups describe viewers${broker})`,
    ],
    ['dump-log', `npx samsa dump-log ${dataDir}/page-views-0`],
    [
      'cluster',
      'npx samsa cluster --brokers 3   (a cluster of three on ports 9101-9103: replicate, then kill a leader)',
    ],
  ];
  const lines = steps.filter(([name]) => commands.has(name)).map(([, line]) => line);
  lines.push(`import { startBroker } from 'samsa' for one inside a test suite`);
  lines.push(`any client of the native protocol (docs/protocol.md) on ${address}`);
  return lines;
}
