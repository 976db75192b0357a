/**
 * `samsa dump-log --offsets-decoder`: the records of `__consumer_offsets`
 * shown as what they mean (a group's committed offset, a group's members and
 * assignments) instead of msgpack bytes, like kafka-dump-log's flag of the
 * same name. A record that does not decode is shown as bytes, with why.
 */
import type { LogRecord } from '../../src/log/index.js';
import { decodeOffsetsRecord } from '../../src/broker/group/records.js';
import { decodeAssignment } from '../../src/client/group/consumer-protocol.js';
import { isoTime } from '../text.js';

/** True for a directory of `__consumer_offsets` (`.../__consumer_offsets-7`). */
export function isOffsetsTopicDir(path: string): boolean {
  return /(^|[/\\])__consumer_offsets-\d+[/\\]?$/.test(path);
}

/** One text line for a record of `__consumer_offsets`. */
export function offsetsRecordLine(r: LogRecord): string {
  const head = `  | offset: ${r.offset} timestamp: ${r.timestamp}`;
  let decoded;
  try {
    decoded = decodeOffsetsRecord(r.key, r.value);
  } catch (error) {
    return `${head} undecodable: ${(error as Error).message}`;
  }
  if (decoded.type === 'offset') {
    const where = `group=${decoded.group} topic=${decoded.topic} partition=${decoded.partition}`;
    const v = decoded.value;
    if (v === null) return `${head} commit deleted: ${where}`;
    const metadata = v.metadata === null ? '' : ` metadata=${JSON.stringify(v.metadata)}`;
    return `${head} commit: ${where} offset=${v.offset} leaderEpoch=${v.leaderEpoch}${metadata} committed=${isoTime(v.commitTimestamp)}`;
  }
  const g = decoded.value;
  if (g === null) return `${head} group deleted: group=${decoded.group}`;
  const members = g.members.map(
    (m) => `${m.memberId}${m.clientHost ? ` (${m.clientHost})` : ''} ${partitionsOf(m.assignment)}`,
  );
  return (
    `${head} group: group=${decoded.group} type=${g.protocolType || '""'} generation=${g.generation}` +
    ` protocol=${g.protocol ?? 'none'} leader=${g.leader ?? 'none'} members=${g.members.length}` +
    (members.length > 0 ? ` [${members.join('; ')}]` : '')
  );
}

/** The decoded record for `--json` (bytes of member metadata as base64), or why it did not decode. */
export function offsetsRecordJson(r: LogRecord): object {
  try {
    const decoded = decodeOffsetsRecord(r.key, r.value);
    if (decoded.type === 'offset' || decoded.value === null) return decoded;
    return {
      ...decoded,
      value: {
        ...decoded.value,
        members: decoded.value.members.map((m) => ({
          ...m,
          subscription: m.subscription.toString('base64'),
          assignment: m.assignment.toString('base64'),
          partitions: partitionsOf(m.assignment),
        })),
      },
    };
  } catch (error) {
    return { type: 'undecodable', error: (error as Error).message };
  }
}

/** A consumer's assignment as `topic-0,1,2`, or the byte count when it is not a consumer's. */
function partitionsOf(assignment: Buffer): string {
  try {
    const a = decodeAssignment(assignment);
    const parts = a.partitions.map((tp) => `${tp.topic}-${tp.partitions.join(',')}`);
    return parts.length === 0 ? 'no partitions' : parts.join(' ');
  } catch {
    return `${assignment.length} bytes of assignment`;
  }
}
