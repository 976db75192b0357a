/**
 * Committed offsets and their home, `__consumer_offsets`: commit and fetch
 * with Kafka's checks, the topic created on first use and marked internal,
 * the records a tool decodes, and the admin APIs (list, describe, delete).
 * Restarts, compaction and expiry are in broker-group-persistence.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  OFFSETS_TOPIC,
  decodeOffsetsRecord,
  isInternalTopic,
  partitionForGroup,
} from '../src/broker/index.js';
import { javaStringHashCode } from '../src/broker/group/index.js';
import { decodeRecords } from '../src/log/index.js';
import { ErrorCode } from '../src/protocol/index.js';
import { openBroker, recordingLogger } from './broker-support.js';
import {
  type GroupTestBroker,
  commitBody,
  fetchOffsets,
  join,
  newMemberId,
  settle,
  stableSingle,
  withTopic,
} from './broker-group-support.js';

let t: GroupTestBroker | undefined;
afterEach(async () => {
  await t?.broker.close();
  t = undefined;
});

const G = 'billing';

function codes(res: { topics: { partitions: { errorCode: number }[] }[] }): number[] {
  return res.topics.flatMap((x) => x.partitions.map((p) => p.errorCode));
}

describe('OffsetCommit and OffsetFetch', () => {
  it('stores a simple commit (generation -1, no member) and fetches it; -1 for what was never committed', async () => {
    t = await withTopic();
    const { broker } = t;
    const res = await broker.call(
      'OffsetCommit',
      commitBody(G, -1, '', [
        ['payments', 0, 42, 'note'],
        ['payments', 2, 7],
      ]),
    );
    expect(codes(res)).toEqual([0, 0]);
    const fetched = await fetchOffsets(broker, G, [
      { name: 'payments', partitionIndexes: [0, 1, 2] },
    ]);
    expect(fetched).toEqual({
      errorCode: 0,
      topics: [
        {
          name: 'payments',
          partitions: [
            {
              partitionIndex: 0,
              committedOffset: 42,
              committedLeaderEpoch: -1,
              metadata: 'note',
              errorCode: 0,
            },
            {
              partitionIndex: 1,
              committedOffset: -1,
              committedLeaderEpoch: -1,
              metadata: null,
              errorCode: 0,
            },
            {
              partitionIndex: 2,
              committedOffset: 7,
              committedLeaderEpoch: -1,
              metadata: null,
              errorCode: 0,
            },
          ],
        },
      ],
    });
    const all = await fetchOffsets(broker, G, null);
    expect(all.topics[0]!.partitions.map((p) => [p.partitionIndex, p.committedOffset])).toEqual([
      [0, 42],
      [2, 7],
    ]);
    expect(
      (await fetchOffsets(broker, 'unknown', [{ name: 'payments', partitionIndexes: [0] }]))
        .topics[0]!.partitions[0]!.committedOffset,
    ).toBe(-1);
    expect(await broker.call('ListGroups', {})).toEqual({
      errorCode: 0,
      groups: [{ groupId: G, protocolType: '', groupState: 'Empty' }],
    });
  });

  it('refuses partitions that do not exist, metadata over offset.metadata.max.bytes, and an empty group id', async () => {
    t = await withTopic();
    const { broker } = t;
    const res = await broker.call(
      'OffsetCommit',
      commitBody(G, -1, '', [
        ['payments', 0, 1, 'x'.repeat(4097)],
        ['payments', 1, 1, 'x'.repeat(4096)],
        ['payments', 9, 1],
        ['nope', 0, 1],
      ]),
    );
    expect(codes(res)).toEqual([
      ErrorCode.OFFSET_METADATA_TOO_LARGE,
      0,
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    ]);
    expect(
      codes(await broker.call('OffsetCommit', commitBody('', -1, '', [['payments', 0, 1]]))),
    ).toEqual([ErrorCode.INVALID_GROUP_ID]);
  });

  it('fences commits: stale generation, unknown member, simple commits to a live group, and commits mid-rebalance', async () => {
    t = await withTopic();
    const { broker } = t;
    const a = await stableSingle(broker, G);
    const commit = (gen: number, member: string) =>
      broker.call('OffsetCommit', commitBody(G, gen, member, [['payments', 0, 5]])).then(codes);
    expect(await commit(a.generationId, a.memberId)).toEqual([0]);
    expect(await commit(a.generationId - 1, a.memberId)).toEqual([ErrorCode.ILLEGAL_GENERATION]);
    expect(await commit(a.generationId, 'ghost')).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]);
    expect(await commit(-1, '')).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]);
    expect(
      await broker
        .call('OffsetCommit', commitBody('never', 3, 'x', [['payments', 0, 1]]))
        .then(codes),
    ).toEqual([ErrorCode.ILLEGAL_GENERATION]);
    // A second member joins: PreparingRebalance still takes commits of the current generation...
    const b = await newMemberId(broker, G);
    const bJoin = join(broker, G, b);
    await settle();
    expect(await commit(a.generationId, a.memberId)).toEqual([0]);
    // ...CompletingRebalance does not.
    const aj = await join(broker, G, a.memberId);
    await bJoin;
    expect(await commit(aj.generationId, a.memberId)).toEqual([ErrorCode.REBALANCE_IN_PROGRESS]);
  });
});

describe('__consumer_offsets', () => {
  it('is created on first use, compacted, with 50 partitions by default, and internal in Metadata', async () => {
    const broker = await openBroker();
    try {
      expect(broker.topics.get(OFFSETS_TOPIC)).toBeUndefined();
      const found = await broker.call('FindCoordinator', { key: G, keyType: 0 });
      expect(found).toEqual({ errorCode: 0, errorMessage: null, nodeId: 0, host: '', port: -1 });
      const topic = broker.topics.get(OFFSETS_TOPIC)!;
      expect(topic.partitions).toHaveLength(50);
      expect(topic.configs).toEqual({
        'cleanup.policy': 'compact',
        'segment.bytes': String(100 * 1024 * 1024),
      });
      const meta = await broker.call('Metadata', {
        topics: [{ name: OFFSETS_TOPIC }],
        allowAutoTopicCreation: false,
      });
      expect(meta.topics[0]).toMatchObject({ name: OFFSETS_TOPIC, isInternal: true, errorCode: 0 });
      const all = await broker.call('Metadata', { topics: null, allowAutoTopicCreation: false });
      expect(all.topics.find((x) => x.name === OFFSETS_TOPIC)?.isInternal).toBe(true);
      expect(isInternalTopic(OFFSETS_TOPIC)).toBe(true);
      expect(isInternalTopic('payments')).toBe(false);
    } finally {
      await broker.close();
    }
  });

  it('cannot be created, deleted or written to by request', async () => {
    const broker = await openBroker();
    try {
      const created = await broker.call('CreateTopics', {
        topics: [
          {
            name: OFFSETS_TOPIC,
            numPartitions: 1,
            replicationFactor: -1,
            assignments: [],
            configs: [],
          },
        ],
        timeoutMs: 1000,
      });
      expect(created.topics[0]).toMatchObject({ errorCode: 42 });
      expect(broker.topics.get(OFFSETS_TOPIC)).toBeUndefined();
      await broker.call('FindCoordinator', { key: G, keyType: 0 });
      const deleted = await broker.call('DeleteTopics', {
        topics: [{ name: OFFSETS_TOPIC }],
        timeoutMs: 1000,
      });
      expect(deleted.topics[0]).toMatchObject({ errorCode: 17 });
      const produced = await broker.call('Produce', {
        acks: 1,
        timeoutMs: 1000,
        topics: [
          { name: OFFSETS_TOPIC, partitions: [{ partitionIndex: 0, records: Buffer.alloc(0) }] },
        ],
      });
      expect(produced.topics[0]?.partitions[0]).toMatchObject({ errorCode: 17, baseOffset: -1 });
      expect(broker.topics.get(OFFSETS_TOPIC)?.partitions).toHaveLength(50);
    } finally {
      await broker.close();
    }
  });

  it('logs its creation once, not one "opened log" line per partition', async () => {
    const logger = recordingLogger();
    const broker = await openBroker({ logger });
    try {
      await broker.call('FindCoordinator', { key: G, keyType: 0 });
      const info = logger.lines.filter((l) => l.startsWith('info ') && l.includes(OFFSETS_TOPIC));
      expect(info).toHaveLength(1);
      expect(info[0]).toContain(`created topic ${OFFSETS_TOPIC} with 50 partition(s)`);
      const opened = logger.lines.filter((l) => l.startsWith('debug opened log'));
      expect(opened).toHaveLength(50); // still there, at debug
    } finally {
      await broker.close();
    }
  });

  it("puts a group on Kafka's partition: abs(Java hashCode) % n", () => {
    expect(javaStringHashCode('hello')).toBe(99162322);
    expect(javaStringHashCode('')).toBe(0);
    expect(javaStringHashCode('polygenelubricants')).toBe(-0x80000000); // Utils.abs makes it 0
    expect(partitionForGroup('polygenelubricants', 50)).toBe(0);
    expect(partitionForGroup('hello', 50)).toBe(99162322 % 50);
    expect(javaStringHashCode('é😀')).toBe(((0xe9 * 31 + 0xd83d) * 31 + 0xde00) | 0); // UTF-16 code units
  });

  it('holds records a tool can decode: offsets, group metadata, tombstones', async () => {
    t = await withTopic();
    const { broker } = t;
    const a = await stableSingle(broker, G);
    await broker.call(
      'OffsetCommit',
      commitBody(G, a.generationId, a.memberId, [['payments', 1, 9]]),
    );
    const partition = broker.topics.partition(OFFSETS_TOPIC, partitionForGroup(G, 3))!;
    const records = decodeRecords(partition.log.read(0)).map((r) =>
      decodeOffsetsRecord(r.key, r.value),
    );
    expect(records[0]).toMatchObject({
      type: 'group',
      group: G,
      value: { protocolType: 'consumer', generation: 1, protocol: 'range', leader: a.memberId },
    });
    const groupValue = records[0]!.value as {
      members: { memberId: string; assignment: Buffer; subscription: Buffer }[];
    };
    expect(groupValue.members).toMatchObject([
      { memberId: a.memberId, assignment: Buffer.from('all'), subscription: Buffer.from('sub') },
    ]);
    expect(records[1]).toMatchObject({
      type: 'offset',
      group: G,
      topic: 'payments',
      partition: 1,
      value: { offset: 9, leaderEpoch: -1, metadata: null },
    });
    expect(() => decodeOffsetsRecord(Buffer.from([0xc0]), null)).toThrow(/msgpack map/);
    expect(() => decodeOffsetsRecord(null, null)).toThrow(/key/);
  });
});

describe('ListGroups, DescribeGroups, DeleteGroups', () => {
  it('lists groups with a state filter, describes unknown groups as Dead, and deletes only empty ones', async () => {
    t = await withTopic();
    const { broker } = t;
    const a = await stableSingle(broker, 'live');
    await broker.call('OffsetCommit', commitBody('idle', -1, '', [['payments', 0, 1]]));
    expect((await broker.call('ListGroups', {})).groups.map((g) => g.groupId)).toEqual([
      'idle',
      'live',
    ]);
    expect(await broker.call('ListGroups', { statesFilter: ['stable'] })).toEqual({
      errorCode: 0,
      groups: [{ groupId: 'live', protocolType: 'consumer', groupState: 'Stable' }],
    });
    const described = await broker.call('DescribeGroups', { groups: ['live', 'nobody'] });
    expect(described.groups[0]).toMatchObject({
      errorCode: 0,
      groupState: 'Stable',
      generationId: 1,
      protocolType: 'consumer',
      protocolData: 'range',
      leader: a.memberId,
      members: [
        {
          memberId: a.memberId,
          clientId: '',
          clientHost: '',
          memberAssignment: Buffer.from('all'),
        },
      ],
    });
    expect(described.groups[1]).toEqual({
      errorCode: 0,
      groupId: 'nobody',
      groupState: 'Dead',
      generationId: -1,
      protocolType: '',
      protocolData: '',
      leader: '',
      members: [],
    });
    const deleted = await broker.call('DeleteGroups', { groupsNames: ['live', 'idle', 'nobody'] });
    expect(deleted.results).toEqual([
      { groupId: 'live', errorCode: ErrorCode.NON_EMPTY_GROUP },
      { groupId: 'idle', errorCode: 0 },
      { groupId: 'nobody', errorCode: ErrorCode.GROUP_ID_NOT_FOUND },
    ]);
    expect((await fetchOffsets(broker, 'idle', null)).topics).toEqual([]);
    const partition = broker.topics.partition(OFFSETS_TOPIC, partitionForGroup('idle', 3))!;
    const tail = decodeRecords(partition.log.read(0))
      .map((r) => decodeOffsetsRecord(r.key, r.value))
      .filter((r) => r.group === 'idle');
    expect(tail.slice(-2)).toEqual([
      { type: 'offset', group: 'idle', topic: 'payments', partition: 0, value: null },
      { type: 'group', group: 'idle', value: null },
    ]);
  });
});
