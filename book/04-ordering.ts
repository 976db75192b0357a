/**
 * Chapter 4, "Strong ordering guarantees". Run it with
 * `npm run book -- 04-ordering` and read 04-ordering.md beside it. Partitions,
 * offsets and orders printed are what the producer and consumers reported.
 */
import {
  type ConsumerRecord,
  murmur2,
  partitionForKey,
  stringSerde,
  toPositive,
} from '../src/index.js';
import { type BookBroker, Reader, withBroker } from './lib/client.js';
import * as w from './lib/walkthrough.js';

const TOPIC = 'account-events';
const PARTITIONS = 4;
const KEYS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'];
const EVENTS = 48;

type Rec = ConsumerRecord<string | null, string | null>;
/** Event i goes to account KEYS[(i * 5) % 6]: every account gets 8 events, interleaved. */
const keyOf = (i: number): string => KEYS[(i * 5) % KEYS.length]!;
const seqOf = (r: Rec): number => Number(/seq=(\d+)/.exec(r.value ?? '')![1]);
const sortedAscending = (xs: readonly number[]): boolean =>
  xs.every((x, i) => i === 0 || xs[i - 1]! < x);

async function readAll(b: BookBroker, order: number[]): Promise<Rec[]> {
  const reader = new Reader(
    b.consumer({
      keyDeserializer: stringSerde.deserialize,
      valueDeserializer: stringSerde.deserialize,
      autoOffsetReset: 'earliest',
    }),
  );
  reader.consumer.assign(order.map((partition) => ({ topic: TOPIC, partition })));
  const records = await reader.take(EVENTS);
  await reader.consumer.close();
  return records;
}

await w.runWalkthrough('Chapter 4 · Strong ordering guarantees', () =>
  w.withTempDir('04-ordering', (dir) =>
    withBroker(dir, async (b) => {
      await b.admin.createTopics([{ name: TOPIC, numPartitions: PARTITIONS }]);
      w.say(`A broker on ${b.bootstrap}; topic ${TOPIC} has ${PARTITIONS} partitions.`);

      // #region key-to-partition
      w.heading('1. A key always maps to the same partition');
      w.say(
        "The producer's default partitioner hashes the key bytes with Kafka's murmur2 and takes the result, sign bit cleared, modulo the number of partitions:",
      );
      const expected = new Map(KEYS.map((k) => [k, partitionForKey(Buffer.from(k), PARTITIONS)]));
      w.table(
        ['key', 'murmur2', 'toPositive', `mod ${PARTITIONS}`],
        KEYS.map((k) => {
          const h = murmur2(Buffer.from(k));
          return [k, w.hexNumber(h >>> 0), toPositive(h), expected.get(k)!];
        }),
      );

      const producer = b.producer({
        keySerializer: stringSerde.serialize,
        valueSerializer: stringSerde.serialize,
      });
      // One send per event, in sequence order, as an application would emit them.
      const metas = await Promise.all(
        Array.from({ length: EVENTS }, (_, i) =>
          producer.send(TOPIC, [{ key: keyOf(i), value: `seq=${i} ${keyOf(i)} event` }]),
        ),
      );
      const placed = metas.map((m, i) => ({ seq: i, key: keyOf(i), ...m[0]! }));
      const partitionsOfKey = new Map(
        KEYS.map((k) => [k, new Set(placed.filter((p) => p.key === k).map((p) => p.partition))]),
      );
      w.say(
        `The producer sent ${EVENTS} events, one send each, in sequence order. Where they landed:`,
      );
      w.table(
        ['key', 'events', 'partition(s)', 'offsets'],
        KEYS.map((k) => {
          const mine = placed.filter((p) => p.key === k);
          return [
            k,
            mine.length,
            [...partitionsOfKey.get(k)!].join(','),
            mine.map((p) => p.offset).join(' '),
          ];
        }),
      );
      w.check(
        KEYS.every((k) => {
          const ps = partitionsOfKey.get(k)!;
          return ps.size === 1 && ps.has(expected.get(k)!);
        }),
        'every event of a key landed in the one partition murmur2 chose for it',
      );
      // #endregion key-to-partition

      // #region per-key-order
      w.heading('2. Within a partition, and so within a key, order is kept');
      const first = await readAll(b, [0, 1, 2, 3]);
      const perKey = (rs: Rec[]) =>
        new Map(KEYS.map((k) => [k, rs.filter((r) => r.key === k).map(seqOf)]));
      const keyed = perKey(first);
      w.say(
        'A consumer assigned all partitions read the events back. Per key, the sequence numbers it saw:',
      );
      w.table(
        ['key', 'partition', 'sequence numbers in the order read'],
        KEYS.map((k) => [k, expected.get(k)!, keyed.get(k)!.join(' ')]),
      );
      w.check(
        KEYS.every(
          (k) => sortedAscending(keyed.get(k)!) && keyed.get(k)!.length === EVENTS / KEYS.length,
        ),
        "each key's events were read in the order they were sent, none missing",
      );
      const byPartition = (rs: Rec[], p: number) =>
        rs.filter((r) => r.partition === p).map((r) => r.offset);
      w.check(
        [0, 1, 2, 3].every((p) => sortedAscending(byPartition(first, p))),
        'each partition was read in offset order',
      );
      // #endregion per-key-order

      // #region no-global-order
      w.heading('3. Across partitions there is no global order');
      const sent = placed.slice(0, 12);
      w.say('The first 12 events as sent, with the offset each got in its partition:');
      w.table(
        ['seq', 'key', 'partition', 'offset'],
        sent.map((p) => [p.seq, p.key, p.partition, p.offset]),
      );
      const inversions = placed.filter((a) =>
        placed.some((c) => c.seq > a.seq && c.partition !== a.partition && c.offset < a.offset),
      );
      const a = inversions[0];
      const c =
        a &&
        placed.find((x) => x.seq > a.seq && x.partition !== a.partition && x.offset < a.offset);
      if (a !== undefined && c !== undefined)
        w.say(
          `Offsets are counted per partition, so they say nothing across partitions: seq ${a.seq} got offset ${a.offset} in partition ${a.partition}, the later seq ${c.seq} got the lower offset ${c.offset} in partition ${c.partition}.`,
        );
      w.check(
        inversions.length > 0,
        `${inversions.length} of ${EVENTS} events have a later event with a lower offset in another partition`,
      );

      const reversed = await readAll(b, [3, 2, 1, 0]);
      const order = (rs: Rec[]) => rs.map(seqOf);
      w.say(
        'The global order two consumers saw (sequence numbers), one assigned partitions 0–3, the other 3–0:',
      );
      w.show([
        `sent:         ${placed.map((p) => p.seq).join(' ')}`,
        `consumer 0–3: ${order(first).join(' ')}`,
        `consumer 3–0: ${order(reversed).join(' ')}`,
      ]);
      w.check(
        !sortedAscending(order(first)),
        'the consumer read the events in another order than they were sent',
      );
      w.check(
        order(first).join() !== order(reversed).join(),
        'two consumers of the same topic saw two different global orders',
      );
      const keyedReversed = perKey(reversed);
      w.check(
        KEYS.every((k) => keyedReversed.get(k)!.join() === keyed.get(k)!.join()),
        'but both saw exactly the same order for every key',
      );
      // #endregion no-global-order
    }),
  ),
);
