/**
 * `samsa dump-log` on a `__consumer_offsets` partition: a reader sees the
 * commits and the groups, not msgpack bytes (issue 5: "a reader can dump
 * that topic and see the commits").
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { OFFSETS_TOPIC, partitionForGroup } from '../src/broker/index.js';
import { encodeAssignment } from '../src/client/group/consumer-protocol.js';
import {
  commitBody,
  join as joinGroup,
  newMemberId,
  sync,
  withTopic,
} from './broker-group-support.js';

const BIN = fileURLToPath(new URL('../dist/bin/samsa.js', import.meta.url));
const samsa = (...args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

it('shows commits, groups and deletions of __consumer_offsets as what they mean', async () => {
  const t = await withTopic('payments', 2);
  const memberId = await newMemberId(t.broker, 'billing', 'app');
  const joined = await joinGroup(t.broker, 'billing', memberId);
  const assignment = encodeAssignment({ partitions: [{ topic: 'payments', partitions: [0, 1] }] });
  await sync(t.broker, 'billing', joined.generationId, memberId, [{ memberId, assignment }]);
  const committed = await t.broker.call(
    'OffsetCommit',
    commitBody('billing', joined.generationId, memberId, [['payments', 1, 42, 'checkpoint']]),
  );
  expect(committed.topics[0]?.partitions[0]?.errorCode).toBe(0);
  await t.broker.call('LeaveGroup', { groupId: 'billing', members: [{ memberId }] });
  await t.broker.call('DeleteGroups', { groupsNames: ['billing'] });
  await t.broker.close();

  const dir = join(t.dataDir, `${OFFSETS_TOPIC}-${partitionForGroup('billing', 3)}`);
  const text = samsa('dump-log', dir);
  expect(text.status).toBe(0);
  const lines = text.stdout.split('\n');
  const commit = lines.find((l) => l.includes(' commit: '));
  expect(commit).toMatch(
    /commit: group=billing topic=payments partition=1 offset=42 leaderEpoch=-1 metadata="checkpoint" committed=/,
  );
  const group = lines.find((l) => l.includes('group: group=billing type=consumer generation=1'));
  expect(group).toContain(`protocol=range leader=${memberId} members=1 [${memberId} payments-0,1]`);
  expect(group).toContain('payments-0,1');
  expect(
    lines.some((l) => l.includes('commit deleted: group=billing topic=payments partition=1')),
  ).toBe(true);
  expect(lines.some((l) => l.includes('group deleted: group=billing'))).toBe(true);

  const json = samsa('dump-log', dir, '--json');
  const records = json.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { type: string; records?: { decoded: { type: string } }[] })
    .flatMap((o) => (o.type === 'batch' ? (o.records ?? []) : []));
  expect(records.map((r) => r.decoded.type)).toContain('offset');
  expect(records.map((r) => r.decoded.type)).toContain('group');

  const raw = samsa('dump-log', dir, '--records', '--offsets-decoder', 'false');
  expect(raw.status).not.toBe(0); // commander has no value for a boolean flag: a usage error
});
