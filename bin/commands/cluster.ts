/**
 * `samsa cluster --brokers 3`: a whole cluster on this machine in one
 * command. It starts one `samsa broker --id i --cluster ...` child process
 * per broker (ids 1..N on consecutive ports from --base-port, data in
 * <data-dir>/broker-i), prefixes each line they print with `[broker i]`,
 * and says what to try next, with each broker's pid, so that one can be
 * killed and the others watched as they notice.
 *
 * A child that dies is reported and the others keep running: that is the
 * point. Ctrl-C (SIGINT) or SIGTERM sends SIGTERM to every child, waits
 * for them to stop gracefully and exits 0; a second one kills them.
 *
 * The children run in their own process groups, so that a terminal's
 * Ctrl-C reaches this process alone and each broker gets one SIGTERM, and
 * with `--stop-with-parent`: should this process die without stopping
 * them, their stdin closes and they stop.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { formatClusterBrokers } from '../../src/cluster/index.js';
import { type CommandModule, UsageError } from '../command.js';
import { collectConfig } from './log-pass.js';

interface ClusterCommandOptions {
  brokers: string;
  basePort: string;
  dataDir: string;
  host: string;
  logLevel: string;
  config?: string[];
}

/** A child that ignores SIGTERM this long is killed. */
const STOP_TIMEOUT_MS = 30_000;

export const cluster: CommandModule = {
  register(program: Command): void {
    program
      .command('cluster')
      .description('run a cluster of brokers on this machine, one process each, until Ctrl-C')
      .option('--brokers <n>', 'how many brokers (ids 1 to n)', '3')
      .option('--base-port <port>', 'broker i listens on base-port + i - 1', '9101')
      .option('--data-dir <dir>', 'broker i keeps its data in <dir>/broker-i', './samsa-cluster')
      .option('--host <host>', 'the address every broker listens on', '127.0.0.1')
      .option('--log-level <level>', "the brokers' log level: debug, info, warn or error", 'info')
      .option(
        '--config <key=value>',
        'a config for every broker (repeat for more), e.g. broker.session.timeout.ms=3000',
        collectConfig,
      )
      .action(async (options: ClusterCommandOptions) => {
        process.exitCode = await runCluster(options);
      });
  },
};

interface Member {
  readonly id: number;
  readonly address: string;
  readonly child: ChildProcess;
  listening: boolean;
  exited: boolean;
}

export async function runCluster(options: ClusterCommandOptions): Promise<number> {
  const count = Number(options.brokers);
  if (!/^\d+$/.test(options.brokers) || count < 1 || count > 100)
    throw new UsageError(`--brokers wants a number from 1 to 100, got '${options.brokers}'`);
  const basePort = Number(options.basePort);
  if (!/^\d+$/.test(options.basePort) || basePort < 1 || basePort + count - 1 > 65535)
    throw new UsageError(
      `--base-port wants a port such that base-port + ${count - 1} ≤ 65535, got '${options.basePort}'`,
    );
  const endpoints = Array.from({ length: count }, (_, i) => ({
    id: i + 1,
    host: options.host,
    port: basePort + i,
  }));
  const spec = formatClusterBrokers(endpoints);
  const dataDir = resolve(options.dataDir);
  const out = (line = '') => process.stdout.write(`${line}\n`);
  out(`samsa cluster: starting ${count} broker(s), --cluster ${spec}, data in ${dataDir}`);

  const members = endpoints.map((e): Member => {
    const args = [samsaScript(), 'broker', '--id', String(e.id), '--cluster', spec];
    args.push('--data-dir', join(dataDir, `broker-${e.id}`), '--log-level', options.logLevel);
    args.push('--no-hints', '--stop-with-parent');
    for (const pair of options.config ?? []) args.push('--config', pair);
    const child = spawn(process.execPath, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    child.on('error', (err) => out(`[cluster] broker ${e.id}: ${err.message}`));
    const member: Member = {
      id: e.id,
      address: `${e.host}:${e.port}`,
      child,
      listening: false,
      exited: false,
    };
    out(
      `[cluster] broker ${e.id}: pid ${child.pid}, ${member.address}, data dir ${dataDir}/broker-${e.id}`,
    );
    return member;
  });

  return new Promise<number>((finish) => {
    let stopping = false;
    let killTimer: NodeJS.Timeout | undefined;
    const live = () => members.filter((m) => !m.exited);
    const done = (status: number) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      clearTimeout(killTimer);
      finish(status);
    };
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        out(`[cluster] ${signal} again: killing the brokers still running`);
        for (const m of live()) m.child.kill('SIGKILL');
        return;
      }
      stopping = true;
      out(`[cluster] ${signal}: stopping ${live().length} broker(s) (SIGTERM to each)`);
      for (const m of live()) m.child.kill('SIGTERM');
      killTimer = setTimeout(() => {
        for (const m of live()) {
          out(`[cluster] broker ${m.id} did not stop within ${STOP_TIMEOUT_MS} ms: SIGKILL`);
          m.child.kill('SIGKILL');
        }
      }, STOP_TIMEOUT_MS);
      if (live().length === 0) done(0);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);

    for (const m of members) {
      prefixLines(m, 'stdout', (line) => {
        if (!m.listening && line.startsWith('samsa broker listening on')) {
          m.listening = true;
          if (members.every((x) => x.listening)) printNextSteps(members, out);
        }
      });
      prefixLines(m, 'stderr');
      m.child.once('exit', (code, signal) => {
        m.exited = true;
        const how = signal !== null ? `was killed by ${signal}` : `exited with status ${code}`;
        if (stopping) {
          out(`[cluster] broker ${m.id} stopped${code === 0 ? '' : ` (it ${how})`}`);
          if (live().length === 0) {
            out('samsa cluster stopped');
            done(0);
          }
          return;
        }
        const left = live();
        if (left.length === 0) {
          out(`[cluster] broker ${m.id} (pid ${m.child.pid}) ${how}; no broker is left running`);
          done(1);
          return;
        }
        out(
          `[cluster] broker ${m.id} (pid ${m.child.pid}) ${how}; ` +
            `broker(s) ${left.map((x) => x.id).join(', ')} keep running`,
        );
      });
    }
  });
}

/** Copies a child's lines to ours, each prefixed with its broker id. */
function prefixLines(
  m: Member,
  stream: 'stdout' | 'stderr',
  onLine?: (line: string) => void,
): void {
  const source = m.child[stream];
  if (source === null) return;
  const target = stream === 'stdout' ? process.stdout : process.stderr;
  createInterface({ input: source, crlfDelay: Infinity }).on('line', (line) => {
    target.write(`[broker ${m.id}] ${line}\n`);
    onLine?.(line);
  });
}

function printNextSteps(members: readonly Member[], out: (line?: string) => void): void {
  const first = members[0]!;
  const last = members[members.length - 1]!;
  const broker = `--broker ${first.address}`;
  out();
  out(`[cluster] all ${members.length} brokers are listening. The controller is the live broker`);
  out('[cluster] with the lowest id; each broker logs who it is ("is now the controller").');
  out('Try next, from another terminal:');
  const rf = Math.min(3, members.length);
  out(`  npx samsa topics create page-views --partitions 3 --replication-factor ${rf} ${broker}`);
  out(`  npx samsa topics describe page-views ${broker}`);
  if (members.length > 1) {
    out(
      `  kill ${first.child.pid}      # stop broker ${first.id}, the controller: the others name a new one`,
    );
    out(`  kill -9 ${last.child.pid}   # or kill broker ${last.id} hard; the others keep running`);
  }
  out('Ctrl-C stops every broker gracefully.');
}

/** The `samsa` script to run the brokers with: this one's, dist/bin/samsa.js. */
function samsaScript(): string {
  const beside = fileURLToPath(new URL('../samsa.js', import.meta.url));
  return existsSync(beside) ? beside : process.argv[1]!;
}
