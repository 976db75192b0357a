/**
 * Chapter 4, "Load balancing and high availability". Run it with
 * `npm run book -- 04-load-balancing` and read 04-load-balancing.md beside
 * it. The members are `samsa consume --group` processes; who owns what is
 * what the coordinator answers to DescribeGroups, offsets what OffsetFetch
 * and ListOffsets answer, records what the members printed.
 */
import { Producer } from '../src/index.js';
import { withBroker } from './lib/client.js';
import {
  type Member,
  type Ownership,
  partitionList,
  settled,
  startMember,
  until,
} from './lib/members.js';
import * as w from './lib/walkthrough.js';

const TOPIC = 'page-views';
const GROUP = 'dashboards';
const PARTITIONS = 6;
const SESSION_TIMEOUT_MS = 1000;
const MEMBER_OPTIONS = [
  ...['--from-beginning', '--session-timeout-ms', String(SESSION_TIMEOUT_MS)],
  ...['--heartbeat-interval-ms', '200', '--auto-commit-interval-ms', '100'],
];

function ownersTable(o: Ownership, members: readonly Member[]): void {
  w.table(
    ['member', 'partitions it owns', 'records it has read'],
    [...o.owners]
      .sort(([x], [y]) => x.localeCompare(y))
      .map(([name, tps]) => [
        name,
        partitionList(tps),
        members.find((m) => m.name === name)?.records.length ?? 0,
      ]),
  );
}

await w.runWalkthrough('Chapter 4 · Load balancing and high availability', () =>
  w.withTempDir('04-load-balancing', (dir) =>
    withBroker(dir, async (b) => {
      await b.admin.createTopics([{ name: TOPIC, numPartitions: PARTITIONS }]);
      const producer: Producer = b.producer();
      let sent = 0;
      const produce = async (n: number) => {
        const records = Array.from({ length: n }, (_, i) => ({
          partition: (sent + i) % PARTITIONS,
          value: Buffer.from(`view-${sent + i}`),
        }));
        sent += n;
        await producer.send(TOPIC, records);
      };
      const members: Member[] = [];
      const member = (name: string) => {
        const m = startMember(b.bootstrap, name, {
          topic: TOPIC,
          group: GROUP,
          extra: MEMBER_OPTIONS,
        });
        members.push(m);
        return m;
      };
      const readAll = () => members.flatMap((m) => m.records);
      const committed = async () =>
        new Map((await b.admin.listGroupOffsets(GROUP)).map((c) => [c.partition, c.offset]));
      try {
        // #region spread
        w.heading('1. A group spreads the partitions over its members');
        w.say(
          `Topic ${TOPIC} has ${PARTITIONS} partitions. Three processes run \`samsa consume --group ${GROUP}\`, each with a session timeout of ${SESSION_TIMEOUT_MS} ms. The coordinator (the broker) waits for them to join, the leader assigns the partitions (the range assignor) and each member reads only its share:`,
        );
        const [m1, m2, m3] = ['member-1', 'member-2', 'member-3'].map(member) as [
          Member,
          Member,
          Member,
        ];
        const first = await settled(b.admin, GROUP, [m1.name, m2.name, m3.name]);
        await produce(60);
        await until('60 records read', () => readAll().length >= 60);
        ownersTable(first, members);
        const owned = [...first.owners.values()].flat().map((tp) => tp.partition);
        w.check(
          owned.length === PARTITIONS && new Set(owned).size === PARTITIONS,
          `the ${PARTITIONS} partitions are shared out, each to exactly one member (generation ${first.generationId})`,
        );
        w.check(
          members.every((m) =>
            m.records.every((r) =>
              first.owners.get(m.name)!.some((tp) => tp.partition === r.partition),
            ),
          ),
          'each member read records of its own partitions only',
        );
        await until('the offsets committed', async () => {
          const offsets = [...(await committed()).values()];
          // Every partition, not just those committed so far (every() of nothing is true).
          return offsets.length === PARTITIONS && offsets.every((o) => o === 10);
        });
        const c1 = await committed();
        const ends = await b.admin.listOffsets(TOPIC, 'latest');
        w.say(
          'Members commit the offset of the next record they will read (every 100 ms here), so the group, not the process, remembers how far it got. Per partition, what `samsa groups describe` shows:',
        );
        w.table(
          ['partition', 'committed offset', 'log end offset', 'lag'],
          ends.map((e) => [
            e.partition,
            c1.get(e.partition)!,
            e.offset,
            e.offset - c1.get(e.partition)!,
          ]),
        );
        // #endregion spread

        // #region failover
        w.heading('2. A member dies: its partitions move to the others');
        const lost = first.owners.get(m2.name)!.map((tp) => tp.partition);
        await m2.kill('SIGKILL');
        const killedAt = Date.now();
        const right = await b.admin.describeGroups([GROUP]);
        w.say(
          `${m2.name} (partitions ${lost.join(', ')}) is killed with SIGKILL: no LeaveGroup, no last commit. Right after, the coordinator still lists ${right[0]!.members.length} members (state ${right[0]!.state}): a dead process sends nothing, so only its missing heartbeats tell.`,
        );
        await produce(60);
        const second = await settled(b.admin, GROUP, [m1.name, m3.name], 10_000);
        const movedAfter = Date.now() - killedAt;
        w.say(
          `${movedAfter} ms after the kill the session had expired, the group rebalanced (generation ${second.generationId}) and the survivors own every partition:`,
        );
        ownersTable(second, members);
        const nowOwned = [...second.owners.values()].flat().map((tp) => tp.partition);
        w.check(
          lost.every((p) => nowOwned.includes(p)) && nowOwned.length === PARTITIONS,
          `${m2.name}'s partitions ${lost.join(', ')} now belong to the survivors`,
        );
        w.check(
          movedAfter < SESSION_TIMEOUT_MS + 3000,
          `they moved within the session timeout plus a rebalance (${movedAfter} ms; session ${SESSION_TIMEOUT_MS} ms)`,
        );
        // #endregion failover

        // #region resume
        w.heading('3. The new owners resume from the committed offsets');
        await until('120 records read', () => new Set(readAll().map((r) => r.value)).size >= 120);
        const rows = lost.map((p) => {
          const owner = [...second.owners].find(([, tps]) => tps.some((tp) => tp.partition === p))!;
          const firstRead = members
            .find((m) => m.name === owner[0])!
            .records.find((r) => r.partition === p && r.at >= killedAt);
          return { p, owner: owner[0], committed: c1.get(p)!, firstRead: firstRead?.offset ?? -1 };
        });
        w.table(
          ['partition', 'committed by member-2', 'new owner', 'first offset it read'],
          rows.map((r) => [r.p, r.committed, r.owner, r.firstRead]),
        );
        w.check(
          rows.every((r) => r.firstRead === r.committed),
          "each new owner started exactly at member-2's committed offset",
        );
        const values = readAll().map((r) => r.value);
        const missing = Array.from({ length: sent }, (_, i) => `view-${i}`).filter(
          (v) => !values.includes(v),
        );
        const duplicates = values.length - new Set(values).size;
        w.say(
          `Across all members: ${values.length} records read for ${sent} produced, ${duplicates} read twice. (A member killed after reading but before committing would leave duplicates: the guarantee is at least once.)`,
        );
        w.check(missing.length === 0, `no record was skipped (${sent} of ${sent} read)`);
        // #endregion resume

        // #region restart
        w.heading('4. Stop everything, start again: the group remembers');
        await Promise.all([m1.kill('SIGTERM'), m3.kill('SIGTERM')]);
        const [empty] = await b.admin.describeGroups([GROUP]);
        const c2 = await committed();
        w.say(
          `The survivors stop on SIGTERM: each commits and leaves, and the group is ${empty!.state} with ${empty!.members.length} members. Its committed offsets stay (${[...c2.values()].join(', ')}); 6 more records arrive while nobody reads.`,
        );
        w.check(
          empty!.state === 'Empty' && [...c2.values()].every((o) => o === sent / PARTITIONS),
          'an empty group keeps its offsets, at the end of every partition',
        );
        await produce(6);
        const m4 = member('member-4');
        await until('6 records read by member-4', () => m4.records.length >= 6);
        await new Promise((r) => setTimeout(r, 300));
        w.say(
          `A new member with --from-beginning reads ${m4.records.length} records: ${m4.records.map((r) => `${r.value} (partition ${r.partition}, offset ${r.offset})`).join(', ')}.`,
        );
        w.check(
          m4.records.length === 6 && m4.records.every((r) => r.offset === sent / PARTITIONS - 1),
          'it resumed from the committed offsets (--from-beginning applies only where nothing was committed)',
        );
        // #endregion restart
      } finally {
        await Promise.all(members.map((m) => m.kill('SIGTERM')));
      }
    }),
  ),
);
