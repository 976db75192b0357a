/**
 * Chapter 4, "Linear scalability". Run it with `npm run book -- 04-scalability`
 * and read 04-scalability.md beside it. Counts are what the broker and the
 * consumers reported; throughput figures are measured in this run and only
 * printed, never checked.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { partitionForKey } from '../src/index.js';
import { type BookBroker, Reader, withBroker } from './lib/client.js';
import * as w from './lib/walkthrough.js';

const RECORDS = 20_000;
const PER_SEND = 500;
const N = 4;
const VALUE = Buffer.alloc(100, 'v');

const keyOf = (i: number): string => `user-${i}`;
const rate = (n: number, ms: number): string => Math.round((n / ms) * 1000).toLocaleString('en');

async function produce(b: BookBroker, topic: string): Promise<number> {
  const producer = b.producer();
  const start = performance.now();
  const sends: Promise<unknown>[] = [];
  for (let s = 0; s * PER_SEND < RECORDS; s++)
    sends.push(
      producer.send(
        topic,
        Array.from({ length: PER_SEND }, (_, i) => ({
          key: Buffer.from(keyOf(s * PER_SEND + i)),
          value: VALUE,
        })),
      ),
    );
  await Promise.all(sends);
  const ms = performance.now() - start;
  await producer.close();
  return ms;
}

/** One consumer per partition, all reading at once; each takes exactly `counts[p]` records. */
async function consume(b: BookBroker, topic: string, counts: number[]) {
  const readers = counts.map((_, partition) => {
    const r = new Reader(b.consumer({ autoOffsetReset: 'earliest' }));
    r.consumer.assign([{ topic, partition }]);
    return r;
  });
  const start = performance.now();
  const got = await Promise.all(readers.map((r, p) => r.take(counts[p]!, 30_000)));
  const ms = performance.now() - start;
  await Promise.all(readers.map((r) => r.consumer.close()));
  return { got, ms };
}

const dirBytes = (dir: string): number =>
  readdirSync(dir).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);

await w.runWalkthrough('Chapter 4 · Linear scalability', () =>
  w.withTempDir('04-scalability', (dir) =>
    withBroker(dir, async (b) => {
      await b.admin.createTopics([
        { name: 'views-1', numPartitions: 1 },
        { name: `views-${N}`, numPartitions: N },
      ]);
      w.say(
        `A broker on ${b.bootstrap}; topic views-1 has 1 partition, views-${N} has ${N}. Each gets ${RECORDS.toLocaleString('en')} records of ${VALUE.length} bytes, keyed user-0 … user-${RECORDS - 1}.`,
      );

      // #region spread
      w.heading('1. Keys spread the records over every partition');
      const produceMs: Record<string, number> = {};
      await produce(b, 'warm-up'); // so that neither measured run pays for the JIT warming up
      for (const topic of ['views-1', `views-${N}`]) produceMs[topic] = await produce(b, topic);
      const ends = (await b.admin.listOffsets(`views-${N}`, 'latest')).map((o) => o.offset);
      const expected = Array.from({ length: N }, () => 0);
      for (let i = 0; i < RECORDS; i++) expected[partitionForKey(Buffer.from(keyOf(i)), N)]! += 1;
      const dataDir = join(dir, 'broker');
      w.say(
        `Per partition of views-${N}: records (log end offset, from ListOffsets), share, and bytes on disk:`,
      );
      w.table(
        ['partition', 'records', 'share', 'murmur2 predicted', 'directory', 'bytes'],
        ends.map((n, p) => [
          p,
          n,
          `${((100 * n) / RECORDS).toFixed(1)}%`,
          expected[p]!,
          `views-${N}-${p}/`,
          dirBytes(join(dataDir, `views-${N}-${p}`)),
        ]),
      );
      w.say(
        `For comparison, views-1-0/ holds all of them: ${dirBytes(join(dataDir, 'views-1-0'))} bytes.`,
      );
      w.check(
        ends.length === N &&
          ends.every((n) => n > 0) &&
          ends.reduce((a, n) => a + n, 0) === RECORDS,
        `all ${RECORDS} records are there, spread over all ${N} partitions`,
      );
      w.check(
        ends.every((n, p) => n === expected[p]),
        'each partition holds exactly the records whose key hashes to it',
      );
      w.check(
        ends.every((n) => n > RECORDS / N / 2 && n < (RECORDS / N) * 2),
        `no partition holds less than half or more than twice its fair share (${RECORDS / N})`,
      );
      // #endregion spread

      // #region share
      w.heading(`2. ${N} consumers, each reading only its share`);
      const many = await consume(b, `views-${N}`, ends);
      w.table(
        ['consumer', 'partition', 'records read', 'offsets'],
        many.got.map((rs, p) => [`#${p}`, p, rs.length, `${rs[0]!.offset}–${rs.at(-1)!.offset}`]),
      );
      const keys = new Set(many.got.flat().map((r) => r.key?.toString()));
      w.check(
        many.got.every((rs, p) => rs.length === ends[p] && rs.every((r) => r.partition === p)),
        'each consumer read exactly the records of its own partition, and nothing else',
      );
      w.check(keys.size === RECORDS, `together they read all ${RECORDS} distinct keys, each once`);
      const one = await consume(b, 'views-1', [RECORDS]);
      // #endregion share

      // #region throughput
      w.heading('3. Throughput, as measured in this run (information, not a check)');
      w.table(
        [
          'topic',
          'partitions',
          'produce ms',
          'produce records/s',
          'consumers',
          'consume ms',
          'consume records/s',
        ],
        [
          [
            'views-1',
            1,
            Math.round(produceMs['views-1']!),
            rate(RECORDS, produceMs['views-1']!),
            1,
            Math.round(one.ms),
            rate(RECORDS, one.ms),
          ],
          [
            `views-${N}`,
            N,
            Math.round(produceMs[`views-${N}`]!),
            rate(RECORDS, produceMs[`views-${N}`]!),
            N,
            Math.round(many.ms),
            rate(RECORDS, many.ms),
          ],
        ],
      );
      w.say(
        `Everything here (one broker, the producer and all ${N} consumers) shares this one Node process and its single JavaScript thread, so these figures cannot be expected to show ${N} times the throughput; see 04-scalability.md for what partitions buy on real machines.`,
      );
      w.check(
        one.got[0]!.length === RECORDS,
        `the single consumer of views-1 had to read all ${RECORDS} itself`,
      );
      // #endregion throughput
    }),
  ),
);
