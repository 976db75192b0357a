/**
 * The other processes of `npm run bench -- produce|consume`: a `samsa broker`
 * and the plain TCP-to-file sink (client-sink.ts), each spawned with node,
 * read for the port it prints, and stopped with SIGTERM at the end; and the
 * client side of the sink baseline.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

export interface Spawned {
  child: ChildProcess;
  port: number;
  /** SIGTERM, then waits for the exit (SIGKILL after 10 s). */
  stop(): Promise<void>;
}

/** Spawns `node <args>` and resolves once a stdout line matches `ready` (group 1: the port). */
export async function spawnNode(args: string[], ready: RegExp, label: string): Promise<Spawned> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    stderr = (stderr + s).slice(-4000);
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const onData = (s: string): void => {
      out += s;
      const match = ready.exec(out);
      if (match) {
        child.stdout!.off('data', onData);
        child.stdout!.resume(); // keep draining, never block the child
        resolve(Number(match[1]));
      }
    };
    child.stdout!.setEncoding('utf8').on('data', onData);
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      reject(new Error(`${label} exited (${code ?? signal}) before it was ready:\n${stderr}`)),
    );
  });
  const exited = once(child, 'exit');
  return {
    child,
    port,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(timer);
    },
  };
}

export function startBrokerProcess(dataDir: string, nodeArgs: string[] = []): Promise<Spawned> {
  const samsa = fileURLToPath(new URL('../bin/samsa.js', import.meta.url));
  const args = [...nodeArgs, samsa, 'broker', '--port', '0', '--data-dir', dataDir];
  return spawnNode([...args, '--log-level', 'warn'], /listening on [^\s:]+:(\d+)/, 'samsa broker');
}

export function startSinkProcess(file: string): Promise<Spawned> {
  const sink = fileURLToPath(new URL('./client-sink.js', import.meta.url));
  return spawnNode([sink, file], /sink listening on (\d+)/, 'sink');
}

/**
 * CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat
 * (Linux; USER_HZ = 100); NaN where that cannot be read.
 */
export function processCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime: fields 14 and 15
  } catch {
    return NaN;
  }
}

// #region sink client
/** A connection to the sink that counts the bytes it has acknowledged. */
export class SinkClient {
  private acked = 0;
  private pending: Buffer = Buffer.alloc(0);
  private waiter: { bytes: number; resolve: () => void } | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
  }

  static async connect(port: number): Promise<SinkClient> {
    const socket = connect({ host: '127.0.0.1', port, noDelay: true });
    await once(socket, 'connect');
    return new SinkClient(socket);
  }

  /** Sends `chunks` keeping at most `window` of them unacknowledged; resolves when all are acked. */
  async sendAll(chunks: readonly Buffer[], window: number): Promise<void> {
    this.acked = 0; // nothing is in flight between calls
    let sent = 0;
    const ends: number[] = [];
    for (const chunk of chunks) {
      if (ends.length >= window) await this.ackedUpTo(ends.shift()!);
      sent += chunk.length;
      ends.push(sent);
      if (!this.socket.write(chunk)) await once(this.socket, 'drain');
    }
    await this.ackedUpTo(sent);
  }

  /** One small write, awaiting its ack. */
  async roundTrip(chunk: Buffer): Promise<void> {
    const target = this.acked + chunk.length;
    this.socket.write(chunk);
    await this.ackedUpTo(target);
  }

  private ackedUpTo(bytes: number): Promise<void> {
    if (this.acked >= bytes) return Promise.resolve();
    return new Promise((resolve) => (this.waiter = { bytes, resolve }));
  }

  private onData(chunk: Buffer): void {
    const data = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let at = 0;
    for (; at + 4 <= data.length; at += 4) this.acked += data.readUInt32BE(at);
    this.pending = data.subarray(at);
    if (this.waiter !== undefined && this.acked >= this.waiter.bytes) {
      const { resolve } = this.waiter;
      this.waiter = undefined;
      resolve();
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
// #endregion sink client
