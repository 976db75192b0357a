/**
 * `npm run bench -- groups`: consumer groups against a `samsa broker`
 * process, every member its own process (groups-member.ts), so members do
 * not share an event loop.
 *
 * Phases:
 *   failover    a group of 2 members reads a 4-partition topic that gets a
 *               record per partition every 10 ms; one member is SIGKILLed.
 *               Timed from the kill to (a) the survivor's new assignment
 *               (the coordinator noticed the missing heartbeats, the group
 *               rebalanced) and (b) the first record of a dead member's
 *               partition read by the survivor. Once with Kafka's default
 *               session timeout (45 s), once with a short one (--short-session-ms).
 *   throughput  a topic of --partitions partitions (default 8) holds --records
 *               records of 100 bytes; a group of 1, 2, then 4 members joins
 *               (each pausing what it is given until all have joined), then
 *               all start at once. Timed from the start to the last record
 *               read by any member; records/s is the group's total.
 */
import { rmSync } from 'node:fs';
import { arch, cpus, platform } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Admin, Producer, type ProducerRecord } from '../src/client/index.js';
import type { Spawned } from './client-processes.js';
import { MemberProcess, clock, startGroupBroker, until } from './groups-processes.js';
import { Progress, formatCount, formatInt, freshTempDir, parseIntFlag, table } from './stats.js';

const HELP = `usage: npm run bench -- groups [flags]
  --records N           records in the throughput topic (default 1,000,000; 100 B each)
  --partitions N        partitions of the throughput topic (default 8)
  --members LIST        group sizes for throughput, comma-separated (default 1,2,4)
  --short-session-ms MS the short session timeout of the failover phase (default 1000)
  --default-session-ms MS  the long one (default 45000, Kafka's default)
  --phases LIST         failover,throughput (default both)
  --assign              throughput without a group: each member assigns itself a share
                        of the partitions (the baseline for the group's figures)
  --member-node-args=A flags for node in each member process, space-separated (e.g. =--cpu-prof)
  --broker-node-args=A flags for node in the broker process, space-separated
  --json                one JSON line with every figure`;

interface Options {
  records: number;
  partitions: number;
  members: number[];
  sessions: number[];
  phases: Set<string>;
  json: boolean;
  memberNodeArgs: string[];
  assign: boolean;
  brokerNodeArgs: string[];
}

function parseOptions(argv: string[]): Options | undefined {
  const { values: v } = parseArgs({
    args: argv,
    strict: true,
    options: {
      records: { type: 'string' },
      partitions: { type: 'string' },
      members: { type: 'string' },
      'short-session-ms': { type: 'string' },
      'default-session-ms': { type: 'string' },
      phases: { type: 'string' },
      json: { type: 'boolean', default: false },
      'member-node-args': { type: 'string' },
      assign: { type: 'boolean', default: false },
      'broker-node-args': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (v.help) return undefined;
  const int = (name: string, value: string | undefined, fallback: number) =>
    parseIntFlag(name, value, { fallback, min: 1 });
  return {
    records: int('records', v.records, 1_000_000),
    partitions: int('partitions', v.partitions, 8),
    members: (v.members ?? '1,2,4').split(',').map((m) => int('members', m, 1)),
    sessions: [
      int('default-session-ms', v['default-session-ms'], 45_000),
      int('short-session-ms', v['short-session-ms'], 1000),
    ],
    phases: new Set((v.phases ?? 'failover,throughput').split(',')),
    json: v.json,
    memberNodeArgs: words(v['member-node-args']),
    assign: v.assign,
    brokerNodeArgs: words(v['broker-node-args']),
  };
}

function words(s: string | undefined): string[] {
  return (s ?? '').split(' ').filter((w) => w !== '');
}

// #region failover
interface Failover {
  sessionTimeoutMs: number;
  rebalancedMs: number;
  firstRecordMs: number;
  /** Records of the dead member's partitions read again by the survivor (its reads after its last commit). */
  reread: number;
}

async function failover(broker: string, admin: Admin, session: number): Promise<Failover> {
  const topic = `failover-${session}`;
  await admin.createTopics([{ name: topic, numPartitions: 4 }]);
  const base = { broker, topic, group: topic, sessionTimeoutMs: session, trace: true };
  const a = new MemberProcess({ ...base, name: 'a' });
  const b = new MemberProcess({ ...base, name: 'b' });
  const producer = new Producer({ brokers: broker, lingerMs: 0 });
  let producing = true;
  const stream = (async () => {
    for (let i = 0; producing; i++) {
      const records: ProducerRecord[] = [0, 1, 2, 3].map((partition) => ({
        partition,
        value: Buffer.from(String(i)),
      }));
      await Promise.all(records.map((r) => producer.send(topic, [r])));
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  try {
    await until(
      'two members of two partitions each',
      () => a.partitions.length === 2 && b.partitions.length === 2,
      30_000,
    );
    await new Promise((r) => setTimeout(r, 1500)); // both reading, a commit or two
    const lost = b.partitions;
    const killedAt = await b.kill();
    const timeout = session + 30_000;
    await until('the survivor to own every partition', () => a.partitions.length === 4, timeout);
    const rebalancedAt = a.assignments.at(-1)!.t;
    const moved = () => a.records.find((r) => lost.includes(r.partition) && r.t > killedAt);
    await until('a record of a moved partition', () => moved() !== undefined, timeout);
    const lastByB = new Map<number, number>();
    for (const r of b.records)
      lastByB.set(r.partition, Math.max(lastByB.get(r.partition) ?? -1, r.offset));
    const reread = a.records.filter(
      (r) =>
        r.t > killedAt &&
        lost.includes(r.partition) &&
        r.offset <= (lastByB.get(r.partition) ?? -1),
    ).length;
    return {
      sessionTimeoutMs: session,
      rebalancedMs: rebalancedAt - killedAt,
      firstRecordMs: moved()!.t - killedAt,
      reread,
    };
  } finally {
    producing = false;
    await stream;
    await producer.close();
    await Promise.all([a.stop(), b.stop()]);
  }
}
// #endregion failover

// #region throughput
interface Throughput {
  members: number;
  joinMs: number;
  seconds: number;
  recordsPerSec: number;
  perMember: number[];
}

async function fill(broker: string, topic: string, o: Options): Promise<void> {
  const producer = new Producer({ brokers: broker, batchSize: 64 * 1024, lingerMs: 5 });
  const value = Buffer.alloc(90, 0x61);
  const batch: ProducerRecord[] = Array.from({ length: 1000 }, (_, i) => ({
    key: Buffer.from(String(i).padStart(10, '0')),
    value,
  }));
  const pending: Promise<unknown>[] = [];
  for (let sent = 0; sent < o.records; sent += batch.length) {
    pending.push(producer.send(topic, batch.slice(0, Math.min(batch.length, o.records - sent))));
    if (pending.length >= 64) await pending.shift();
  }
  await Promise.all(pending);
  await producer.close();
}

async function throughput(
  broker: string,
  topic: string,
  n: number,
  o: Options,
): Promise<Throughput> {
  const started = clock();
  const members = Array.from(
    { length: n },
    (_, i) =>
      new MemberProcess({
        broker,
        topic,
        group: `readers-of-${n}`,
        name: `m${i + 1}`,
        sessionTimeoutMs: 10_000,
        hold: true,
        nodeArgs: o.memberNodeArgs,
        assign: o.assign ? shareOf(i, n, o.partitions) : undefined,
      }),
  );
  try {
    const settled = () =>
      members.every((m) => m.partitions.length > 0) &&
      members.reduce((s, m) => s + m.partitions.length, 0) === o.partitions;
    await until(`a group of ${n} sharing ${o.partitions} partitions`, settled, 60_000);
    await new Promise((r) => setTimeout(r, 500)); // no late rebalance under way
    if (!settled()) await until('the group to settle', settled, 60_000);
    const go = clock();
    for (const m of members) m.go();
    const total = () => members.reduce((s, m) => s + m.count, 0);
    await until(`${o.records} records read`, () => total() >= o.records, 600_000);
    const end = Math.max(...members.map((m) => m.lastAt));
    const seconds = (end - go) / 1000;
    return {
      members: n,
      joinMs: go - started,
      seconds,
      recordsPerSec: total() / seconds,
      perMember: members.map((m) => m.count),
    };
  } finally {
    await Promise.all(members.map((m) => m.stop()));
  }
}
/** Member i's partitions out of n members (round robin), for --assign. */
function shareOf(i: number, n: number, partitions: number): number[] {
  return Array.from({ length: partitions }, (_, p) => p).filter((p) => p % n === i);
}
// #endregion throughput

export async function run(argv: string[]): Promise<void> {
  const o = parseOptions(argv);
  if (!o) {
    process.stdout.write(HELP + '\n');
    return;
  }
  const root = freshTempDir('groups');
  const progress = new Progress();
  let broker: Spawned | undefined;
  let admin: Admin | undefined;
  const failovers: Failover[] = [];
  const rates: Throughput[] = [];
  try {
    progress.step('groups: starting the broker');
    broker = await startGroupBroker(
      join(root, 'broker'),
      {
        'group.min.session.timeout.ms': Math.min(...o.sessions),
        'group.initial.rebalance.delay.ms': 0,
      },
      o.brokerNodeArgs,
    );
    const address = `127.0.0.1:${broker.port}`;
    admin = new Admin({ brokers: address });
    if (o.phases.has('failover'))
      for (const session of o.sessions) {
        progress.step(`groups: failover, session timeout ${formatInt(session)} ms`);
        failovers.push(await failover(address, admin, session));
      }
    if (o.phases.has('throughput')) {
      progress.step(`groups: ${formatInt(o.records)} records into ${o.partitions} partitions`);
      await admin.createTopics([{ name: 'throughput', numPartitions: o.partitions }]);
      await fill(address, 'throughput', o);
      for (const n of o.members) {
        progress.step(`groups: a group of ${n} reads them`);
        rates.push(await throughput(address, 'throughput', n, o));
      }
    }
  } finally {
    progress.done();
    await admin?.close();
    await broker?.stop();
    rmSync(root, { recursive: true, force: true });
  }
  if (o.json) {
    process.stdout.write(
      JSON.stringify({
        bench: 'groups',
        node: process.version,
        cpus: cpus().length,
        records: o.records,
        partitions: o.partitions,
        failovers,
        rates,
      }) + '\n',
    );
    return;
  }
  const lines = [
    'samsa groups benchmark: a broker process, each member its own process, on 127.0.0.1',
    `  node ${process.version}, ${platform()} ${arch()}, ${cpus().length} CPUs (broker and members share them)`,
    '',
  ];
  if (failovers.length > 0)
    lines.push(
      table(
        ['failover after SIGKILL', 'rebalanced', 'first moved record', 're-read'],
        failovers.map((f) => [
          `session.timeout.ms ${formatInt(f.sessionTimeoutMs)}`,
          `${formatInt(f.rebalancedMs)} ms`,
          `${formatInt(f.firstRecordMs)} ms`,
          formatInt(f.reread),
        ]),
      ),
      '',
    );
  if (rates.length > 0)
    lines.push(
      `${formatInt(o.records)} records of 100 B in ${o.partitions} partitions, read by a group of N members:`,
      table(
        ['members', 'records/s', 'seconds', 'per member', 'join'],
        rates.map((r) => [
          String(r.members),
          formatCount(r.recordsPerSec),
          r.seconds.toFixed(2),
          r.perMember.map(formatInt).join(' / '),
          `${formatInt(r.joinMs)} ms`,
        ]),
      ),
    );
  process.stdout.write(lines.join('\n') + '\n');
}

// `node dist/bench/groups.js [flags]` runs it without the dispatcher.
if (
  process.argv[1] !== undefined &&
  import.meta.url.endsWith(process.argv[1].replace(/^.*\//, '/'))
)
  await run(process.argv.slice(2));
