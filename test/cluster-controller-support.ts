/**
 * Helpers shared by the controller tests: a four-broker cluster as the tests see it
 * (World), and random operations on it (opArb) that World turns into controller events.
 */
import fc from 'fast-check';
import {
  type ControllerEvent,
  type MetadataImage,
  NO_LEADER,
  applyEvent,
  emptyImage,
} from '../src/cluster/index.js';

export const BROKERS = [1, 2, 3, 4];
export const TOPICS = ['a', 'b', 'c'];

export type Op =
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
export type AlterHow =
  'shrink' | 'expand' | 'staleLeader' | 'stalePartition' | 'notLeader' | 'deadMember';

const id = fc.constantFrom(...BROKERS);
const small = fc.nat({ max: 99 });
export const opArb: fc.Arbitrary<Op> = fc.oneof(
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
export class World {
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
