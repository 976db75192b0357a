/**
 * `samsa broker`: runs a broker until SIGINT or SIGTERM, then shuts down
 * gracefully (stop accepting, answer what is in flight, flush and close the
 * logs) and exits 0. `--port 0` takes any free port; the first line on stdout
 * says which (`samsa broker listening on 127.0.0.1:PORT`), so scripts and
 * tests can read it.
 */
import type { Command } from 'commander';
import { DEFAULT_BROKER_SETTINGS, startBroker } from '../../src/broker/index.js';
import { type LogLevel, consoleLogger } from '../../src/log/index.js';
import { type CommandModule, UsageError } from '../command.js';
import { collectConfig } from './log-pass.js';

interface BrokerCommandOptions {
  dataDir: string;
  host: string;
  port: string;
  logLevel: string;
  config?: string[];
}

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

export const broker: CommandModule = {
  register(program: Command): void {
    program
      .command('broker')
      .description('run a broker: topics and partitions over TCP, until Ctrl-C')
      .option('--data-dir <dir>', 'where topics live (created if missing)', './samsa-data')
      .option('--host <host>', 'the address to listen on', '127.0.0.1')
      .option('--port <port>', 'the port to listen on; 0 for any free port', '9092')
      .option('--log-level <level>', 'debug, info, warn or error', 'info')
      .option(
        '--config <key=value>',
        "a broker config, Kafka's names (repeat for more), e.g. num.partitions=3 log.retention.ms=60000",
        collectConfig,
      )
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
  const port = Number(options.port);
  if (!/^\d+$/.test(options.port) || port > 65535)
    throw new UsageError(`--port wants a port number (0 to 65535), got '${options.port}'`);
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
  const running = await startBroker({
    dataDir: options.dataDir,
    host: options.host,
    port,
    // A broker people run gets Kafka's group defaults (a 3 s initial rebalance delay, sessions of
    // 6 s or more); startBroker's are for test suites.
    config: {
      'group.initial.rebalance.delay.ms':
        DEFAULT_BROKER_SETTINGS['group.initial.rebalance.delay.ms'],
      'group.min.session.timeout.ms': DEFAULT_BROKER_SETTINGS['group.min.session.timeout.ms'],
      ...config,
    },
    logger: consoleLogger(level),
  });
  const address = `${running.host}:${running.port}`;
  const out = (line = '') => process.stdout.write(line + '\n');
  out(`samsa broker listening on ${address} (data dir ${running.dataDir})`);
  out();
  out('Try next, from another terminal:');
  for (const line of nextSteps(address, running.dataDir, commands)) out(`  ${line}`);
  out('Ctrl-C stops the broker gracefully.');
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.stderr.write(`${signal}: shutting down\n`);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await running.close();
  out('samsa broker stopped');
  return 0;
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
  ];
  const lines = steps.filter(([name]) => commands.has(name)).map(([, line]) => line);
  lines.push(`import { startBroker } from 'samsa' for one inside a test suite`);
  lines.push(`any client of the native protocol (docs/protocol.md) on ${address}`);
  return lines;
}
