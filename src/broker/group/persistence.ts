/**
 * Groups and offsets to and from `__consumer_offsets`: the records written
 * for a group's metadata and its commits, and the replay that rebuilds
 * memory from the log (the last record of each key wins; a tombstone
 * deletes): of every partition at start for a broker alone, of one
 * partition when a broker in a cluster becomes its leader.
 */
import { decodeBatches } from '../../log/index.js';
import { Group } from './group.js';
import { GroupMember } from './member.js';
import type { OffsetStore } from './offset-store.js';
import type { OffsetsRecordInput } from './offsets-topic.js';
import {
  type GroupValue,
  type OffsetValue,
  decodeOffsetsRecord,
  groupKey,
  groupValue,
  offsetKey,
  offsetValue,
} from './records.js';
import { GroupState } from './state.js';
import type { Log } from '../../log/index.js';
import type { Partition } from '../partition.js';
import type { Topic } from '../topics.js';

const READ_CHUNK_BYTES = 1024 * 1024;

/** The group's metadata record, with the assignments of this generation. */
export function groupRecord(
  group: Group,
  assignment: ReadonlyMap<string, Buffer>,
): OffsetsRecordInput {
  const value: GroupValue = {
    protocolType: group.protocolType ?? '',
    generation: group.generationId,
    protocol: group.protocolName ?? null,
    leader: group.leaderId ?? null,
    currentStateTimestamp: group.currentStateTimestamp ?? null,
    members: [...group.members.values()].map((m) => ({
      memberId: m.memberId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      sessionTimeoutMs: m.sessionTimeoutMs,
      rebalanceTimeoutMs: m.rebalanceTimeoutMs,
      subscription: m.metadata(group.protocolName),
      assignment: assignment.get(m.memberId) ?? m.assignment,
    })),
  };
  return { key: groupKey(group.groupId), value: groupValue(value) };
}

export function groupTombstone(groupId: string): OffsetsRecordInput {
  return { key: groupKey(groupId), value: null };
}

export function offsetRecord(
  group: string,
  topic: string,
  partition: number,
  value: OffsetValue | null,
): OffsetsRecordInput {
  return {
    key: offsetKey(group, topic, partition),
    value: value === null ? null : offsetValue(value),
  };
}

/** A group as its metadata record left it: Stable with its members, or Empty. */
export function restoreGroup(groupId: string, value: GroupValue | undefined): Group {
  const group = new Group(groupId, value?.currentStateTimestamp ?? undefined);
  if (value === undefined) return group;
  group.generationId = value.generation;
  group.protocolType = value.protocolType === '' ? undefined : value.protocolType;
  group.protocolName = value.protocol ?? undefined;
  for (const m of value.members) {
    const member = new GroupMember({
      memberId: m.memberId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      sessionTimeoutMs: m.sessionTimeoutMs,
      rebalanceTimeoutMs: m.rebalanceTimeoutMs,
      protocolType: value.protocolType,
      protocols: [{ name: value.protocol ?? '', metadata: m.subscription }],
    });
    member.assignment = m.assignment;
    group.add(member);
  }
  if (value.leader !== null && group.has(value.leader)) group.leaderId = value.leader;
  // Loading is not a transition: the group resumes in the state its record describes.
  if (group.size > 0) group.state = GroupState.STABLE;
  return group;
}

export interface Replayed {
  groups: Map<string, GroupValue>;
  records: number;
  /** Records that are not of a layout this broker knows, skipped. */
  skipped: number;
}

// #region replay
/** Reads every partition of the topic from its start into `offsets` and the groups returned: the last record of each key wins. */
export function replay(topic: Topic, offsets: OffsetStore): Replayed {
  const into: Replayed = { groups: new Map(), records: 0, skipped: 0 };
  for (const partition of topic.partitions)
    for (const chunk of chunks(partition.log, partition.log.logEndOffset))
      applyChunk(chunk, into, offsets);
  return into;
}

/**
 * One partition read from its start up to `upTo` (the log end offset when
 * its load began), giving the event loop back between chunks; stops early
 * when `wanted()` turns false (the load went stale), returning undefined.
 */
export async function replayPartition(
  partition: Partition,
  upTo: number,
  offsets: OffsetStore,
  wanted: () => boolean,
): Promise<Replayed | undefined> {
  const into: Replayed = { groups: new Map(), records: 0, skipped: 0 };
  for (const chunk of chunks(partition.log, upTo)) {
    applyChunk(chunk, into, offsets);
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (!wanted()) return undefined;
  }
  return into;
}

interface Chunk {
  records: { offset: number; key: Buffer | null; value: Buffer | null }[];
}

/** The records of `log` from its start below `upTo`, about a megabyte at a time. */
function* chunks(log: Log, upTo: number): Generator<Chunk> {
  let offset = log.logStartOffset;
  while (offset < Math.min(upTo, log.logEndOffset)) {
    const batches = decodeBatches(log.read(offset, { maxBytes: READ_CHUNK_BYTES }));
    if (batches.length === 0) break;
    const records: Chunk['records'] = [];
    for (const batch of batches) {
      for (const r of batch.records) if (r.offset >= offset && r.offset < upTo) records.push(r);
      offset = Math.max(offset, batch.lastOffset + 1);
    }
    yield { records };
  }
}

function applyChunk(chunk: Chunk, into: Replayed, offsets: OffsetStore): void {
  for (const r of chunk.records) {
    into.records++;
    let rec;
    try {
      rec = decodeOffsetsRecord(r.key, r.value);
    } catch {
      into.skipped++;
      continue;
    }
    if (rec.type === 'group') {
      if (rec.value === null) into.groups.delete(rec.group);
      else into.groups.set(rec.group, rec.value);
    } else if (rec.value === null) {
      offsets.delete(rec.group, rec.topic, rec.partition);
    } else {
      offsets.set(rec.group, rec.topic, rec.partition, rec.value);
    }
  }
}
// #endregion replay
