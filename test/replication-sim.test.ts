/**
 * Random histories of a partition on three replicas: produce, follower
 * fetches, time, crashes (a process kill keeps the page cache, a power loss
 * keeps only what was flushed), restarts, flushes and leader elections. After
 * every step the leader's high watermark has not moved back and is within
 * every ISR member's log; after a final reconciliation (everyone restarted,
 * followers fetch until caught up) every replica holds exactly the leader's
 * log, and no truncation ever cut below what a follower shared with the
 * leader.
 *
 * With clean elections only, no record that ever reached the high watermark
 * is lost, on the condition Kafka states for its guarantee: one in-sync
 * replica keeps its log (a power loss never hits the last ISR member).
 * Unclean elections, or a power loss of the last ISR member, can lose
 * committed records: those runs count the losses and print them, as a
 * statistic, not an assertion.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SimCluster } from '../src/replication/sim.js';

const REPLICAS = 3;
const LAG = 100;

type Op =
  | { kind: 'produce'; count: number }
  | { kind: 'fetch'; id: number; max: number }
  | { kind: 'tick'; ms: number }
  | { kind: 'crash'; id: number; powerLoss: boolean }
  | { kind: 'restart'; id: number }
  | { kind: 'flush'; id: number }
  | { kind: 'elect'; id: number };

const id = fc.integer({ min: 0, max: REPLICAS - 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('produce' as const),
      count: fc.integer({ min: 1, max: 3 }),
    }),
  },
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('fetch' as const),
      id,
      max: fc.constantFrom(1, 2, 1000),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('tick' as const),
      ms: fc.integer({ min: 0, max: 150 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('crash' as const), id, powerLoss: fc.boolean() }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('restart' as const), id }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('flush' as const), id }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('elect' as const), id }) },
);

interface Mode {
  /** 'offline': Kafka's unclean.leader.election.enable (only when no ISR member is alive); 'any': any live replica, any time. */
  unclean: false | 'offline' | 'any';
  /** Let a power loss hit the last ISR member (Kafka's guarantee assumes one ISR member keeps its log). */
  powerLossOfLastIsr: boolean;
  truncateOnFetch: boolean;
}

// #region run
function run(ops: Op[], mode: Mode): SimCluster {
  const sim = new SimCluster({
    replicas: REPLICAS,
    replicaLagTimeMaxMs: LAG,
    truncateOnFetch: mode.truncateOnFetch,
    uncleanLeaderElection: mode.unclean !== false,
  });
  let term = sim.leaderEpoch;
  let termHighWatermark = 0;
  const check = () => {
    const leader = sim.leader;
    if (leader === undefined) return;
    expect(leader.alive).toBe(true);
    if (sim.leaderEpoch !== term) {
      term = sim.leaderEpoch;
      termHighWatermark = leader.highWatermark;
    }
    expect(leader.highWatermark, 'the HW moved back').toBeGreaterThanOrEqual(termHighWatermark);
    termHighWatermark = leader.highWatermark;
    for (const member of sim.isr)
      expect(leader.highWatermark, `HW past ISR member ${member}`).toBeLessThanOrEqual(
        sim.replicas[member]!.logEndOffset,
      );
  };
  for (const op of ops) {
    switch (op.kind) {
      case 'produce':
        sim.produce(op.count);
        break;
      case 'fetch':
        sim.fetch(op.id, op.max);
        break;
      case 'tick':
        sim.tick(op.ms);
        break;
      case 'crash': {
        const lastIsr = sim.isr.size === 1 && sim.isr.has(op.id);
        sim.crash(op.id, { powerLoss: op.powerLoss && (mode.powerLossOfLastIsr || !lastIsr) });
        break;
      }
      case 'restart':
        sim.restart(op.id);
        break;
      case 'flush':
        sim.flush(op.id);
        break;
      case 'elect':
        sim.electLeader(op.id, { unclean: mode.unclean === 'any' });
        break;
    }
    check();
  }
  reconcile(sim);
  check();
  return sim;
}

/** Everyone back; followers fetch until their logs end where the leader's does. */
function reconcile(sim: SimCluster): void {
  for (const r of sim.replicas) sim.restart(r.id);
  if (sim.leaderId === undefined) sim.electLeader([...sim.isr][0]!);
  for (let round = 0; round < 30; round++) {
    for (const r of sim.replicas) sim.fetch(r.id);
    const end = sim.leader!.logEndOffset;
    if (round > 0 && sim.replicas.every((r) => r.logEndOffset === end)) break;
  }
  const leader = sim.leader!;
  for (const r of sim.replicas)
    expect(r.log, `replica ${r.id} after reconciliation`).toEqual(leader.log);
  expect(sim.stats.overTruncations).toBe(0);
  expect(sim.stats.outOfRange).toBe(0);
}
// #endregion run

const historyArb = fc.array(opArb, { minLength: 10, maxLength: 80 });

describe('replication over random histories', () => {
  for (const truncateOnFetch of [false, true]) {
    const path = truncateOnFetch ? 'diverging epochs in Fetch answers' : 'OffsetsForLeaderEpoch';
    it(`clean elections: replicas converge and no committed record is lost (${path})`, () => {
      const totals = {
        committed: 0,
        truncated: 0,
        epochQuestions: 0,
        divergingFetches: 0,
        elections: 0,
      };
      fc.assert(
        fc.property(historyArb, (ops) => {
          const sim = run(ops, { unclean: false, powerLossOfLastIsr: false, truncateOnFetch });
          expect(sim.lostRecords()).toEqual([]);
          expect(sim.stats.uncleanElections).toBe(0);
          totals.committed += sim.committed.size;
          totals.truncated += sim.stats.truncatedRecords;
          totals.epochQuestions += sim.stats.epochQuestions;
          totals.divergingFetches += sim.stats.divergingFetches;
          totals.elections += sim.stats.elections;
        }),
        { numRuns: 250 },
      );
      // The histories must exercise what they claim to: truncations happened and records were committed.
      expect(totals.committed).toBeGreaterThan(0);
      expect(totals.truncated).toBeGreaterThan(0);
      expect(truncateOnFetch ? totals.divergingFetches : totals.epochQuestions).toBeGreaterThan(0);
    });
  }

  it('reports how often committed records are lost without the clean-election guarantee', () => {
    const modes: [string, Mode][] = [
      [
        'unclean election when no ISR member is alive (Kafka’s unclean.leader.election.enable)',
        { unclean: 'offline', powerLossOfLastIsr: false, truncateOnFetch: true },
      ],
      [
        'unclean election of any live replica at any time',
        { unclean: 'any', powerLossOfLastIsr: false, truncateOnFetch: true },
      ],
      [
        'clean elections, but a power loss may hit the last ISR member',
        { unclean: false, powerLossOfLastIsr: true, truncateOnFetch: true },
      ],
    ];
    const report: string[] = [];
    for (const [name, mode] of modes) {
      const stat = { histories: 0, withLoss: 0, committed: 0, lost: 0, uncleanElections: 0 };
      fc.assert(
        fc.property(historyArb, (ops) => {
          const sim = run(ops, mode); // convergence is still asserted
          const lost = new Set(sim.lostRecords().map((r) => r.id));
          stat.histories++;
          stat.committed += sim.committed.size;
          stat.lost += lost.size;
          stat.uncleanElections += sim.stats.uncleanElections;
          if (lost.size > 0) stat.withLoss++;
        }),
        { numRuns: 250, seed: 2024 },
      );
      report.push(
        `${name}: ${stat.withLoss}/${stat.histories} histories lost committed records ` +
          `(${stat.lost} lost of ${stat.committed} committed; ${stat.uncleanElections} unclean elections)`,
      );
      expect(stat.histories).toBe(250);
    }
    console.log(`replication loss statistics (seed 2024):\n  ${report.join('\n  ')}`);
  });
});
