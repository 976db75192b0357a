/**
 * `samsa groups list|describe|reset-offsets|delete`: Kafka's
 * kafka-consumer-groups.sh, over the admin client. `describe` shows the
 * group's state, generation and assignor, its members with the partitions
 * each owns, and per partition the committed offset, the log end offset and
 * the lag. `reset-offsets` and `delete` work only on an empty group (no
 * member running): a group's members own its offsets while it has any.
 * Exit status: 0 done, 1 the broker refused (or the group is not empty, or
 * does not exist), 2 usage error.
 */
import type { Command } from 'commander';
import type { Admin } from '../../src/client/index.js';
import { type CommandModule, FailedError, UsageError } from '../command.js';
import { brokerOption, integer, withAdmin } from './client-common.js';
import {
  type PlannedReset,
  describeLines,
  gatherReport,
  logEndOffsets,
  planLines,
} from './groups-report.js';

interface CommonOptions {
  broker: string;
}

interface ResetOptions extends CommonOptions {
  topic: string;
  toEarliest?: boolean;
  toLatest?: boolean;
  toOffset?: string;
  toDatetime?: string;
  dryRun?: boolean;
  json?: boolean;
}

const out = (line = '') => process.stdout.write(`${line}\n`);

/** The group, which must exist (have members or committed offsets). */
async function describeExisting(admin: Admin, group: string) {
  const [description] = await admin.describeGroups([group]);
  if (description!.error !== undefined) throw description!.error;
  if (description!.state === 'Dead')
    throw new FailedError(`consumer group '${group}' does not exist`);
  return description!;
}

export const groups: CommandModule = {
  register(program: Command): void {
    const parent = program
      .command('groups')
      .description('list, describe, reset the offsets of and delete consumer groups')
      .addHelpText(
        'after',
        '\nExamples:' +
          '\n  samsa groups list --state' +
          '\n  samsa groups describe billing' +
          '\n  samsa groups reset-offsets billing --topic payments --to-earliest --dry-run' +
          '\n  samsa groups delete billing',
      );

    brokerOption(parent.command('list'))
      .description('list the consumer groups, one per line')
      .option('--state', 'print each group with its state')
      .option('--json', 'print one JSON array')
      .action((o: CommonOptions & { state?: boolean; json?: boolean }) =>
        withAdmin(o, async (admin) => {
          const listed = await admin.listGroups();
          if (o.json) return void out(JSON.stringify(listed));
          if (!o.state) {
            for (const g of listed) out(g.groupId);
            return;
          }
          const width = Math.max(5, ...listed.map((g) => g.groupId.length));
          out(`${'GROUP'.padEnd(width)}  STATE`);
          for (const g of listed) out(`${g.groupId.padEnd(width)}  ${g.state}`);
        }),
      );

    brokerOption(parent.command('describe'))
      .description('members, their partitions, committed offsets and lag of a group')
      .argument('<group>', 'the group id')
      .option('--json', 'print one JSON object')
      .action((group: string, o: CommonOptions & { json?: boolean }) =>
        withAdmin(o, async (admin) => {
          const report = await gatherReport(admin, await describeExisting(admin, group));
          if (o.json) out(JSON.stringify(report));
          else for (const line of describeLines(report)) out(line);
        }),
      );

    brokerOption(parent.command('reset-offsets'))
      .description("move an empty group's committed offsets of a topic")
      .argument('<group>', 'the group id')
      .requiredOption('--topic <topic>', 'the topic whose offsets move (every partition)')
      .option('--to-earliest', 'to the first offset still in the log')
      .option('--to-latest', 'to the log end: skip everything written so far')
      .option('--to-offset <n>', 'to this offset (kept within earliest..latest)')
      .option('--to-datetime <time>', 'to the first record at or after this time (ISO 8601)')
      .option('--dry-run', 'print the plan only')
      .option('--json', 'print the plan as one JSON object')
      .action((group: string, o: ResetOptions) => resetOffsets(group, o));

    brokerOption(parent.command('delete'))
      .description('delete an empty group and its committed offsets')
      .argument('<group>', 'the group id')
      .action((group: string, o: CommonOptions) =>
        withAdmin(o, async (admin) => {
          const [result] = await admin.deleteGroups([group]);
          if (result!.error?.name === 'NON_EMPTY_GROUP')
            throw new FailedError(
              `consumer group '${group}' still has members: stop them first (NON_EMPTY_GROUP)`,
            );
          if (result!.error?.name === 'GROUP_ID_NOT_FOUND')
            throw new FailedError(`consumer group '${group}' does not exist (GROUP_ID_NOT_FOUND)`);
          if (result!.error !== undefined) throw result!.error;
          out(`Deleted consumer group ${group}.`);
        }),
      );
  },
};

// #region reset
type Target =
  | { kind: 'earliest' | 'latest' }
  | { kind: 'offset'; offset: number }
  | { kind: 'time'; ms: number };

function targetOf(o: ResetOptions): Target {
  const given = [o.toEarliest, o.toLatest, o.toOffset, o.toDatetime].filter((x) => x !== undefined);
  if (given.length !== 1)
    throw new UsageError(
      'give exactly one of --to-earliest, --to-latest, --to-offset N, --to-datetime TIME',
    );
  if (o.toEarliest) return { kind: 'earliest' };
  if (o.toLatest) return { kind: 'latest' };
  if (o.toOffset !== undefined)
    return { kind: 'offset', offset: integer(o.toOffset, '--to-offset')! };
  const ms = Date.parse(o.toDatetime!);
  if (!Number.isFinite(ms))
    throw new UsageError(
      `--to-datetime wants an ISO 8601 time (2024-05-01T12:00:00Z), got '${o.toDatetime}'`,
    );
  return { kind: 'time', ms };
}

async function resetOffsets(group: string, o: ResetOptions): Promise<void> {
  const target = targetOf(o);
  await withAdmin(o, async (admin) => {
    const [description] = await admin.describeGroups([group]);
    if (description!.error !== undefined) throw description!.error;
    if (description!.members.length > 0)
      throw new FailedError(
        `consumer group '${group}' has ${description!.members.length} active member(s) (state ${description!.state}): ` +
          'offsets can only be reset while the group is empty; stop its consumers first',
      );
    const [topic] = await admin.describeTopics([o.topic]);
    const partitions = topic!.partitions.map((p) => ({ topic: o.topic, partition: p.partition }));
    const plan = await planReset(admin, group, partitions, target);
    if (o.json) out(JSON.stringify({ group, topic: o.topic, dryRun: o.dryRun === true, plan }));
    else for (const line of planLines(group, plan)) out(line);
    if (o.dryRun) {
      if (!o.json) out('(dry run: nothing changed)');
      return;
    }
    const results = await admin.alterGroupOffsets(
      group,
      plan.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.target })),
    );
    const failed = results.find((r) => r.error !== undefined);
    if (
      failed?.error?.name === 'UNKNOWN_MEMBER_ID' ||
      failed?.error?.name === 'REBALANCE_IN_PROGRESS'
    )
      throw new FailedError(
        `consumer group '${group}' is no longer empty (a member joined): nothing was reset (${failed.error.name})`,
      );
    if (failed?.error !== undefined) throw failed.error;
    if (!o.json)
      out(`Reset the offsets of ${plan.length} partition(s) of ${o.topic} for group ${group}.`);
  });
}

async function planReset(
  admin: Admin,
  group: string,
  partitions: readonly { topic: string; partition: number }[],
  target: Target,
): Promise<PlannedReset[]> {
  const key = (tp: { topic: string; partition: number }) => `${tp.topic}-${tp.partition}`;
  const committed = new Map(
    (await admin.listGroupOffsets(group, partitions))
      .filter((c) => c.offset >= 0)
      .map((c) => [key(c), c.offset]),
  );
  const earliest = await logEndOffsets(admin, partitions, 'earliest');
  const latest = await logEndOffsets(admin, partitions, 'latest');
  const byTime =
    target.kind === 'time'
      ? await logEndOffsets(admin, partitions, { timestamp: target.ms })
      : new Map<string, number>();
  return partitions.map((tp) => {
    const lo = earliest.get(key(tp)) ?? 0;
    const hi = latest.get(key(tp)) ?? 0;
    let to: number;
    if (target.kind === 'earliest') to = lo;
    else if (target.kind === 'latest') to = hi;
    else if (target.kind === 'offset') to = Math.min(Math.max(target.offset, lo), hi);
    else {
      // No record that recent: the end, as Kafka does.
      const found = byTime.get(key(tp)) ?? -1;
      to = found < 0 ? hi : found;
    }
    return { ...tp, current: committed.get(key(tp)) ?? null, target: to };
  });
}
// #endregion reset
