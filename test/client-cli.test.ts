/**
 * The client commands as a user runs them: the compiled bin (`npm test`
 * compiles first) in a child process, against an embedded broker in this
 * one. Spawned asynchronously, so this process's broker keeps answering.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningBroker, startBroker } from '../src/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'dist', 'bin', 'samsa.js');

let broker: RunningBroker;

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

function samsa(args: string[], input = '', env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, SAMSA_BROKER: `${broker.host}:${broker.port}`, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe('samsa topics, produce, consume, offsets', () => {
  it('round-trips lines through a topic', async () => {
    const created = await samsa(['topics', 'create', 'lines', '--partitions', '2']);
    expect(created).toMatchObject({ status: 0 });
    expect(created.stdout).toContain('Created topic lines with 2 partitions');

    const lines = Array.from({ length: 50 }, (_, i) => `k${i % 3}:value ${i}`);
    const produced = await samsa(
      ['produce', '--topic', 'lines', '--key-separator', ':'],
      lines.join('\n') + '\n',
    );
    expect(produced.stderr).toBe('');
    expect(produced.status).toBe(0);
    expect(produced.stdout).toMatch(/^Sent 50 records to lines:/);

    const consumed = await samsa([
      'consume',
      '--topic',
      'lines',
      '--from-beginning',
      '--max-messages',
      '50',
      '--print-key',
    ]);
    expect(consumed.status).toBe(0);
    const got = consumed.stdout.trim().split('\n');
    expect(got.sort()).toEqual(lines.map((l) => l.replace(':', '\t')).sort());
    // Per key, the order sent.
    for (const key of ['k0', 'k1', 'k2']) {
      const sent = lines.filter((l) => l.startsWith(`${key}:`)).map((l) => l.split(':')[1]);
      const read = consumed.stdout
        .trim()
        .split('\n')
        .filter((l) => l.startsWith(`${key}\t`))
        .map((l) => l.split('\t')[1]);
      expect(read).toEqual(sent);
    }
    expect(consumed.stderr).toContain('Processed a total of 50 messages');

    const offsets = await samsa(['offsets', '--topic', 'lines', '--json']);
    const report = JSON.parse(offsets.stdout) as { partitions: { latest: number }[] };
    expect(report.partitions.reduce((n, p) => n + p.latest, 0)).toBe(50);
  });

  it('reads one partition from an offset as JSON, and stops after the timeout', async () => {
    await samsa(['topics', 'create', 'json-t', '--partitions', '1']);
    await samsa(['produce', '--topic', 'json-t'], 'zero\none\ntwo\n');
    const run = await samsa([
      'consume',
      '--topic',
      'json-t',
      '--partition',
      '0',
      '--offset',
      '1',
      '--json',
      '--timeout-ms',
      '500',
    ]);
    expect(run.status).toBe(0);
    const records = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { offset: number; value: string; key: null });
    expect(records.map((r) => [r.offset, r.value, r.key])).toEqual([
      [1, 'one', null],
      [2, 'two', null],
    ]);
  });

  it('lists, describes and deletes topics', async () => {
    await samsa(['topics', 'create', 'doomed', '--config', 'retention.ms=60000']);
    expect((await samsa(['topics', 'list'])).stdout.split('\n')).toContain('doomed');
    const described = await samsa(['topics', 'describe', 'doomed']);
    expect(described.stdout).toContain('retention.ms=60000');
    expect(described.stdout).toContain('Partition: 0\tLeader: 0');
    expect((await samsa(['topics', 'delete', 'doomed'])).status).toBe(0);
    const again = await samsa(['topics', 'delete', 'doomed']);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('UNKNOWN_TOPIC_OR_PARTITION');
  });

  it('creates with a replication factor, and describes replicas, the HW and log end offsets', async () => {
    const created = await samsa(['topics', 'create', 'replicated', '--replication-factor', '1']);
    expect(created).toMatchObject({ status: 0 });
    const tooMany = await samsa(['topics', 'create', 'r3', '--replication-factor', '3']);
    expect(tooMany.status).toBe(1);
    expect(tooMany.stderr).toContain('INVALID_REPLICATION_FACTOR');
    expect((await samsa(['produce', '--topic', 'replicated'], 'a\nb\nc\n')).status).toBe(0);

    const described = await samsa(['topics', 'describe', 'replicated']);
    expect(described.status).toBe(0);
    expect(described.stdout.split('\n')).toEqual([
      'Topic: replicated\tPartitionCount: 1\tReplicationFactor: 1\tConfigs: ',
      '\tTopic: replicated\tPartition: 0\tLeader: 0\tReplicas: 0\tIsr: 0\tEpoch: 0\tHW: 3\tLEO: 0=3',
      '',
    ]);
    const json = await samsa(['topics', 'describe', 'replicated', '--json']);
    const parsed = JSON.parse(json.stdout) as { partitions: unknown[]; configs: object };
    expect(parsed.partitions).toEqual([
      {
        partition: 0,
        leader: 0,
        leaderEpoch: 0,
        replicas: [0],
        isr: [0],
        offlineReplicas: [],
        highWatermark: 3,
        logEndOffsets: [{ broker: 0, logEndOffset: 3 }],
      },
    ]);
    expect(parsed.configs).toHaveProperty('retention.ms');
  });

  it('says clearly when the broker is not there', async () => {
    const run = await samsa(['topics', 'list', '--broker', '127.0.0.1:1']);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/NETWORK_EXCEPTION: cannot connect to broker 127.0.0.1:1/);
  });

  it('refuses bad usage with status 2', async () => {
    expect((await samsa(['produce', '--topic', 't', '--acks', '2'])).status).toBe(2);
    expect((await samsa(['consume', '--topic', 't', '--offset', '3'])).status).toBe(2);
    expect((await samsa(['topics', 'list', '--broker', 'no:port:here'])).status).toBe(2);
  });
});
