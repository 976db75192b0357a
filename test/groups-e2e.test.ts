/**
 * Consumer groups end to end, with processes: two `samsa consume --group`
 * processes split a topic of 4 partitions while records keep coming; one is
 * killed with SIGKILL (no goodbye, no last commit); the other takes over its
 * partitions once the coordinator notices (the session timeout) and carries
 * on from the committed offsets. At the end every record was read at least
 * once, none skipped; duplicates are counted (at-least-once: the records
 * the dead member read after its last commit are read again).
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Admin, Producer, type RunningBroker, startBroker } from '../src/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'dist', 'bin', 'samsa.js');
const TOPIC = 'numbers';
const GROUP = 'counters';
const PARTITIONS = 4;
const RECORDS = 2000;
const SESSION_TIMEOUT_MS = 1500;

let broker: RunningBroker;
let admin: Admin;

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run tsc (npm test does) first`);
  broker = await startBroker({ port: 0 });
  admin = new Admin({ brokers: `${broker.host}:${broker.port}` });
});

afterAll(async () => {
  await admin?.close();
  await broker?.close();
});

interface Line {
  partition: number;
  offset: number;
  value: string;
  at: number;
}

/** A `samsa consume --group --json` process; its records, with the time each was read. */
function member(name: string) {
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    [
      ...[BIN, 'consume', '--topic', TOPIC, '--group', GROUP, '--from-beginning', '--json'],
      ...['--session-timeout-ms', String(SESSION_TIMEOUT_MS), '--auto-commit-interval-ms', '100'],
      ...['--client-id', name],
    ],
    { env: { ...process.env, SAMSA_BROKER: `${broker.host}:${broker.port}` } },
  );
  const lines: Line[] = [];
  let pending = '';
  let stderr = '';
  let status: number | null | undefined;
  child.stdout.on('data', (d: Buffer) => {
    const text = pending + d.toString();
    const parts = text.split('\n');
    pending = parts.pop()!;
    for (const l of parts) lines.push({ ...(JSON.parse(l) as Line), at: Date.now() });
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((r) => child.on('close', (code) => ((status = code), r())));
  return { name, child, lines, exited, stderr: () => stderr, status: () => status };
}

async function until(what: string, ready: () => boolean | Promise<boolean>, ms = 20_000) {
  const deadline = Date.now() + ms;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function owners(): Promise<Map<string, number[]>> {
  const [g] = await admin.describeGroups([GROUP]);
  if (g!.state !== 'Stable') return new Map();
  return new Map(g!.members.map((m) => [m.clientId, m.assignment.map((tp) => tp.partition)]));
}

it('a killed member’s partitions move to the survivor, which resumes from the committed offsets', async () => {
  await admin.createTopics([{ name: TOPIC, numPartitions: PARTITIONS }]);
  const producer = new Producer({ brokers: `${broker.host}:${broker.port}`, lingerMs: 0 });
  let sent = 0;
  const send = async (n: number) => {
    for (const end = Math.min(RECORDS, sent + n); sent < end; sent++)
      await producer.send(TOPIC, [
        { partition: sent % PARTITIONS, value: Buffer.from(String(sent)) },
      ]);
  };
  const a = member('a');
  const b = member('b');
  try {
    await until('a group of two, two partitions each', async () => {
      const o = await owners();
      return o.size === 2 && [...o.values()].every((ps) => ps.length === 2);
    });
    const before = await owners();
    const ofB = before.get('b')!.sort();

    // A steady stream: half before the kill, half after.
    const producing = (async () => {
      while (sent < RECORDS) {
        await send(20);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await until('b to read some records', () => b.lines.length >= 100);
    await until('half the records sent', () => sent >= RECORDS / 2);
    await new Promise((r) => setTimeout(r, 300)); // a few auto-commits
    b.child.kill('SIGKILL');
    const killedAt = Date.now();
    await b.exited;
    const committedAtKill = new Map(
      (await admin.listGroupOffsets(GROUP)).map((c) => [c.partition, c.offset]),
    );

    await until(
      'a to own all four partitions',
      async () => (await owners()).get('a')?.length === 4,
    );
    const takenOverAt = Date.now();
    await producing;
    await until('a to read up to the end', () => {
      const last = new Map<number, number>();
      for (const l of a.lines)
        last.set(l.partition, Math.max(last.get(l.partition) ?? -1, l.offset));
      return [0, 1, 2, 3].every((p) => last.get(p) === RECORDS / PARTITIONS - 1);
    });

    // a took b's partitions within the session timeout (plus a rebalance), and started each
    // at the offset b had committed.
    expect(takenOverAt - killedAt).toBeLessThan(SESSION_TIMEOUT_MS + 3000);
    for (const p of ofB) {
      const firstAfter = a.lines.find((l) => l.partition === p && l.at >= killedAt);
      expect(firstAfter?.offset, `partition ${p}`).toBe(committedAtKill.get(p));
    }

    // Every record at least once, none skipped; duplicates only where b read past its last commit.
    const seen = new Map<string, number>();
    for (const l of [...a.lines, ...b.lines]) seen.set(l.value, (seen.get(l.value) ?? 0) + 1);
    const missing = Array.from({ length: RECORDS }, (_, i) => String(i)).filter(
      (v) => !seen.has(v),
    );
    expect(missing).toEqual([]);
    const duplicates = [...seen.values()].reduce((n, c) => n + c - 1, 0);
    const bReadPastCommit = b.lines.filter(
      (l) => l.offset >= (committedAtKill.get(l.partition) ?? 0),
    ).length;
    expect(duplicates).toBe(bReadPastCommit);
    console.log(
      `failover: ${takenOverAt - killedAt} ms from SIGKILL to a owning all partitions; ` +
        `${a.lines.length + b.lines.length} records read for ${RECORDS} sent, ${duplicates} duplicates`,
    );
  } finally {
    await producer.close();
    a.child.kill('SIGTERM');
    b.child.kill('SIGKILL');
    await Promise.all([a.exited, b.exited]);
  }
  expect(a.status()).toBe(0);
  const [g] = await admin.describeGroups([GROUP]);
  expect(g!.state).toBe('Empty');
  const committed = await admin.listGroupOffsets(GROUP);
  expect(committed.map((c) => c.offset)).toEqual([500, 500, 500, 500]);
}, 60_000);
