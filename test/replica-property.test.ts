/**
 * A property over random schedules on three brokers (replica-support.ts):
 * produces with acks=1 and acks=all to whoever leads, brokers cut off and
 * back, the leader cut off and fenced (the controller elects another from
 * the ISR) and later returning, time moving past replica.lag.time.max.ms
 * (so ISRs shrink and grow through AlterPartition), pauses that let the
 * fetchers run.
 *
 * Checked at every change of any replica (from the partitions' own waiters,
 * not only between steps): a leader's high watermark never moves back within
 * its leader epoch, and never passes the log end offset of any member of the
 * ISR it holds. At the end, with every broker back: the three logs are the
 * same bytes, the ISR is full, and every record an acks=all produce was
 * answered 0 for is in the log (clean elections lose nothing committed).
 */
import fc from 'fast-check';
import { afterEach, expect, it } from 'vitest';
import type { Partition } from '../src/broker/partition.js';
import { NO_LEADER } from '../src/cluster/metadata-image.js';
import { batch, produceBody, values } from './broker-support.js';
import { TestCluster, logBytes } from './replica-support.js';

type Broker = 1 | 2 | 3;
type Op =
  | { kind: 'produce'; count: number; acks: 1 | -1 }
  | { kind: 'cut'; broker: Broker }
  | { kind: 'heal'; broker: Broker }
  | { kind: 'failover' }
  | { kind: 'recover' }
  | { kind: 'advance'; ms: number }
  | { kind: 'pause' };

const broker = fc.constantFrom<Broker>(1, 2, 3);
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('produce' as const),
      count: fc.integer({ min: 1, max: 5 }),
      acks: fc.constantFrom<1 | -1>(1, -1),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cut' as const), broker }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('heal' as const), broker }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('failover' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('recover' as const) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      ms: fc.integer({ min: 100, max: 1_500 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('pause' as const) }) },
);

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

const LAG_MS = 1_000;
const IDS: Broker[] = [1, 2, 3];

/** Records every violation of the HW rules, at every change of any replica. */
function watch(c: TestCluster, topic: string) {
  const violations: string[] = [];
  const last = new Map<Partition, { epoch: number; hw: number }>();
  const partitions = IDS.map((id) => c.partition(id, topic));
  const check = () => {
    for (const p of partitions) {
      if (p.role !== 'leader' || p.isClosed) continue;
      const seen = last.get(p);
      if (seen !== undefined && seen.epoch === p.leaderEpoch && p.highWatermark < seen.hw)
        violations.push(`${p.leaderId}: HW moved back from ${seen.hw} to ${p.highWatermark}`);
      last.set(p, { epoch: p.leaderEpoch, hw: p.highWatermark });
      for (const id of p.isr) {
        const end = c.partition(id, topic).logEndOffset;
        if (p.highWatermark > end)
          violations.push(`${p.leaderId}: HW ${p.highWatermark} passed broker ${id}'s end ${end}`);
      }
    }
  };
  const stops = partitions.map((p) => p.onChange(check));
  return { violations, check, stop: () => stops.forEach((s) => s()) };
}

it('the HW never moves back nor passes an ISR member; acks=all survives failovers', async () => {
  let run = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 30 }), async (ops) => {
      await cluster?.close();
      const c = (cluster = await TestCluster.start({ lagMs: LAG_MS }));
      const topic = `t${run++}`;
      await c.createTopic(topic, [1, 2, 3]);
      const hw = watch(c, topic);
      const fenced = new Set<number>();
      const acked: string[] = [];
      const waiting: Promise<unknown>[] = [];
      let n = 0;
      for (const o of ops) {
        const leader = c.registration(topic).leader;
        switch (o.kind) {
          case 'produce': {
            if (leader === NO_LEADER) break;
            const vals = Array.from({ length: o.count }, () => `v${n++}`);
            const body = { ...produceBody(topic, 0, batch(vals), o.acks), timeoutMs: 120_000 };
            const answer = c.call(leader, 'Produce', body).then((r) => {
              const e = r.topics[0]!.partitions[0]!.errorCode;
              if (e === 0 && o.acks === -1) acked.push(...vals);
            });
            if (o.acks === 1) await answer;
            else waiting.push(answer);
            break;
          }
          case 'cut':
            c.cut.add(o.broker);
            break;
          case 'heal':
            if (fenced.has(o.broker)) break; // back only with 'recover'
            c.cut.delete(o.broker);
            await c.push(c.node(o.broker));
            break;
          case 'failover':
            if (leader === NO_LEADER) break;
            c.cut.add(leader);
            fenced.add(leader);
            await c.event({ type: 'BrokerFenced', brokerId: leader });
            break;
          case 'recover':
            for (const id of fenced) {
              c.cut.delete(id);
              await c.event({ type: 'BrokerUnfenced', brokerId: id });
            }
            fenced.clear();
            break;
          case 'advance':
            c.scheduler.advance(o.ms);
            break;
          case 'pause':
            await new Promise((r) => setTimeout(r, 20));
            break;
        }
        hw.check();
      }
      c.cut.clear();
      for (const id of fenced) await c.event({ type: 'BrokerUnfenced', brokerId: id });
      for (const node of c.nodes.values()) await c.push(node);
      const leaderId = () => c.registration(topic).leader;
      await c.until(() => leaderId() !== NO_LEADER, 'a leader');
      await c.until(() => c.isr(leaderId(), topic) === '1,2,3', 'the ISR to be full again');
      const leader = c.partition(leaderId(), topic);
      await c.until(
        () =>
          IDS.every((id) => c.partition(id, topic).logEndOffset === leader.logEndOffset) &&
          leader.highWatermark === leader.logEndOffset,
        'the followers to catch up',
      );
      c.scheduler.advance(200_000); // whatever still waits times out
      await Promise.all(waiting);
      hw.stop();
      expect(hw.violations).toEqual([]);
      for (const id of IDS) expect(logBytes(c.partition(id, topic))).toEqual(logBytes(leader));
      const log = new Set(values(logBytes(leader)));
      expect(acked.filter((v) => !log.has(v))).toEqual([]);
    }),
    { numRuns: 25 },
  );
}, 300_000);
