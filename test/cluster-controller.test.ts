/**
 * The controller step over random histories: brokers die and return (the
 * controller among them), topics are created, leaders propose ISR changes
 * (valid and stale), preferred elections run, unclean election is switched
 * on and off. After every step the invariants of docs/cluster.md hold.
 * CreateTopics is checked on its own too. Failover: cluster-controller-failover.test.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ControllerEvent,
  type ControllerResult,
  type MetadataImage,
  NO_LEADER,
  applyEvent,
  diffImages,
  imageFromJson,
  imageToJson,
  uncleanLeaderElectionEnabled,
  validateImage,
} from '../src/cluster/index.js';
import { BROKERS, World, opArb } from './cluster-controller-support.js';

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
