/**
 * The processes of `npm run bench -- groups`: a `samsa broker` with the
 * group settings the run needs, and group members (groups-member.ts) whose
 * stdout lines are parsed as they come.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type Spawned, spawnNode } from './client-processes.js';

/** `samsa broker --port 0` with `--config key=value` for each entry. */
export function startGroupBroker(
  dataDir: string,
  config: Record<string, string | number>,
  nodeArgs: string[] = [],
): Promise<Spawned> {
  const samsa = fileURLToPath(new URL('../bin/samsa.js', import.meta.url));
  const args = [
    ...nodeArgs,
    samsa,
    'broker',
    '--port',
    '0',
    '--data-dir',
    dataDir,
    '--log-level',
    'warn',
  ];
  for (const [key, value] of Object.entries(config)) args.push('--config', `${key}=${value}`);
  return spawnNode(args, /listening on [^\s:]+:(\d+)/, 'samsa broker');
}

/** ms since the epoch, sub-ms: the clock groups-member.ts prints. */
export const clock = (): number => performance.timeOrigin + performance.now();

export interface MemberArgs {
  broker: string;
  topic: string;
  group: string;
  name: string;
  sessionTimeoutMs: number;
  hold?: boolean;
  trace?: boolean;
  /** No group: these partitions, assigned (groups-member.ts --assign). */
  assign?: number[];
  /** Flags for node itself (e.g. --cpu-prof), before the script. */
  nodeArgs?: string[];
}

/** A member process and what it has said so far. */
export class MemberProcess {
  readonly assignments: { t: number; partitions: number[] }[] = [];
  readonly records: { t: number; partition: number; offset: number }[] = [];
  count = 0;
  lastAt = 0;
  private readonly child: ChildProcess;
  private readonly exited: Promise<unknown>;
  private stderr = '';

  constructor(readonly args: MemberArgs) {
    const script = fileURLToPath(new URL('./groups-member.js', import.meta.url));
    this.child = spawn(
      process.execPath,
      [
        ...(args.nodeArgs ?? []),
        script,
        ...['--broker', args.broker, '--topic', args.topic, '--group', args.group],
        ...['--name', args.name, '--session-timeout-ms', String(args.sessionTimeoutMs)],
        ...(args.hold ? ['--hold'] : []),
        ...(args.trace ? ['--trace'] : []),
        ...(args.assign ? ['--assign', args.assign.join(',')] : []),
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    this.exited = once(this.child, 'exit');
    this.child.stderr!.setEncoding('utf8').on('data', (s: string) => {
      this.stderr = (this.stderr + s).slice(-4000);
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => this.onLine(line));
  }

  /** The partitions of its latest assignment ([] before the first). */
  get partitions(): number[] {
    return this.assignments.at(-1)?.partitions ?? [];
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  go(): void {
    this.child.stdin!.write('go\n');
  }

  /** SIGKILL: no leave, no last commit; resolves with the time the signal was sent. */
  async kill(): Promise<number> {
    const t = clock();
    this.child.kill('SIGKILL');
    await this.exited;
    return t;
  }

  /** SIGTERM (the member commits and leaves), SIGKILL after 10 s. */
  async stop(): Promise<void> {
    if (!this.alive) return;
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    this.child.kill('SIGTERM');
    await this.exited;
    clearTimeout(timer);
  }

  /** What it wrote on stderr lately (for an error message). */
  get errors(): string {
    return this.stderr;
  }

  private onLine(line: string): void {
    const [kind, t, a, b] = line.split(' ');
    if (kind === 'assigned')
      this.assignments.push({
        t: Number(t),
        partitions: a === undefined || a === '' ? [] : a.split(',').map(Number),
      });
    else if (kind === 'count') {
      this.count = Number(a);
      this.lastAt = Number(t);
    } else if (kind === 'rec')
      this.records.push({ t: Number(t), partition: Number(a), offset: Number(b) });
  }
}

/** Polls `ready` every 10 ms; rejects after `timeoutMs` naming what it waited for. */
export async function until(what: string, ready: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
