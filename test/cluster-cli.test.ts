/**
 * `samsa cluster`: three broker processes that find each other and agree on
 * the controller; SIGINT stops them all (exit 0); a broker killed with
 * SIGKILL is reported, the others keep running and name a new controller.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { tempDir } from './support/temp.js';

const samsa = join(import.meta.dirname, '..', 'dist', 'bin', 'samsa.js');
const running: ChildProcessWithoutNullStreams[] = [];

afterEach(() => {
  for (const child of running.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A base port with `count` free ports from it. */
async function freeBasePort(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 40_000);
    let free = true;
    for (let p = base; p < base + count && free; p++) free = await portFree(p);
    if (free) return base;
  }
  throw new Error('no free ports');
}

function startCluster() {
  return freeBasePort(3).then((base) => {
    const child = spawn(
      process.execPath,
      [
        samsa,
        'cluster',
        '--brokers',
        '3',
        '--base-port',
        String(base),
        '--data-dir',
        tempDir('samsa-cluster-cli-'),
        '--config',
        'broker.heartbeat.interval.ms=200',
        '--config',
        'broker.session.timeout.ms=2000',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    ) as unknown as ChildProcessWithoutNullStreams;
    running.push(child);
    let output = '';
    const waiters: { pattern: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
    const onData = (d: Buffer) => {
      output += d.toString();
      for (const w of [...waiters]) {
        const m = w.pattern.exec(output);
        if (m) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const waitFor = (pattern: RegExp, timeoutMs = 20_000) =>
      new Promise<RegExpMatchArray>((resolve, reject) => {
        const m = pattern.exec(output);
        if (m) return resolve(m);
        const timer = setTimeout(
          () => reject(new Error(`no ${pattern} within ${timeoutMs} ms in:\n${output}`)),
          timeoutMs,
        );
        waiters.push({ pattern, resolve: (x) => (clearTimeout(timer), resolve(x)) });
      });
    const pidOf = async (id: number) =>
      Number((await waitFor(new RegExp(`\\[cluster\\] broker ${id}: pid (\\d+)`)))[1]);
    return { child, base, exit, waitFor, pidOf, output: () => output };
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

it('starts three brokers that agree on the controller, and SIGINT stops them all', async () => {
  const c = await startCluster();
  await c.waitFor(/all 3 brokers are listening/);
  for (const id of [1, 2, 3]) {
    await c.waitFor(
      new RegExp(`\\[broker ${id}\\] samsa broker listening on 127\\.0\\.0\\.1:${c.base + id - 1}`),
    );
    await c.waitFor(
      new RegExp(`\\[broker ${id}\\] .*broker 1 is now the controller \\(epoch \\d+\\)`),
    );
  }
  const pids = await Promise.all([1, 2, 3].map(c.pidOf));
  expect(c.output()).toContain(`kill ${pids[0]}`);
  expect(c.output()).toContain(`npx samsa topics describe page-views --broker 127.0.0.1:${c.base}`);
  c.child.kill('SIGINT');
  expect(await c.exit).toBe(0);
  expect(c.output()).toContain('samsa cluster stopped');
  for (const id of [1, 2, 3]) expect(c.output()).toContain(`[broker ${id}] samsa broker stopped`);
  expect(pids.filter(alive)).toEqual([]);
});

it('reports a broker killed with SIGKILL; the others keep running and name a new controller', async () => {
  const c = await startCluster();
  await c.waitFor(/all 3 brokers are listening/);
  for (const id of [1, 2, 3])
    await c.waitFor(
      new RegExp(`\\[broker ${id}\\] .*broker 1 is now the controller \\(epoch \\d+\\)`),
    );
  const [first, second, third] = await Promise.all([1, 2, 3].map(c.pidOf));
  process.kill(first!, 'SIGKILL');
  await c.waitFor(
    /\[cluster\] broker 1 \(pid \d+\) was killed by SIGKILL; broker\(s\) 2, 3 keep running/,
  );
  for (const id of [2, 3]) {
    await c.waitFor(
      new RegExp(`\\[broker ${id}\\] .*broker 1 missed its heartbeats for \\d+ ms: dead`),
    );
    await c.waitFor(
      new RegExp(`\\[broker ${id}\\] .*broker 2 is now the controller \\(epoch \\d+\\)`),
    );
  }
  expect(alive(second!) && alive(third!)).toBe(true);
  c.child.kill('SIGTERM');
  expect(await c.exit).toBe(0);
  expect([second!, third!].filter(alive)).toEqual([]);
});
