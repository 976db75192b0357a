/**
 * Loading and unloading the groups of one `__consumer_offsets` partition,
 * for a coordinator in a cluster (Kafka's loadGroupsAndOffsets and
 * removeGroupsForPartition).
 *
 * Loading reads the partition from its start to its log end offset as the
 * load began (nothing else writes it meanwhile: this broker leads it and
 * refuses its groups' requests until the load ends) into fresh maps, and
 * merges them into memory in one step at the end, so no request, expiry
 * pass or ListGroups ever sees a half-loaded partition. Restored members get
 * fresh session timers. Unloading answers what the groups' members have
 * parked with NOT_COORDINATOR (so they look for the new coordinator),
 * cancels every timer of theirs, and forgets the groups and their offsets.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from '../../log/index.js';
import { ErrorCode } from '../../protocol/index.js';
import type { TopicManager } from '../topics.js';
import type { Group } from './group.js';
import { OffsetStore } from './offset-store.js';
import { OFFSETS_TOPIC } from './offsets-topic.js';
import { replayPartition, restoreGroup } from './persistence.js';
import type { Rebalancer } from './rebalance.js';
import type { Scheduler } from './scheduler.js';
import { GroupState } from './state.js';

export interface LoaderContext {
  readonly groups: Map<string, Group>;
  readonly offsets: OffsetStore;
  readonly topics: TopicManager;
  readonly rebalancer: Rebalancer;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  /** The offsets partition of a group id. */
  partitionFor(groupId: string): number;
}

/**
 * Reads partition `index` and, if `wanted()` still holds at the end, puts
 * its groups and offsets in memory. Resolves true when it did; false when
 * the load went stale on the way. Throws when the log cannot be read.
 */
export async function loadPartition(
  ctx: LoaderContext,
  index: number,
  epoch: number,
  wanted: () => boolean,
): Promise<boolean> {
  const started = performance.now();
  // Let the caller (the ReplicaManager applying an image) finish its turn first.
  await new Promise<void>((resolve) => setImmediate(resolve));
  if (!wanted()) return false;
  const name = `${OFFSETS_TOPIC}-${index}`;
  const partition = ctx.topics.partition(OFFSETS_TOPIC, index);
  if (partition === undefined) {
    ctx.logger.warn(`leading ${name} (epoch ${epoch}), but this broker has no log for it`);
    return wanted();
  }
  const swapping = partition.ready();
  if (swapping !== undefined) await swapping;
  const offsets = new OffsetStore();
  const replayed = await replayPartition(partition, partition.logEndOffset, offsets, wanted);
  if (replayed === undefined || !wanted()) return false;
  let groups = 0;
  for (const id of new Set([...replayed.groups.keys(), ...offsets.groups()])) {
    if (ctx.partitionFor(id) !== index) continue; // a stray record: not this partition's group
    const stale = ctx.groups.get(id);
    if (stale !== undefined) forget(ctx, stale, ErrorCode.NOT_COORDINATOR);
    const group = restoreGroup(id, replayed.groups.get(id));
    ctx.groups.set(id, group);
    for (const o of offsets.all(id)) ctx.offsets.set(id, o.topic, o.partition, o);
    for (const member of group.members.values()) ctx.rebalancer.rescheduleHeartbeat(group, member);
    groups++;
  }
  const ms = Math.round(performance.now() - started);
  if (replayed.skipped > 0)
    ctx.logger.warn(
      `skipped ${replayed.skipped} record(s) of ${name} in a layout this broker does not know`,
    );
  ctx.logger.info(
    `now coordinator of the groups of ${name} (leader epoch ${epoch}): loaded ${groups} group(s) ` +
      `and ${offsets.size} offset(s) (${replayed.records} record(s)) in ${ms} ms`,
  );
  return true;
}

/** Forgets every group of partition `index` and its offsets; returns how many groups went. */
export function unloadPartition(ctx: LoaderContext, index: number, epoch: number): number {
  let n = 0;
  for (const group of [...ctx.groups.values()])
    if (ctx.partitionFor(group.groupId) === index) {
      forget(ctx, group, ErrorCode.NOT_COORDINATOR);
      n++;
    }
  for (const id of ctx.offsets.groups())
    if (ctx.partitionFor(id) === index) ctx.offsets.deleteGroup(id);
  ctx.logger.info(
    `no longer coordinator of the groups of ${OFFSETS_TOPIC}-${index} (leader epoch ${epoch}): ` +
      `unloaded ${n} group(s)`,
  );
  return n;
}

/** Kafka's onGroupUnloaded: parked requests answered, timers cancelled, the group Dead and gone. */
function forget(ctx: LoaderContext, group: Group, errorCode: number): void {
  ctx.rebalancer.unload(group, errorCode);
  if (!group.is(GroupState.DEAD)) group.transitionTo(GroupState.DEAD, ctx.scheduler.now());
  ctx.groups.delete(group.groupId);
  ctx.offsets.deleteGroup(group.groupId);
}
