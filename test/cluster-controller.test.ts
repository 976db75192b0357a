/**
 * The controller step over random histories: brokers die and return (the
 * controller among them), topics are created, leaders propose ISR changes
 * (valid and stale), preferred elections run, unclean election is switched
 * on and off. After every step the invariants of docs/cluster.md hold. A
 * second history keeps one image per broker, as pushed and persisted, and
 * shows that a new controller starts from every committed change.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ControllerEvent,
  type ControllerResult,
  type MetadataImage,
  NO_LEADER,
  acceptsPush,
  applyEvent,
  committedMetadataOffset,
  diffImages,
  emptyImage,
  imageFromJson,
  imageToJson,
  newerImage,
  uncleanLeaderElectionEnabled,
  validateImage,
} from '../src/cluster/index.js';

const BROKERS = [1, 2, 3, 4];
const TOPICS = ['a', 'b', 'c'];

type Op =
  | { kind: 'kill'; id: number }
  | { kind: 'revive'; id: number }
  | {
      kind: 'create';
      topic: number;
      partitions: number;
      rf: number;
      unclean: boolean;
      start: number;
      shift: number;
    }
  | { kind: 'alter'; topic: number; partition: number; how: AlterHow; pick: number }
  | { kind: 'preferred'; topic: number | undefined }
  | { kind: 'unclean'; topic: number; on: boolean };
type AlterHow = 'shrink' | 'expand' | 'staleLeader' | 'stalePartition' | 'notLeader' | 'deadMember';

const id = fc.constantFrom(...BROKERS);
const small = fc.nat({ max: 99 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('kill' as const), id }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('revive' as const), id }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('create' as const),
      topic: fc.nat({ max: TOPICS.length - 1 }),
      partitions: fc.integer({ min: 1, max: 6 }),
      rf: fc.integer({ min: 1, max: 4 }),
      unclean: fc.boolean(),
      start: small,
      shift: small,
    }),
  },
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('alter' as const),
      topic: fc.nat({ max: TOPICS.length - 1 }),
      partition: fc.nat({ max: 5 }),
      how: fc.constantFrom<AlterHow>(
        'shrink',
        'expand',
        'expand',
        'expand',
        'staleLeader',
        'stalePartition',
        'notLeader',
        'deadMember',
      ),
      pick: small,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('preferred' as const),
      topic: fc.option(fc.nat({ max: TOPICS.length - 1 }), { nil: undefined }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('unclean' as const),
      topic: fc.nat({ max: TOPICS.length - 1 }),
      on: fc.boolean(),
    }),
  },
);

/** A cluster as the tests see it: which brokers really run, and the controller's image. */
class World {
  up = new Set(BROKERS);
  image: MetadataImage;
  /** The error each AlterPartition must get (undefined: accepted). */
  expectedError: string | undefined | null = null;

  constructor() {
    const empty = emptyImage(BROKERS.map((b) => ({ id: b, host: '127.0.0.1', port: 9100 + b })));
    this.image = applyEvent(empty, {
      type: 'BecomeController',
      brokerId: 1,
      controllerEpoch: 1,
      liveBrokerIds: BROKERS,
    }).image;
  }

  /** The event an operation turns into, as the brokers' liveness and the wiring would produce it. */
  event(op: Op): ControllerEvent | undefined {
    this.expectedError = null;
    const controller = this.image.controllerId;
    switch (op.kind) {
      case 'kill': {
        if (!this.up.has(op.id) || this.up.size === 1) return undefined;
        this.up.delete(op.id);
        if (op.id !== controller) return { type: 'BrokerFenced', brokerId: op.id };
        return this.takeOver();
      }
      case 'revive': {
        if (this.up.has(op.id)) return undefined;
        this.up.add(op.id);
        if (op.id > controller) return { type: 'BrokerUnfenced', brokerId: op.id };
        return this.takeOver(); // a lower id is back: it becomes the controller
      }
      case 'create':
        return {
          type: 'CreateTopic',
          name: TOPICS[op.topic]!,
          partitions: op.partitions,
          replicationFactor: op.rf,
          configs: op.unclean ? { 'unclean.leader.election.enable': 'true' } : {},
          placement: { startIndex: op.start, replicaShift: op.shift },
        };
      case 'preferred': {
        const topic = op.topic === undefined ? undefined : this.existing(op.topic);
        if (topic === undefined) return { type: 'ElectPreferredLeaders' };
        const partitions = this.image.topics[topic]!.partitions.map((_, i) => ({
          topic,
          partition: i,
        }));
        return { type: 'ElectPreferredLeaders', partitions };
      }
      case 'unclean': {
        const topic = this.existing(op.topic) ?? 'none';
        return {
          type: 'AlterTopicConfigs',
          topic,
          configs: { 'unclean.leader.election.enable': op.on ? 'true' : null },
        };
      }
      case 'alter':
        return this.alter(op);
    }
  }

  private takeOver(): ControllerEvent {
    return {
      type: 'BecomeController',
      brokerId: Math.min(...this.up),
      controllerEpoch: this.image.controllerEpoch + 1,
      liveBrokerIds: [...this.up],
    };
  }

  /** Operations on a topic pick among the topics that exist, so that few are wasted. */
  private existing(index: number): string | undefined {
    const names = Object.keys(this.image.topics).sort();
    return names.length === 0 ? undefined : names[index % names.length];
  }

  private alter(op: Extract<Op, { kind: 'alter' }>): ControllerEvent | undefined {
    const topic = this.existing(op.topic + op.pick);
    if (topic === undefined) return undefined;
    const t = this.image.topics[topic]!;
    const partition = op.partition % t.partitions.length;
    const p = t.partitions[partition]!;
    if (p.leader === NO_LEADER) return undefined;
    const base = {
      type: 'AlterPartition' as const,
      brokerId: p.leader,
      topic,
      partition,
      leaderEpoch: p.leaderEpoch,
      partitionEpoch: p.partitionEpoch,
    };
    const followers = p.isr.filter((r) => r !== p.leader);
    const outside = p.replicas.filter((r) => !p.isr.includes(r));
    const pick = <T>(xs: T[]): T | undefined => xs[op.pick % Math.max(1, xs.length)];
    const liveOutside = outside.filter((r) => this.up.has(r));
    const deadOutside = outside.filter((r) => !this.up.has(r));
    switch (op.how) {
      case 'shrink':
      case 'expand': {
        // Expand when a live replica is outside the ISR (the preferred one first), else shrink.
        const add = op.how === 'expand' ? (liveOutside[0] ?? pick(liveOutside)) : undefined;
        const drop = pick(followers);
        if (add === undefined && drop === undefined) return undefined;
        this.expectedError = undefined;
        return {
          ...base,
          newIsr: add !== undefined ? [...p.isr, add] : p.isr.filter((r) => r !== drop),
        };
      }
      case 'staleLeader':
        if (p.leaderEpoch === 0) return undefined;
        this.expectedError = 'FENCED_LEADER_EPOCH';
        return {
          ...base,
          leaderEpoch: p.leaderEpoch - 1 - (op.pick % p.leaderEpoch),
          newIsr: p.isr,
        };
      case 'stalePartition':
        if (p.partitionEpoch === 0) return undefined;
        this.expectedError = 'INVALID_UPDATE_VERSION';
        return { ...base, partitionEpoch: p.partitionEpoch - 1, newIsr: p.isr };
      case 'notLeader': {
        const other = pick(p.replicas.filter((r) => r !== p.leader));
        if (other === undefined) return undefined;
        this.expectedError = 'INVALID_REQUEST';
        return { ...base, brokerId: other, newIsr: p.isr };
      }
      case 'deadMember': {
        const dead = pick(deadOutside);
        if (dead === undefined) return undefined;
        this.expectedError = 'INELIGIBLE_REPLICA';
        return { ...base, newIsr: [...p.isr, dead] };
      }
    }
  }
}

/** Every invariant of one step from `before` to `result.image`. */
function checkStep(
  world: World,
  before: MetadataImage,
  event: ControllerEvent,
  result: ControllerResult,
  rfs: Map<string, number>,
): void {
  const after = result.image;
  expect(validateImage(JSON.parse(JSON.stringify(after)))).toEqual(after);
  // The version moves by one exactly when something changed; changes are the diff.
  expect(after.metadataOffset).toBe(before.metadataOffset + (after === before ? 0 : 1));
  expect(result.changes).toEqual(after === before ? [] : diffImages(before, after));
  // The controller is the lowest live broker; its epoch never goes back.
  expect(after.controllerId).toBe(Math.min(...world.up));
  expect(after.controllerEpoch).toBeGreaterThanOrEqual(before.controllerEpoch);
  if (event.type === 'BecomeController')
    expect(after.controllerEpoch).toBeGreaterThan(before.controllerEpoch);
  // The image knows who is live.
  for (const b of after.brokers) expect(b.live).toBe(world.up.has(b.id));
  if (world.expectedError !== null) expect(result.error?.error).toBe(world.expectedError);

  for (const [name, topic] of Object.entries(after.topics)) {
    const old = before.topics[name];
    if (old === undefined) rfs.set(name, topic.partitions[0]!.replicas.length);
    const uncleanAllowed =
      uncleanLeaderElectionEnabled(topic) ||
      (old !== undefined && uncleanLeaderElectionEnabled(old));
    topic.partitions.forEach((p, i) => {
      // Replicas: distinct, R of them, never moved.
      expect(new Set(p.replicas).size).toBe(p.replicas.length);
      expect(p.replicas.length).toBe(rfs.get(name));
      // A leader is a live ISR member, or there is none; the ISR is never empty.
      expect(p.isr.length).toBeGreaterThan(0);
      if (p.leader !== NO_LEADER) {
        expect(p.isr).toContain(p.leader);
        expect(world.up.has(p.leader)).toBe(true);
      }
      const q = old?.partitions[i];
      if (q === undefined) return;
      expect(p.replicas).toEqual(q.replicas);
      // Epochs never decrease; the leader epoch moves exactly when the leader does.
      expect(p.partitionEpoch).toBeGreaterThanOrEqual(q.partitionEpoch);
      expect(p.leaderEpoch).toBeGreaterThanOrEqual(q.leaderEpoch);
      expect(p.leaderEpoch > q.leaderEpoch).toBe(p.leader !== q.leader);
      if (p !== q && !(p.leader === q.leader && p.isr.join() === q.isr.join())) {
        expect(p.partitionEpoch).toBeGreaterThan(q.partitionEpoch);
      }
      // Without unclean election a new leader comes from the previous ISR, so it holds every
      // committed record (a record is committed once every ISR member has it).
      if (p.leader !== q.leader && p.leader !== NO_LEADER && !uncleanAllowed) {
        expect(q.isr).toContain(p.leader);
      }
      // An ISR only grows by AlterPartition, with live brokers.
      if (event.type !== 'AlterPartition' && !(uncleanAllowed && p.isr.length === 1)) {
        for (const r of p.isr) expect(q.isr).toContain(r);
      }
    });
  }
}

describe('the controller over random histories', () => {
  it('keeps every invariant after every step', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 5, maxLength: 60 }), (ops) => {
        const world = new World();
        const rfs = new Map<string, number>();
        for (const op of ops) {
          const event = world.event(op);
          if (event === undefined) continue;
          const before = world.image;
          const result = applyEvent(before, event);
          checkStep(world, before, event, result, rfs);
          world.image = result.image;
        }
        expect(imageFromJson(imageToJson(world.image))).toEqual(world.image);
      }),
      { numRuns: 150 },
    );
  });

  it('once every broker is back and caught up, a preferred election restores every preferred leader', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 5, maxLength: 40 }), (ops) => {
        const world = new World();
        const step = (event: ControllerEvent | undefined) => {
          if (event === undefined) return undefined;
          const before = world.image;
          const result = applyEvent(before, event);
          checkStep(
            world,
            before,
            event,
            result,
            new Map(
              Object.entries(before.topics).map(([n, t]) => [n, t.partitions[0]!.replicas.length]),
            ),
          );
          world.image = result.image;
          return result;
        };
        for (const op of ops) step(world.event(op));
        for (const b of BROKERS) step(world.event({ kind: 'revive', id: b }));
        // Every partition has a leader again: its last ISR member is back.
        for (const [topic, t] of Object.entries(world.image.topics)) {
          t.partitions.forEach((p, partition) => {
            expect(p.leader).not.toBe(NO_LEADER);
            // Its leader has caught every follower up and asks for them all.
            world.expectedError = undefined;
            step({
              type: 'AlterPartition',
              brokerId: p.leader,
              topic,
              partition,
              leaderEpoch: p.leaderEpoch,
              partitionEpoch: p.partitionEpoch,
              newIsr: p.replicas,
            });
          });
        }
        const result = step({ type: 'ElectPreferredLeaders' })!;
        for (const e of result.elections!)
          expect(['NONE', 'ELECTION_NOT_NEEDED']).toContain(e.outcome);
        for (const t of Object.values(world.image.topics)) {
          for (const p of t.partitions) expect(p.leader).toBe(p.replicas[0]);
        }
      }),
      { numRuns: 100 },
    );
  });
});

describe('CreateTopics', () => {
  const world = new World();
  const create = (over: Partial<Extract<ControllerEvent, { type: 'CreateTopic' }>>) =>
    applyEvent(world.image, {
      type: 'CreateTopic',
      name: 'orders',
      partitions: 3,
      replicationFactor: 3,
      ...over,
    });

  it('places replicas on live brokers, the preferred replica leading at epoch 0', () => {
    const r = create({ placement: { startIndex: 0, replicaShift: 0 } });
    // The ISR is kept in replica order: [3, 4, 1], not sorted.
    expect(r.image.topics.orders!.partitions).toEqual([
      { replicas: [1, 2, 3], isr: [1, 2, 3], leader: 1, leaderEpoch: 0, partitionEpoch: 0 },
      { replicas: [2, 3, 4], isr: [2, 3, 4], leader: 2, leaderEpoch: 0, partitionEpoch: 0 },
      { replicas: [3, 4, 1], isr: [3, 4, 1], leader: 3, leaderEpoch: 0, partitionEpoch: 0 },
    ]);
    expect(r.changes).toHaveLength(3);
  });

  it('refuses what Kafka refuses', () => {
    const existing = create({}).image;
    expect(
      applyEvent(existing, {
        type: 'CreateTopic',
        name: 'orders',
        partitions: 1,
        replicationFactor: 1,
      }).error?.error,
    ).toBe('TOPIC_ALREADY_EXISTS');
    expect(create({ name: 'a/b' }).error?.error).toBe('INVALID_TOPIC_EXCEPTION');
    expect(create({ name: '..' }).error?.error).toBe('INVALID_TOPIC_EXCEPTION');
    expect(create({ partitions: 0 }).error?.error).toBe('INVALID_PARTITIONS');
    expect(create({ replicationFactor: 5 }).error?.error).toBe('INVALID_REPLICATION_FACTOR');
    expect(create({ configs: { 'min.insync.replicas': '0' } }).error?.error).toBe('INVALID_CONFIG');
    expect(create({ configs: { 'unclean.leader.election.enable': 'yes' } }).error?.error).toBe(
      'INVALID_CONFIG',
    );
    const threeLive = applyEvent(world.image, { type: 'BrokerFenced', brokerId: 4 }).image;
    expect(
      applyEvent(threeLive, { type: 'CreateTopic', name: 'x', partitions: 1, replicationFactor: 4 })
        .error?.error,
    ).toBe('INVALID_REPLICATION_FACTOR');
  });
});

describe('controller failover', () => {
  it('refuses a controller epoch that is not above the image’s', () => {
    const world = new World();
    const r = applyEvent(world.image, {
      type: 'BecomeController',
      brokerId: 2,
      controllerEpoch: 1,
      liveBrokerIds: BROKERS,
    });
    expect(r.error?.error).toBe('STALE_CONTROLLER_EPOCH');
    expect(r.image).toBe(world.image);
  });

  it('brokers ignore pushes from a fenced (older) controller', () => {
    expect(
      acceptsPush(
        { controllerEpoch: 2, metadataOffset: 5 },
        { controllerEpoch: 1, metadataOffset: 9 },
      ),
    ).toBe(false);
    expect(
      acceptsPush(
        { controllerEpoch: 2, metadataOffset: 5 },
        { controllerEpoch: 2, metadataOffset: 5 },
      ),
    ).toBe(false);
    expect(
      acceptsPush(
        { controllerEpoch: 2, metadataOffset: 5 },
        { controllerEpoch: 2, metadataOffset: 6 },
      ),
    ).toBe(true);
    expect(
      acceptsPush(
        { controllerEpoch: 2, metadataOffset: 5 },
        { controllerEpoch: 3, metadataOffset: 1 },
      ),
    ).toBe(true);
  });

  it('commits a change once every live broker has acknowledged it', () => {
    const controller = { controllerId: 1, controllerEpoch: 1, metadataOffset: 10 };
    const acks = new Map([
      [2, 10],
      [3, 8],
      [4, 3],
    ]);
    expect(committedMetadataOffset(controller, acks, [1, 2, 3, 4])).toBe(3);
    expect(committedMetadataOffset(controller, acks, [1, 2, 3])).toBe(8); // 4 fenced: not waited for
    expect(committedMetadataOffset(controller, new Map(), [1])).toBe(10);
  });

  it('a new controller starts from every committed change while one broker that acknowledged it runs', () => {
    // Each broker keeps the image it last persisted. The controller pushes each new image to some
    // live brokers (a push cut short by its death reaches only a few). When it dies, the next one
    // takes the newest image among the live brokers and bumps the controller epoch.
    fc.assert(
      fc.property(
        fc.array(fc.tuple(opArb, fc.array(fc.boolean(), { minLength: 4, maxLength: 4 })), {
          minLength: 5,
          maxLength: 50,
        }),
        (steps) => {
          const world = new World();
          const persisted = new Map(BROKERS.map((b) => [b, world.image]));
          let committed = world.image.metadataOffset;
          // The brokers that acknowledged the latest committed offset (live when it was reached).
          let holders = new Set(BROKERS);
          let lost = false;
          const leaderEpochsActedOn = new Map<string, number>();
          for (const [op, reached] of steps) {
            let event = world.event(op);
            if (event === undefined) continue;
            if (event.type === 'BecomeController') {
              const start = [...world.up].map((b) => persisted.get(b)!).reduce(newerImage);
              // Guaranteed while one broker that acknowledged the commit runs; if all of them are
              // down, the change is down with them (docs/cluster.md: what this is not).
              if ([...world.up].some((b) => holders.has(b))) {
                expect(start.metadataOffset).toBeGreaterThanOrEqual(committed);
              } else {
                lost = true;
              }
              event = { ...event, controllerEpoch: start.controllerEpoch + 1 };
              world.image = start;
            }
            const result = applyEvent(world.image, event);
            world.image = result.image;
            const controller = world.image.controllerId;
            persisted.set(controller, world.image);
            BROKERS.forEach((b, i) => {
              if (world.up.has(b) && reached[i] && acceptsPush(persisted.get(b)!, world.image))
                persisted.set(b, world.image);
            });
            const acks = new Map(BROKERS.map((b) => [b, persisted.get(b)!.metadataOffset]));
            const nowCommitted = committedMetadataOffset(world.image, acks, world.up);
            if (nowCommitted > committed) {
              committed = nowCommitted;
              holders = new Set([...world.up].filter((b) => acks.get(b)! >= committed));
            }
            // Brokers act only on committed images: no leader epoch is ever handed out twice.
            if (!lost && nowCommitted === world.image.metadataOffset) {
              for (const c of diffImages(emptyImage([]), world.image)) {
                const key = `${c.topic}-${c.partition}`;
                expect(c.after.leaderEpoch).toBeGreaterThanOrEqual(
                  leaderEpochsActedOn.get(key) ?? 0,
                );
                leaderEpochsActedOn.set(key, c.after.leaderEpoch);
              }
            }
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
