/**
 * `samsa consume --group` and `samsa groups ...` as a user runs them: the
 * compiled bin in child processes, against an embedded broker in this one
 * (short session timeouts, so a member's death is noticed in a second).
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningBroker, startBroker } from '../src/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'dist', 'bin', 'samsa.js');
const GROUP_OPTIONS = ['--session-timeout-ms', '1000', '--auto-commit-interval-ms', '100'];

let broker: RunningBroker;
const env = () => ({ ...process.env, SAMSA_BROKER: `${broker.host}:${broker.port}` });

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run tsc (npm test does) first`);
  broker = await startBroker({ port: 0 });
});

afterAll(async () => {
  await broker?.close();
});

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function samsa(args: string[], input = ''): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: env() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** A long-running `samsa consume`, its output collected as it comes. */
function start(args: string[]): { child: ChildProcessWithoutNullStreams; out: () => Run } {
  const child = spawn(process.execPath, [BIN, ...args], { env: env() });
  const run: Run = { status: null, stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => (run.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (run.stderr += d.toString()));
  child.on('close', (status) => (run.status = status));
  return { child, out: () => run };
}

async function until(what: string, ready: () => boolean | Promise<boolean>, ms = 15_000) {
  const deadline = Date.now() + ms;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Described {
  state: string;
  members: { clientId: string; assignment: { topic: string; partition: number }[] }[];
  partitions: { partition: number; committedOffset: number | null; lag: number | null }[];
}

async function describeJson(group: string): Promise<Described> {
  const run = await samsa(['groups', 'describe', group, '--json']);
  expect(run.stderr).toBe('');
  return JSON.parse(run.stdout) as Described;
}

const committed = (d: Described) => d.partitions.reduce((n, p) => n + (p.committedOffset ?? 0), 0);
const lag = (d: Described) => d.partitions.reduce((n, p) => n + (p.lag ?? 0), 0);

describe('samsa consume --group, samsa groups', () => {
  it('consumes as a group, commits, and resumes from the committed offsets', async () => {
    await samsa(['topics', 'create', 'cg', '--partitions', '3']);
    const lines = Array.from({ length: 30 }, (_, i) => `k${i % 5}:v${i}`);
    await samsa(['produce', '--topic', 'cg', '--key-separator', ':'], lines.join('\n') + '\n');

    const first = await samsa([
      ...['consume', '--topic', 'cg', '--group', 'g1', '--from-beginning'],
      ...['--max-messages', '30', ...GROUP_OPTIONS],
    ]);
    expect(first.status).toBe(0);
    expect(first.stdout.trim().split('\n').sort()).toEqual(lines.map((l) => l.slice(3)).sort());
    expect(first.stderr).toContain('Processed a total of 30 messages');

    const listed = await samsa(['groups', 'list']);
    expect(listed.stdout.split('\n')).toContain('g1');
    expect((await samsa(['groups', 'list', '--state'])).stdout).toMatch(/g1\s+Empty/);

    const text = await samsa(['groups', 'describe', 'g1']);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^Group g1: Empty, generation \d+/);
    expect(text.stdout).toMatch(
      /GROUP\s+TOPIC\s+PARTITION\s+CURRENT-OFFSET\s+LOG-END-OFFSET\s+LAG/,
    );
    let d = await describeJson('g1');
    expect(d.state).toBe('Empty');
    expect(d.partitions).toHaveLength(3);
    expect(committed(d)).toBe(30);
    expect(lag(d)).toBe(0);

    await samsa(['produce', '--topic', 'cg'], 'n1\nn2\nn3\nn4\n');
    d = await describeJson('g1');
    expect(lag(d)).toBe(4);

    // --from-beginning only applies where the group has no committed offset.
    const second = await samsa([
      ...['consume', '--topic', 'cg', '--group', 'g1', '--from-beginning'],
      ...['--max-messages', '4', '--timeout-ms', '5000', ...GROUP_OPTIONS],
    ]);
    expect(second.status).toBe(0);
    expect(second.stdout.trim().split('\n').sort()).toEqual(['n1', 'n2', 'n3', 'n4']);
    expect(lag(await describeJson('g1'))).toBe(0);
  });

  it('resets the offsets of an empty group: a plan, a dry run, then for real', async () => {
    const dry = await samsa([
      'groups',
      'reset-offsets',
      'g1',
      '--topic',
      'cg',
      '--to-earliest',
      '--dry-run',
    ]);
    expect(dry.status).toBe(0);
    expect(dry.stdout).toMatch(/GROUP\s+TOPIC\s+PARTITION\s+CURRENT-OFFSET\s+NEW-OFFSET/);
    expect(dry.stdout).toContain('dry run');
    expect(committed(await describeJson('g1'))).toBe(34);

    const reset = await samsa(['groups', 'reset-offsets', 'g1', '--topic', 'cg', '--to-earliest']);
    expect(reset.status).toBe(0);
    expect(reset.stdout).toContain('Reset the offsets of 3 partition(s)');
    let d = await describeJson('g1');
    expect(committed(d)).toBe(0);
    expect(lag(d)).toBe(34);

    await samsa(['groups', 'reset-offsets', 'g1', '--topic', 'cg', '--to-offset', '2']);
    expect((await describeJson('g1')).partitions.map((p) => p.committedOffset)).toEqual([2, 2, 2]);

    const future = new Date(Date.now() + 3_600_000).toISOString();
    await samsa(['groups', 'reset-offsets', 'g1', '--topic', 'cg', '--to-datetime', future]);
    d = await describeJson('g1');
    expect(committed(d)).toBe(34); // no record that recent: the log end
    expect(lag(d)).toBe(0);

    const json = await samsa([
      'groups',
      'reset-offsets',
      'g1',
      '--topic',
      'cg',
      '--to-earliest',
      '--dry-run',
      '--json',
    ]);
    const plan = JSON.parse(json.stdout) as { dryRun: boolean; plan: { target: number }[] };
    expect(plan.dryRun).toBe(true);
    expect(plan.plan.map((p) => p.target)).toEqual([0, 0, 0]);
  });

  it('refuses to reset or delete a group with a running member; SIGINT leaves it cleanly', async () => {
    await samsa(['topics', 'create', 'live', '--partitions', '2']);
    const member = start([
      'consume',
      '--topic',
      'live',
      '--group',
      'g2',
      '--from-beginning',
      ...GROUP_OPTIONS,
    ]);
    try {
      await until(
        'the member to join',
        async () => (await describeJson('g2').catch(() => null))?.state === 'Stable',
      );
      const d = await describeJson('g2');
      expect(d.members).toHaveLength(1);
      expect(d.members[0]!.assignment.map((tp) => tp.partition).sort()).toEqual([0, 1]);
      const text = await samsa(['groups', 'describe', 'g2']);
      expect(text.stdout).toMatch(/CONSUMER-ID\s+CLIENT-ID\s+HOST/);

      const reset = await samsa([
        'groups',
        'reset-offsets',
        'g2',
        '--topic',
        'live',
        '--to-latest',
      ]);
      expect(reset.status).toBe(1);
      expect(reset.stderr).toMatch(/only be reset while the group is empty/);
      const del = await samsa(['groups', 'delete', 'g2']);
      expect(del.status).toBe(1);
      expect(del.stderr).toContain('NON_EMPTY_GROUP');

      await samsa(['produce', '--topic', 'live'], 'a\nb\nc\n');
      await until('the records', () => member.out().stdout.split('\n').length >= 4);
    } finally {
      member.child.kill('SIGINT');
    }
    await until('the member to exit', () => member.out().status !== null);
    expect(member.out().status).toBe(0);
    expect(member.out().stderr).toContain('Processed a total of 3 messages');
    const after = await describeJson('g2');
    expect(after.state).toBe('Empty'); // it left at once, without waiting for its session to end
    expect(committed(after)).toBe(3);

    const del = await samsa(['groups', 'delete', 'g2']);
    expect(del.status).toBe(0);
    expect(del.stdout).toContain('Deleted consumer group g2');
    const gone = await samsa(['groups', 'describe', 'g2']);
    expect(gone.status).toBe(1);
    expect(gone.stderr).toContain("consumer group 'g2' does not exist");
  });

  it('refuses bad usage with status 2', async () => {
    const reset = ['groups', 'reset-offsets', 'g1', '--topic', 'cg'];
    expect((await samsa(reset)).status).toBe(2);
    expect((await samsa([...reset, '--to-earliest', '--to-latest'])).status).toBe(2);
    expect((await samsa([...reset, '--to-datetime', 'yesterday'])).status).toBe(2);
    expect(
      (await samsa(['consume', '--topic', 'cg', '--group', 'g', '--partition', '0'])).status,
    ).toBe(2);
    expect(
      (await samsa(['consume', '--topic', 'cg', '--group', 'g', '--session-timeout-ms', 'x']))
        .status,
    ).toBe(2);
  });
});
