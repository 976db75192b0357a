/**
 * Consumer group members as real processes, for the walkthroughs that kill
 * one: each is `samsa consume --group G --json` (the compiled bin), whose
 * records are collected as they are printed and whose rebalance lines
 * (stderr) are kept apart from the narration. And the group as the
 * coordinator sees it (admin.describeGroups), polled until it settles.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { Admin, TopicPartition } from '../../src/index.js';

const SAMSA = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'samsa.js');

/** One record as `samsa consume --json` prints it, with when this process read the line. */
export interface MemberRecord {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  value: string | null;
  at: number;
}

export interface Member {
  readonly name: string;
  readonly process: ChildProcessWithoutNullStreams;
  readonly records: MemberRecord[];
  /** Its stderr lines: rebalances ("Partitions assigned: ..."), the final count. */
  readonly stderr: string[];
  /** Resolves with the exit code (null when killed by a signal) once its output is drained. */
  readonly exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

/** Starts `samsa consume --topic topic --group group --client-id name --json ...extra`. */
export function startMember(
  bootstrap: string,
  name: string,
  args: { topic: string; group: string; extra?: readonly string[] },
): Member {
  const child = spawn(
    process.execPath,
    [
      SAMSA,
      ...['consume', '--broker', bootstrap, '--topic', args.topic, '--group', args.group],
      ...['--client-id', name, '--json', ...(args.extra ?? [])],
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const records: MemberRecord[] = [];
  const stderr: string[] = [];
  createInterface({ input: child.stdout }).on('line', (line) =>
    records.push({ ...(JSON.parse(line) as MemberRecord), at: Date.now() }),
  );
  createInterface({ input: child.stderr }).on('line', (line) => stderr.push(line));
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => resolve(code)),
  );
  return {
    name,
    process: child,
    records,
    stderr,
    exited,
    kill(signal) {
      child.kill(signal);
      return exited;
    },
  };
}

/** Polls `ready` every 20 ms; rejects after `timeoutMs` saying what it waited for. */
export async function until(
  what: string,
  ready: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Who owns what, as the coordinator says: client id → partitions (sorted); empty unless Stable. */
export interface Ownership {
  state: string;
  generationId: number;
  owners: Map<string, TopicPartition[]>;
}

export async function ownership(admin: Admin, group: string): Promise<Ownership> {
  const [g] = await admin.describeGroups([group]);
  return {
    state: g!.state,
    generationId: g!.generationId,
    owners: new Map(g!.members.map((m) => [m.clientId, m.assignment])),
  };
}

/** Waits until the group is Stable with exactly these members (by client id), and says who owns what. */
export async function settled(
  admin: Admin,
  group: string,
  clientIds: readonly string[],
  timeoutMs = 20_000,
): Promise<Ownership> {
  let last: Ownership | undefined;
  await until(
    `group ${group} to be Stable with ${clientIds.join(', ')}`,
    async () => {
      last = await ownership(admin, group);
      return (
        last.state === 'Stable' &&
        last.owners.size === clientIds.length &&
        clientIds.every((id) => last!.owners.has(id))
      );
    },
    timeoutMs,
  );
  return last!;
}

export const partitionList = (tps: readonly TopicPartition[]): string =>
  tps.map((tp) => tp.partition).join(', ') || '—';
