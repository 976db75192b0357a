/**
 * Leader elections and AlterPartition, one partition at a time: Kafka's own
 * examples (PartitionChangeBuilderTest's FOO and BAZ partitions), then the
 * image-wide steps: a broker fenced, a broker back, a preferred election.
 */
import { describe, expect, it } from 'vitest';
import {
  Election,
  type MetadataImage,
  NO_LEADER,
  type PartitionRegistration,
  alterPartition,
  applyEvent,
  changePartition,
  electLeader,
  emptyImage,
  localChanges,
} from '../src/cluster/index.js';

// PartitionChangeBuilderTest: replicas [2,1,3], ISR [2,1,3], leader 1, broker 3 not acceptable.
const FOO: PartitionRegistration = {
  replicas: [2, 1, 3],
  isr: [2, 1, 3],
  leader: 1,
  leaderEpoch: 100,
  partitionEpoch: 200,
};
const not3 = (r: number) => r !== 3;
// BAZ: the same replicas, ISR [1,3], leader 3, every broker acceptable.
const BAZ: PartitionRegistration = { ...FOO, isr: [1, 3], leader: 3 };

describe('electLeader, Kafka’s examples', () => {
  it('FOO', () => {
    expect(electLeader(FOO, FOO.isr, Election.PREFERRED, not3)).toEqual({
      leader: 2,
      unclean: false,
    });
    expect(electLeader(FOO, FOO.isr, Election.ONLINE, not3)).toEqual({ leader: 1, unclean: false });
    expect(electLeader(FOO, FOO.isr, Election.UNCLEAN, not3)).toEqual({
      leader: 1,
      unclean: false,
    });
    expect(electLeader(FOO, [1, 3], Election.ONLINE, not3)).toEqual({ leader: 1, unclean: false });
    expect(electLeader(FOO, [1, 3], Election.UNCLEAN, not3)).toEqual({ leader: 1, unclean: false });
    expect(electLeader(FOO, [3], Election.ONLINE, not3)).toEqual({
      leader: NO_LEADER,
      unclean: false,
    });
    expect(electLeader(FOO, [3], Election.UNCLEAN, not3)).toEqual({ leader: 2, unclean: true });
  });

  it('BAZ', () => {
    const all = () => true;
    for (const e of [Election.PREFERRED, Election.ONLINE, Election.UNCLEAN]) {
      expect(electLeader(BAZ, BAZ.isr, e, all)).toEqual({ leader: 3, unclean: false });
    }
  });
});

describe('changePartition, Kafka’s examples', () => {
  it('changes nothing when nothing is asked (no epoch moves)', () => {
    expect(changePartition(FOO, { election: Election.ONLINE, isAcceptableLeader: not3 })).toBe(FOO);
    expect(changePartition(FOO, { election: Election.UNCLEAN, isAcceptableLeader: not3 })).toBe(
      FOO,
    );
    expect(
      changePartition(BAZ, { election: Election.PREFERRED, isAcceptableLeader: () => true }),
    ).toBe(BAZ);
  });

  it('an ISR change bumps the partition epoch only', () => {
    const p = changePartition(FOO, {
      targetIsr: [2, 1],
      election: Election.ONLINE,
      isAcceptableLeader: not3,
    });
    expect(p).toEqual({ ...FOO, isr: [2, 1], partitionEpoch: 201 });
  });

  it('an ISR without the leader moves the leadership: both epochs bump', () => {
    const p = changePartition(FOO, {
      targetIsr: [2, 3],
      election: Election.ONLINE,
      isAcceptableLeader: not3,
    });
    expect(p).toEqual({ ...FOO, isr: [2, 3], leader: 2, leaderEpoch: 101, partitionEpoch: 201 });
  });

  it('never writes an empty ISR: the last member stays, with no leader', () => {
    const last: PartitionRegistration = { ...FOO, isr: [1] };
    const p = changePartition(last, {
      targetIsr: [],
      election: Election.ONLINE,
      isAcceptableLeader: (r) => r !== 1,
    });
    expect(p).toEqual({ ...last, leader: NO_LEADER, leaderEpoch: 101, partitionEpoch: 201 });
  });

  it('an unclean election makes the new leader the whole ISR', () => {
    const p = changePartition(FOO, {
      targetIsr: [3],
      election: Election.UNCLEAN,
      isAcceptableLeader: not3,
    });
    expect(p).toEqual({ ...FOO, isr: [2], leader: 2, leaderEpoch: 101, partitionEpoch: 201 });
  });
});

/** Brokers 1..3 live, controller 1, topic t with the given partitions. */
function imageWith(partitions: PartitionRegistration[], configs: Record<string, string> = {}) {
  let image: MetadataImage = emptyImage(
    [1, 2, 3].map((id) => ({ id, host: 'h', port: 9100 + id })),
  );
  image = applyEvent(image, {
    type: 'BecomeController',
    brokerId: 1,
    controllerEpoch: 1,
    liveBrokerIds: [1, 2, 3],
  }).image;
  return { ...image, topics: { t: { name: 't', configs, partitions } } };
}

const P0: PartitionRegistration = {
  replicas: [1, 2, 3],
  isr: [1, 2, 3],
  leader: 1,
  leaderEpoch: 0,
  partitionEpoch: 0,
};

describe('broker death and return', () => {
  it('a dead leader is replaced by the next ISR member in replica order; it leaves every ISR', () => {
    const image = imageWith([P0, { ...P0, leader: 2 }]);
    const r = applyEvent(image, { type: 'BrokerFenced', brokerId: 1 });
    expect(r.image.topics.t!.partitions).toEqual([
      { replicas: [1, 2, 3], isr: [2, 3], leader: 2, leaderEpoch: 1, partitionEpoch: 1 },
      { replicas: [1, 2, 3], isr: [2, 3], leader: 2, leaderEpoch: 0, partitionEpoch: 1 },
    ]);
    expect(r.image.metadataOffset).toBe(image.metadataOffset + 1);
    expect(r.changes.map((c) => [c.partition, c.leaderChanged, c.unclean])).toEqual([
      [0, true, false],
      [1, false, false],
    ]);
    // Broker 2 becomes leader of partition 0 at epoch 1, and sees partition 1's new ISR.
    expect(
      localChanges(2, r.changes).leaders.map((l) => [l.partition, l.leaderEpochChanged]),
    ).toEqual([
      [0, true],
      [1, false],
    ]);
    expect(localChanges(3, r.changes).followers).toMatchObject([
      { partition: 0, leader: 2, leaderEpoch: 1 },
    ]);
  });

  it('the last ISR member stays in the ISR when it dies; the partition waits for it', () => {
    const image = imageWith([{ ...P0, isr: [1] }]);
    const dead = applyEvent(image, { type: 'BrokerFenced', brokerId: 1 }).image;
    expect(dead.topics.t!.partitions[0]).toMatchObject({
      isr: [1],
      leader: NO_LEADER,
      leaderEpoch: 1,
    });
    // Another replica coming back does not lead: it may lack committed records.
    const two = applyEvent(applyEvent(dead, { type: 'BrokerFenced', brokerId: 2 }).image, {
      type: 'BrokerUnfenced',
      brokerId: 2,
    }).image;
    expect(two.topics.t!.partitions[0]!.leader).toBe(NO_LEADER);
    // The last member coming back leads again, at a new epoch, and is not given other ISR members.
    const back = applyEvent(two, { type: 'BrokerUnfenced', brokerId: 1 }).image;
    expect(back.topics.t!.partitions[0]).toMatchObject({ isr: [1], leader: 1, leaderEpoch: 2 });
  });

  it('with unclean.leader.election.enable, a live replica outside the ISR leads, alone in the ISR', () => {
    const image = imageWith([{ ...P0, isr: [1] }], { 'unclean.leader.election.enable': 'true' });
    const r = applyEvent(image, { type: 'BrokerFenced', brokerId: 1 });
    expect(r.image.topics.t!.partitions[0]).toMatchObject({ isr: [2], leader: 2, leaderEpoch: 1 });
    expect(r.changes[0]!.unclean).toBe(true);
  });

  it('turning unclean election on elects leaders for leaderless partitions at once', () => {
    const image = imageWith([{ ...P0, isr: [1] }]);
    const dead = applyEvent(image, { type: 'BrokerFenced', brokerId: 1 }).image;
    const r = applyEvent(dead, {
      type: 'AlterTopicConfigs',
      topic: 't',
      configs: { 'unclean.leader.election.enable': 'true' },
    });
    expect(r.image.topics.t!.partitions[0]).toMatchObject({ isr: [2], leader: 2 });
    expect(r.changes[0]!.unclean).toBe(true);
  });

  it('a returning broker is not put back into the ISR by the controller', () => {
    const image = imageWith([P0]);
    const dead = applyEvent(image, { type: 'BrokerFenced', brokerId: 3 }).image;
    const back = applyEvent(dead, { type: 'BrokerUnfenced', brokerId: 3 });
    expect(back.image.topics.t!.partitions[0]!.isr).toEqual([1, 2]);
    expect(back.changes).toEqual([]);
    expect(back.image.brokers.find((b) => b.id === 3)!.live).toBe(true);
  });
});

describe('preferred leader election', () => {
  it('moves leadership back to the first replica when it is live and in the ISR', () => {
    const image = imageWith([
      { ...P0, leader: 2, leaderEpoch: 4 },
      P0,
      { ...P0, isr: [2, 3], leader: 2 },
    ]);
    const r = applyEvent(image, { type: 'ElectPreferredLeaders' });
    expect(r.elections!.map((e) => e.outcome)).toEqual([
      'NONE',
      'ELECTION_NOT_NEEDED',
      'PREFERRED_LEADER_NOT_AVAILABLE',
    ]);
    expect(r.image.topics.t!.partitions[0]).toMatchObject({ leader: 1, leaderEpoch: 5 });
    expect(
      applyEvent(image, {
        type: 'ElectPreferredLeaders',
        partitions: [{ topic: 'x', partition: 0 }],
      }).elections,
    ).toEqual([{ topic: 'x', partition: 0, outcome: 'UNKNOWN_TOPIC_OR_PARTITION' }]);
  });
});

describe('AlterPartition', () => {
  const image = imageWith([{ ...P0, leaderEpoch: 5, partitionEpoch: 7 }]);
  const ask = (over: Partial<Parameters<typeof alterPartition>[1]> = {}) =>
    alterPartition(image, {
      brokerId: 1,
      topic: 't',
      partition: 0,
      leaderEpoch: 5,
      partitionEpoch: 7,
      newIsr: [1, 2],
      ...over,
    });

  it('shrinks and expands the ISR, bumping the partition epoch only', () => {
    const shrunk = ask();
    expect(shrunk.partition).toEqual({ ...P0, isr: [1, 2], leaderEpoch: 5, partitionEpoch: 8 });
    const expanded = alterPartition(shrunk.image, {
      brokerId: 1,
      topic: 't',
      partition: 0,
      leaderEpoch: 5,
      partitionEpoch: 8,
      newIsr: [3, 2, 1],
    });
    expect(expanded.partition).toMatchObject({ isr: [1, 2, 3], partitionEpoch: 9 }); // replica order
    expect(ask({ newIsr: [1, 2, 3] }).image).toBe(image); // no change asked: none made
  });

  it('refuses with Kafka’s errors, in Kafka’s order', () => {
    const error = (over: Parameters<typeof ask>[0]) => ask(over).error?.error;
    expect(error({ topic: 'u' })).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    expect(error({ partition: 1 })).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    expect(error({ leaderEpoch: 6 })).toBe('NOT_CONTROLLER');
    expect(error({ partitionEpoch: 8 })).toBe('NOT_CONTROLLER');
    expect(error({ leaderEpoch: 4, brokerId: 2 })).toBe('FENCED_LEADER_EPOCH');
    expect(error({ brokerId: 2 })).toBe('INVALID_REQUEST');
    expect(error({ partitionEpoch: 6 })).toBe('INVALID_UPDATE_VERSION');
    expect(error({ newIsr: [] })).toBe('INVALID_REQUEST');
    expect(error({ newIsr: [1, 1] })).toBe('INVALID_REQUEST');
    expect(error({ newIsr: [1, 4] })).toBe('INVALID_REQUEST');
    expect(error({ newIsr: [2, 3] })).toBe('INVALID_REQUEST');
    const dead3 = applyEvent(
      { ...image, topics: { t: { ...image.topics.t!, partitions: [{ ...P0, isr: [1, 2] }] } } },
      { type: 'BrokerFenced', brokerId: 3 },
    ).image;
    expect(
      alterPartition(dead3, {
        brokerId: 1,
        topic: 't',
        partition: 0,
        leaderEpoch: 0,
        partitionEpoch: 0,
        newIsr: [1, 2, 3],
      }).error?.error,
    ).toBe('INELIGIBLE_REPLICA');
  });
});
