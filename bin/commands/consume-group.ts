/**
 * The `--group` side of `samsa consume`: its options checked and turned into
 * the consumer's group options, and the rebalances reported on stderr (so
 * stdout stays the records).
 */
import type { ConsumerOptions, TopicPartition } from '../../src/client/index.js';
import { UsageError } from '../command.js';
import { integer } from './client-common.js';

export interface GroupConsumeOptions {
  group?: string;
  clientId?: string;
  fromBeginning?: boolean;
  offset?: string;
  sessionTimeoutMs?: string;
  heartbeatIntervalMs?: string;
  autoCommitIntervalMs?: string;
  assignor?: string[];
}

const ASSIGNORS = ['range', 'roundrobin'] as const;
type Assignor = (typeof ASSIGNORS)[number];

const GROUP_ONLY = [
  ['sessionTimeoutMs', '--session-timeout-ms'],
  ['heartbeatIntervalMs', '--heartbeat-interval-ms'],
  ['autoCommitIntervalMs', '--auto-commit-interval-ms'],
  ['assignor', '--assignor'],
] as const;

const list = (tps: readonly TopicPartition[]): string =>
  tps.length === 0 ? '(none)' : tps.map((tp) => `${tp.topic}-${tp.partition}`).join(', ');

/** The consumer options for `--group`, or undefined without it; UsageError for options that do not fit. */
export function groupConsumerOptions(
  o: GroupConsumeOptions,
  onePartition: boolean,
): ConsumerOptions | undefined {
  if (o.group === undefined) {
    const stray = GROUP_ONLY.find(([key]) => o[key] !== undefined);
    if (stray !== undefined) throw new UsageError(`${stray[1]} needs --group`);
    return undefined;
  }
  if (o.group === '') throw new UsageError('--group wants a group id');
  if (onePartition || o.offset !== undefined)
    throw new UsageError(
      '--group shares the partitions among the members: --partition and --offset do not apply',
    );
  const sessionTimeoutMs = integer(o.sessionTimeoutMs, '--session-timeout-ms', 1);
  const heartbeat = integer(o.heartbeatIntervalMs, '--heartbeat-interval-ms', 1);
  const session = sessionTimeoutMs ?? 45_000;
  const heartbeatIntervalMs = heartbeat ?? Math.max(1, Math.min(3000, Math.floor(session / 3)));
  if (heartbeatIntervalMs >= session)
    throw new UsageError(
      `--heartbeat-interval-ms (${heartbeatIntervalMs}) must be below the session timeout (${session})`,
    );
  const assignors = (o.assignor ?? []).flatMap((a) => a.split(',')).map((a) => a.trim());
  for (const a of assignors)
    if (!(ASSIGNORS as readonly string[]).includes(a))
      throw new UsageError(`--assignor wants ${ASSIGNORS.join(' or ')}, got '${a}'`);
  const err = (line: string) => process.stderr.write(`${line}\n`);
  return {
    groupId: o.group,
    sessionTimeoutMs,
    heartbeatIntervalMs,
    autoCommitIntervalMs: integer(o.autoCommitIntervalMs, '--auto-commit-interval-ms', 1),
    autoOffsetReset: o.fromBeginning ? 'earliest' : 'latest',
    ...(assignors.length > 0 ? { partitionAssignmentStrategy: assignors as Assignor[] } : {}),
    onPartitionsAssigned: (tps) => err(`Partitions assigned: ${list(tps)}`),
    onPartitionsRevoked: (tps) => err(`Partitions revoked: ${list(tps)}`),
    onPartitionsLost: (tps) => err(`Partitions lost: ${list(tps)}`),
  };
}
