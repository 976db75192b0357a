/**
 * A cluster of real broker processes on this machine, from code: what
 * `samsa cluster` runs from the command line, for tests, benchmarks and the
 * book's walkthroughs that kill a broker on purpose and start it again.
 *
 *   const cluster = await LocalCluster.start({ brokers: 3 });
 *   cluster.bootstrap;              // '127.0.0.1:41001,127.0.0.1:41002,...'
 *   await cluster.kill(2);          // SIGKILL, waits for the exit
 *   await cluster.restart(2);       // same id, port and data dir
 *   await cluster.close();          // SIGTERM to every broker still running
 *
 * Each broker is `samsa broker --id i --cluster <all> --data-dir
 * <dataDir>/broker-i`, on a port found free at start (ports are fixed for
 * the cluster's life: every broker's --cluster list names them). Their
 * output is kept (the last lines per broker) and can be waited on.
 *
 * `start` resolves once the brokers see each other (`ready`), so a topic
 * created next can have replicas on all of them.
 *
 * Invariant: a broker is either running (a child process that printed
 * "listening on") or stopped; `kill`, `stop` and `restart` resolve only
 * once that is so.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Connection } from '../client/connection.js';
import { formatClusterBrokers } from './cluster-config.js';

export interface LocalClusterOptions {
  /** How many brokers, ids 1..n. Default 3. */
  brokers?: number;
  /** Default: a fresh temporary directory, removed by close(). */
  dataDir?: string;
  host?: string;
  /** Broker settings for every broker (`--config key=value`). */
  config?: Readonly<Record<string, string | number | boolean>>;
  /** The brokers' `--log-level`. Default 'info'. */
  logLevel?: string;
  /** Every line a broker prints, as it comes. */
  onLine?: (brokerId: number, line: string) => void;
  /** How long a broker may take to listen. Default 30 s. */
  startTimeoutMs?: number;
}

interface Member {
  readonly id: number;
  readonly port: number;
  child: ChildProcess | undefined;
  exited: Promise<void>;
  lines: string[];
}

const KEPT_LINES = 2000;

export class LocalCluster {
  private readonly waiters = new Set<{ test: (id: number, line: string) => boolean }>();

  private constructor(
    readonly dataDir: string,
    readonly host: string,
    private readonly members: Member[],
    private readonly options: LocalClusterOptions,
    private readonly ownsDataDir: boolean,
  ) {}

  static async start(options: LocalClusterOptions = {}): Promise<LocalCluster> {
    const count = options.brokers ?? 3;
    if (!Number.isInteger(count) || count < 1) throw new TypeError('brokers must be ≥ 1');
    const host = options.host ?? '127.0.0.1';
    const ports = await freePorts(count, host);
    const ownsDataDir = options.dataDir === undefined;
    const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'samsa-local-cluster-'));
    const members = ports.map((port, i): Member => ({
      id: i + 1,
      port,
      child: undefined,
      exited: Promise.resolve(),
      lines: [],
    }));
    const cluster = new LocalCluster(dataDir, host, members, options, ownsDataDir);
    try {
      await Promise.all(members.map((m) => cluster.restart(m.id)));
      await cluster.ready(options.startTimeoutMs ?? 30_000);
    } catch (err) {
      await cluster.close();
      throw err;
    }
    return cluster;
  }

  /** Every broker's address, comma-separated: a client's `brokers`. */
  get bootstrap(): string {
    return this.members.map((m) => `${this.host}:${m.port}`).join(',');
  }

  get brokerIds(): number[] {
    return this.members.map((m) => m.id);
  }

  address(id: number): string {
    return `${this.host}:${this.member(id).port}`;
  }

  pid(id: number): number | undefined {
    return this.member(id).child?.pid;
  }

  isRunning(id: number): boolean {
    return this.member(id).child !== undefined;
  }

  /**
   * Resolves once every running broker's Metadata lists every running broker
   * as live and names a controller: the controller has heard from them all,
   * so a topic can be placed on any of them.
   */
  async ready(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const running = () => this.members.filter((m) => m.child !== undefined);
    const agreed = async (m: Member): Promise<boolean> => {
      const connection = new Connection(
        { host: this.host, port: m.port },
        { requestTimeoutMs: 2_000, connectTimeoutMs: 2_000 },
      );
      try {
        const answer = await connection.request('Metadata', { topics: [] });
        const live = new Set(answer.brokers.map((b) => b.nodeId));
        return answer.controllerId >= 0 && running().every((x) => live.has(x.id));
      } catch {
        return false;
      } finally {
        await connection.close();
      }
    };
    for (;;) {
      const answers = await Promise.all(running().map(agreed));
      if (answers.every(Boolean)) return;
      if (Date.now() > deadline)
        throw new Error(`the brokers did not all see each other within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** The lines broker `id` printed (the last 2000). */
  output(id: number): readonly string[] {
    return this.member(id).lines;
  }

  /** Sends `signal` (default SIGKILL) to broker `id` and waits for it to exit. */
  async kill(id: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const m = this.member(id);
    if (m.child === undefined) return;
    m.child.kill(signal);
    await m.exited;
  }

  /**
   * SIGSTOP: the process stays, but does nothing at all (no heartbeats, no
   * fetches) until `resume`: a broker frozen by a long GC pause or a full disk.
   */
  pause(id: number): void {
    this.member(id).child?.kill('SIGSTOP');
  }

  /** SIGCONT after `pause`. */
  resume(id: number): void {
    this.member(id).child?.kill('SIGCONT');
  }

  /** A graceful stop: SIGTERM, then SIGKILL after `timeoutMs`. */
  async stop(id: number, timeoutMs = 30_000): Promise<void> {
    const m = this.member(id);
    if (m.child === undefined) return;
    const child = m.child;
    child.kill('SIGCONT'); // a paused broker could not stop
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    try {
      await this.kill(id, 'SIGTERM');
    } finally {
      clearTimeout(timer);
    }
  }

  /** Starts broker `id` (again), on its port and data dir; resolves once it listens. */
  async restart(id: number): Promise<void> {
    const m = this.member(id);
    if (m.child !== undefined) throw new Error(`broker ${id} is running`);
    const spec = formatClusterBrokers(
      this.members.map((x) => ({ id: x.id, host: this.host, port: x.port })),
    );
    const args = [samsaScript(), 'broker', '--id', String(id), '--cluster', spec];
    args.push('--host', this.host, '--port', String(m.port));
    args.push('--data-dir', join(this.dataDir, `broker-${id}`));
    args.push('--log-level', this.options.logLevel ?? 'info', '--no-hints', '--stop-with-parent');
    for (const [key, value] of Object.entries(this.options.config ?? {}))
      args.push('--config', `${key}=${value}`);
    const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    m.child = child;
    m.exited = new Promise((resolve) =>
      child.once('exit', () => {
        if (m.child === child) m.child = undefined;
        resolve();
      }),
    );
    for (const stream of [child.stdout, child.stderr])
      createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) =>
        this.line(m, line),
      );
    const listening = this.waitFor(/listening on/, {
      brokerId: id,
      timeoutMs: this.options.startTimeoutMs ?? 30_000,
      fromNow: true,
    });
    const died = m.exited.then(() => {
      throw new Error(`broker ${id} exited while starting:\n${m.lines.slice(-20).join('\n')}`);
    });
    await Promise.race([listening, died]);
  }

  /**
   * Resolves with the first line (of broker `brokerId`, or any) matching
   * `pattern`: among the lines kept so far unless `fromNow`, else only new ones.
   */
  waitFor(
    pattern: RegExp,
    options: { brokerId?: number; timeoutMs?: number; fromNow?: boolean } = {},
  ): Promise<{ brokerId: number; match: RegExpMatchArray }> {
    const wanted = (id: number) => options.brokerId === undefined || options.brokerId === id;
    if (options.fromNow !== true) {
      for (const m of this.members) {
        if (!wanted(m.id)) continue;
        for (const line of m.lines) {
          const match = pattern.exec(line);
          if (match) return Promise.resolve({ brokerId: m.id, match });
        }
      }
    }
    const timeoutMs = options.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const waiter = {
        test: (id: number, line: string): boolean => {
          if (!wanted(id)) return false;
          const match = pattern.exec(line);
          if (!match) return false;
          clearTimeout(timer);
          resolve({ brokerId: id, match });
          return true;
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Stops every running broker gracefully; removes the data dir if it made it. */
  async close(): Promise<void> {
    await Promise.all(this.members.map((m) => this.stop(m.id)));
    if (this.ownsDataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }

  private line(m: Member, line: string): void {
    m.lines.push(line);
    if (m.lines.length > KEPT_LINES) m.lines.splice(0, m.lines.length - KEPT_LINES);
    this.options.onLine?.(m.id, line);
    for (const w of [...this.waiters]) if (w.test(m.id, line)) this.waiters.delete(w);
  }

  private member(id: number): Member {
    const m = this.members.find((x) => x.id === id);
    if (m === undefined) throw new RangeError(`no broker ${id} in this cluster`);
    return m;
  }
}

/** `count` ports free on `host` now (the kernel's choice, each held until all are found). */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, host, () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/** dist/bin/samsa.js, from dist/src/cluster/ or (under vitest) from src/cluster/. */
function samsaScript(): string {
  for (const relative of ['../../bin/samsa.js', '../../dist/bin/samsa.js']) {
    const path = fileURLToPath(new URL(relative, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error('samsa is not built: run `npm run build` first (dist/bin/samsa.js is missing)');
}
