/**
 * The records of `__consumer_offsets`: what a committed offset and a group's
 * metadata look like on disk. Keys and values are msgpack maps (the
 * protocol's one msgpack configuration), each with a `version` so a later
 * layout can be told apart, as Kafka versions its keys and values.
 *
 *   key   { version: 0, type: 'offset', group, topic, partition }
 *   value { version: 0, offset, leaderEpoch, metadata, commitTimestamp }
 *
 *   key   { version: 0, type: 'group', group }
 *   value { version: 0, protocolType, generation, protocol, leader, currentStateTimestamp,
 *           members: [{ memberId, clientId, clientHost, sessionTimeoutMs, rebalanceTimeoutMs,
 *                       subscription, assignment }] }
 *
 * A null value is a tombstone: the offset, or the group, is deleted. The
 * topic is compacted, so the latest record of each key is what survives; keys
 * are written with their fields in one fixed order, so equal keys are equal
 * bytes.
 */
import { pack, unpack } from '../../protocol/msgpack.js';

export const RECORD_VERSION = 0;

export interface OffsetValue {
  offset: number;
  leaderEpoch: number;
  metadata: string | null;
  commitTimestamp: number;
}

export interface GroupMemberValue {
  memberId: string;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  /** The member's metadata for the chosen protocol (a consumer's subscription). */
  subscription: Buffer;
  assignment: Buffer;
}

export interface GroupValue {
  protocolType: string;
  generation: number;
  protocol: string | null;
  leader: string | null;
  currentStateTimestamp: number | null;
  members: GroupMemberValue[];
}

/** One record of `__consumer_offsets`, decoded: what a dump tool prints. A null value is a tombstone. */
export type OffsetsRecord =
  | { type: 'offset'; group: string; topic: string; partition: number; value: OffsetValue | null }
  | { type: 'group'; group: string; value: GroupValue | null };

export function offsetKey(group: string, topic: string, partition: number): Buffer {
  return pack({ version: RECORD_VERSION, type: 'offset', group, topic, partition });
}

export function groupKey(group: string): Buffer {
  return pack({ version: RECORD_VERSION, type: 'group', group });
}

export function offsetValue(v: OffsetValue): Buffer {
  return pack({
    version: RECORD_VERSION,
    offset: v.offset,
    leaderEpoch: v.leaderEpoch,
    metadata: v.metadata,
    commitTimestamp: v.commitTimestamp,
  });
}

export function groupValue(v: GroupValue): Buffer {
  return pack({
    version: RECORD_VERSION,
    protocolType: v.protocolType,
    generation: v.generation,
    protocol: v.protocol,
    leader: v.leader,
    currentStateTimestamp: v.currentStateTimestamp,
    members: v.members.map((m) => ({
      memberId: m.memberId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      sessionTimeoutMs: m.sessionTimeoutMs,
      rebalanceTimeoutMs: m.rebalanceTimeoutMs,
      subscription: m.subscription,
      assignment: m.assignment,
    })),
  });
}

// #region decode
/**
 * Decodes one record of `__consumer_offsets` into a plain description (for
 * replay, and for a tool that dumps the topic). Throws an `Error` naming what
 * is wrong when the key or value is not one of the layouts above.
 */
export function decodeOffsetsRecord(key: Buffer | null, value: Buffer | null): OffsetsRecord {
  if (key === null) throw new Error('a __consumer_offsets record needs a key');
  const k = asMap(unpack(key), 'key');
  checkVersion(k, 'key');
  const group = field(k, 'group', 'string', 'key');
  if (k.type === 'offset') {
    const topic = field(k, 'topic', 'string', 'key');
    const partition = int(k, 'partition', 'key');
    return {
      type: 'offset',
      group,
      topic,
      partition,
      value: value === null ? null : decodeOffset(value),
    };
  }
  if (k.type === 'group')
    return { type: 'group', group, value: value === null ? null : decodeGroup(value) };
  throw new Error(`unknown key type ${JSON.stringify(k.type)}`);
}

function decodeOffset(bytes: Buffer): OffsetValue {
  const v = asMap(unpack(bytes), 'offset value');
  checkVersion(v, 'offset value');
  return {
    offset: int(v, 'offset', 'offset value'),
    leaderEpoch: int(v, 'leaderEpoch', 'offset value'),
    metadata: nullableString(v, 'metadata', 'offset value'),
    commitTimestamp: int(v, 'commitTimestamp', 'offset value'),
  };
}

function decodeGroup(bytes: Buffer): GroupValue {
  const v = asMap(unpack(bytes), 'group value');
  checkVersion(v, 'group value');
  if (!Array.isArray(v.members)) throw new Error('group value: members must be an array');
  const stamp = v.currentStateTimestamp;
  return {
    protocolType: field(v, 'protocolType', 'string', 'group value'),
    generation: int(v, 'generation', 'group value'),
    protocol: nullableString(v, 'protocol', 'group value'),
    leader: nullableString(v, 'leader', 'group value'),
    currentStateTimestamp:
      stamp === null || stamp === undefined ? null : int(v, 'currentStateTimestamp', 'group value'),
    members: v.members.map((raw) => {
      const m = asMap(raw, 'member');
      return {
        memberId: field(m, 'memberId', 'string', 'member'),
        clientId: field(m, 'clientId', 'string', 'member'),
        clientHost: field(m, 'clientHost', 'string', 'member'),
        sessionTimeoutMs: int(m, 'sessionTimeoutMs', 'member'),
        rebalanceTimeoutMs: int(m, 'rebalanceTimeoutMs', 'member'),
        subscription: bin(m, 'subscription'),
        assignment: bin(m, 'assignment'),
      };
    }),
  };
}
// #endregion decode

type Map_ = Record<string, unknown>;

function asMap(x: unknown, what: string): Map_ {
  if (x === null || typeof x !== 'object' || Array.isArray(x) || Buffer.isBuffer(x))
    throw new Error(`${what} must be a msgpack map`);
  return x as Map_;
}

function checkVersion(m: Map_, what: string): void {
  if (m.version !== RECORD_VERSION)
    throw new Error(`${what}: unknown version ${JSON.stringify(m.version)}`);
}

function field(m: Map_, name: string, type: 'string', what: string): string {
  if (typeof m[name] !== type) throw new Error(`${what}: ${name} must be a ${type}`);
  return m[name] as string;
}

function nullableString(m: Map_, name: string, what: string): string | null {
  return m[name] === null || m[name] === undefined ? null : field(m, name, 'string', what);
}

function int(m: Map_, name: string, what: string): number {
  if (!Number.isSafeInteger(m[name])) throw new Error(`${what}: ${name} must be an integer`);
  return m[name] as number;
}

function bin(m: Map_, name: string): Buffer {
  const b = m[name];
  if (!(b instanceof Uint8Array)) throw new Error(`member: ${name} must be bytes`);
  return Buffer.from(b); // a copy: the record's bytes belong to a read buffer
}
