/**
 * The client against a real embedded broker over TCP: admin, produce then
 * consume, keys → the same partition → in order, seeks, pause/resume,
 * prefetching, serializers, and a broker that goes away.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Admin,
  Consumer,
  type ConsumerRecord,
  Producer,
  type RunningBroker,
  jsonSerde,
  partitionForKey,
  startBroker,
  stringSerde,
} from '../src/index.js';

let broker: RunningBroker;
let brokers: string;
let admin: Admin;

beforeAll(async () => {
  broker = await startBroker({ port: 0 });
  brokers = `${broker.host}:${broker.port}`;
  admin = new Admin({ brokers });
});

afterAll(async () => {
  await admin?.close();
  await broker?.close();
});

function strings() {
  return {
    brokers,
    keySerializer: stringSerde.serialize,
    valueSerializer: stringSerde.serialize,
  };
}

function stringConsumer(options = {}) {
  return new Consumer<string | null, string | null>({
    brokers,
    keyDeserializer: stringSerde.deserialize,
    valueDeserializer: stringSerde.deserialize,
    fetchMaxWaitMs: 50,
    ...options,
  });
}

async function take<T>(iterable: AsyncIterable<T>, n: number): Promise<T[]> {
  const out: T[] = [];
  if (n === 0) return out;
  for await (const item of iterable) {
    out.push(item);
    if (out.length === n) break;
  }
  return out;
}

describe('admin', () => {
  it('creates, lists, describes, configures and deletes topics', async () => {
    const created = await admin.createTopic({
      name: 'admin-t',
      numPartitions: 3,
      configs: { 'retention.ms': '60000' },
    });
    expect(created.numPartitions).toBe(3);
    await expect(admin.createTopic({ name: 'admin-t' })).rejects.toMatchObject({
      name: 'TOPIC_ALREADY_EXISTS',
    });
    expect(await admin.listTopics()).toContain('admin-t');
    const [described] = await admin.describeTopics(['admin-t']);
    expect(described!.partitions.map((p) => p.partition)).toEqual([0, 1, 2]);
    const configs = await admin.describeConfigs({ type: 'topic', name: 'admin-t' });
    expect(configs.find((c) => c.name === 'retention.ms')?.value).toBe('60000');
    await admin.alterConfigs({ type: 'topic', name: 'admin-t' }, { 'retention.ms': '120000' });
    const after = await admin.describeConfigs({ type: 'topic', name: 'admin-t' }, ['retention.ms']);
    expect(after[0]?.value).toBe('120000');
    await admin.deleteTopic('admin-t');
    expect(await admin.listTopics()).not.toContain('admin-t');
    await expect(admin.deleteTopic('admin-t')).rejects.toMatchObject({
      name: 'UNKNOWN_TOPIC_OR_PARTITION',
    });
  });

  it('lists offsets and deletes records', async () => {
    await admin.createTopic({ name: 'offsets-t', numPartitions: 2 });
    const producer = new Producer<string, string>(strings());
    await producer.send('offsets-t', [
      { value: 'a', partition: 0 },
      { value: 'b', partition: 0 },
      { value: 'c', partition: 1 },
    ]);
    await producer.close();
    const latest = await admin.listOffsets('offsets-t', 'latest');
    expect(latest.map((o) => o.offset)).toEqual([2, 1]);
    const [deleted] = await admin.deleteRecords([{ topic: 'offsets-t', partition: 0, offset: 1 }]);
    expect(deleted!.lowWatermark).toBe(1);
    const earliest = await admin.listOffsets('offsets-t', 'earliest');
    expect(earliest.map((o) => o.offset)).toEqual([1, 0]);
  });
});

describe('produce and consume', () => {
  it('reads back what was produced, keys on their partitions, in order', async () => {
    await admin.createTopic({ name: 'orders', numPartitions: 4 });
    const producer = new Producer<string, string>(strings());
    const keys = ['alice', 'bob', 'carol', 'dave', 'erin'];
    const sent = await producer.send(
      'orders',
      Array.from({ length: 200 }, (_, i) => ({ key: keys[i % 5]!, value: `${keys[i % 5]}-${i}` })),
    );
    await producer.close();
    for (const [i, meta] of sent.entries())
      expect(meta.partition).toBe(partitionForKey(Buffer.from(keys[i % 5]!), 4));

    const consumer = stringConsumer();
    consumer.assign([0, 1, 2, 3].map((partition) => ({ topic: 'orders', partition })));
    consumer.seekToBeginning();
    const got = await take(consumer, 200);
    const byKey = new Map<string, number[]>();
    for (const r of got) {
      expect(r.partition).toBe(partitionForKey(Buffer.from(r.key!), 4));
      const list = byKey.get(r.key!) ?? [];
      list.push(Number(r.value!.split('-')[1]));
      byKey.set(r.key!, list);
    }
    for (const [key, indices] of byKey) {
      const expected = Array.from({ length: 40 }, (_, j) => j * 5 + keys.indexOf(key));
      expect(indices).toEqual(expected); // per key, in the order sent
    }
  });

  it('seeks, reports positions, and pauses and resumes partitions', async () => {
    await admin.createTopic({ name: 'seek-t', numPartitions: 2 });
    const producer = new Producer<string, string>(strings());
    await producer.send(
      'seek-t',
      Array.from({ length: 10 }, (_, i) => ({ value: `p0-${i}`, partition: 0 })),
    );
    await producer.send(
      'seek-t',
      Array.from({ length: 10 }, (_, i) => ({ value: `p1-${i}`, partition: 1 })),
    );
    await producer.close();
    const consumer = stringConsumer();
    const p0 = { topic: 'seek-t', partition: 0 };
    const p1 = { topic: 'seek-t', partition: 1 };
    consumer.assign([p0, p1]);
    consumer.seek(p0, 7);
    consumer.seekToEnd([p1]);
    expect(await consumer.position(p1)).toBe(10);
    consumer.pause([p1]);
    const iterator = consumer[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.value).toMatchObject({ partition: 0, offset: 7, value: 'p0-7' });
    expect(await consumer.position(p0)).toBe(8);
    consumer.seek(p1, 8);
    consumer.resume([p1]);
    const rest: ConsumerRecord<string | null, string | null>[] = [];
    while (rest.length < 4) rest.push((await iterator.next()).value as never);
    expect(rest.map((r) => r.value).sort()).toEqual(['p0-8', 'p0-9', 'p1-8', 'p1-9']);
    await iterator.return?.();
    expect(() => consumer.assign([p0])).toThrow(/closed/);
  });

  it('refuses a second reader', async () => {
    const consumer = stringConsumer();
    consumer[Symbol.asyncIterator]();
    expect(() => consumer[Symbol.asyncIterator]()).toThrow(/already has a reader/);
    await consumer.close();
  });

  it('delivers records produced while it waits (long poll), and JSON values', async () => {
    await admin.createTopic({ name: 'live', numPartitions: 1 });
    const consumer = new Consumer<null, unknown>({
      brokers,
      valueDeserializer: jsonSerde.deserialize as never,
      autoOffsetReset: 'earliest',
      fetchMaxWaitMs: 200,
    });
    consumer.assign([{ topic: 'live', partition: 0 }]);
    const reading = take(consumer, 3);
    const producer = new Producer<string, unknown>({
      brokers,
      valueSerializer: jsonSerde.serialize,
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await producer.send('live', [{ value: { n: 1 } }, { value: [2] }, { value: 'three' }]);
    await producer.close();
    expect((await reading).map((r) => r.value)).toEqual([{ n: 1 }, [2], 'three']);
  });

  it('prefetches: reads many batches in offset order', async () => {
    await admin.createTopic({ name: 'many', numPartitions: 1 });
    const producer = new Producer<string, string>({ ...strings(), batchSize: 1024 });
    const n = 5000;
    await producer.send(
      'many',
      Array.from({ length: n }, (_, i) => ({ value: `r${i}` })),
    );
    await producer.close();
    const consumer = stringConsumer({ maxPartitionFetchBytes: 4096, autoOffsetReset: 'earliest' });
    consumer.assign([{ topic: 'many', partition: 0 }]);
    const got = await take(consumer, n);
    expect(got.map((r) => r.offset)).toEqual(Array.from({ length: n }, (_, i) => i));
  });

  it('auto-creates a topic on first send', async () => {
    const producer = new Producer<string, string>(strings());
    const [meta] = await producer.send('auto-made', [{ value: 'x' }]);
    expect(meta).toMatchObject({ partition: 0, offset: 0 });
    await producer.close();
  });
});

describe('a broker that goes away', () => {
  it('fails sends with a retriable network error naming the broker, after delivery.timeout.ms', async () => {
    const gone = await startBroker({ port: 0 });
    const address = `${gone.host}:${gone.port}`;
    const producer = new Producer<string, string>({
      brokers: address,
      valueSerializer: stringSerde.serialize,
      deliveryTimeoutMs: 500,
      retryBackoffMs: 20,
      reconnectBackoffMs: 20,
      maxBlockMs: 500,
    });
    await producer.send('t', [{ value: 'before' }]);
    await gone.close();
    const error = await producer.send('t', [{ value: 'after' }]).catch((e: unknown) => e);
    expect(error).toMatchObject({ retriable: true });
    expect(String((error as Error).message)).toContain(address);
    await producer.close().catch(() => undefined);
  });
});
