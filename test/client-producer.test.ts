/**
 * The producer against a fake broker that keeps a log per partition in
 * memory: offsets, keys → partitions, batching by tick, linger.ms and
 * batch.size, buffer.memory backpressure, bounded in-flight requests,
 * retries on retriable errors only (with a metadata refresh), acks=0.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Admin } from '../src/client/admin.js';
import { Consumer } from '../src/client/consumer.js';
import { partitionForKey } from '../src/client/partitioner.js';
import { startBroker } from '../src/broker/index.js';
import { Producer, type ProducerOptions } from '../src/client/producer.js';
import { stringSerde } from '../src/client/serde.js';
import { decodeBatches, decodeRecords } from '../src/log/index.js';
import type { ProduceRequest, Request } from '../src/protocol/index.js';
import {
  type FakeAnswer,
  type FakeBroker,
  metadataBody,
  startFakeBroker,
} from './client-fake-broker.js';

interface Fake {
  broker: FakeBroker;
  /** Records per partition, `topic-partition` → values. */
  logs: Map<string, string[]>;
  produces: ProduceRequest[];
  /** Answer Produce with this instead, when set (return undefined to answer normally). */
  intercept?: (body: ProduceRequest, n: number) => FakeAnswer | Promise<FakeAnswer> | undefined;
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function fakeCluster(topics: Record<string, number>): Promise<Fake> {
  const fake: Fake = { broker: undefined as never, logs: new Map(), produces: [] };
  fake.broker = await startFakeBroker(async (request: Request) => {
    if (request.api === 'Metadata')
      return { body: metadataBody(fake.broker, topics, request.body.topics) };
    if (request.api !== 'Produce') return null;
    fake.produces.push(request.body);
    const intercepted = await fake.intercept?.(request.body, fake.produces.length - 1);
    if (intercepted !== undefined) return intercepted;
    return { body: append(fake, request.body) };
  });
  cleanup.push(() => fake.broker.close());
  return fake;
}

function append(fake: Fake, body: ProduceRequest) {
  return {
    topics: body.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => {
        const key = `${t.name}-${p.partitionIndex}`;
        const log = fake.logs.get(key) ?? [];
        fake.logs.set(key, log);
        const baseOffset = log.length;
        for (const r of decodeRecords(p.records)) log.push(r.value?.toString() ?? '');
        return {
          partitionIndex: p.partitionIndex,
          errorCode: 0,
          errorMessage: null,
          baseOffset,
          logAppendTimeMs: -1,
          logStartOffset: 0,
        };
      }),
    })),
  };
}

/** An answer refusing every partition of a Produce with `errorCode`. */
function refuse(body: ProduceRequest, errorCode: number, errorMessage: string) {
  return {
    topics: body.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((x) => ({
        partitionIndex: x.partitionIndex,
        errorCode,
        errorMessage,
        baseOffset: -1,
        logAppendTimeMs: -1,
        logStartOffset: -1,
      })),
    })),
  };
}

function producer(fake: Fake, options: ProducerOptions<string, string> = {}) {
  const p = new Producer<string, string>({
    brokers: fake.broker.address,
    keySerializer: stringSerde.serialize,
    valueSerializer: stringSerde.serialize,
    ...options,
  });
  cleanup.push(() => p.close().catch(() => undefined));
  return p;
}

const records = (n: number, prefix = 'v') =>
  Array.from({ length: n }, (_, i) => ({ value: `${prefix}${i}` }));

describe('Producer', () => {
  it('resolves to the partition and offset of each record', async () => {
    const fake = await fakeCluster({ t: 1 });
    const p = producer(fake);
    const first = await p.send('t', records(3));
    expect(first.map((m) => [m.partition, m.offset])).toEqual([
      [0, 0],
      [0, 1],
      [0, 2],
    ]);
    const second = await p.send('t', [{ value: 'x' }]);
    expect(second[0]).toMatchObject({ topic: 't', partition: 0, offset: 3 });
    expect(fake.logs.get('t-0')).toEqual(['v0', 'v1', 'v2', 'x']);
  });

  it("puts keyed records on the Java client's partition, in order", async () => {
    const fake = await fakeCluster({ t: 6 });
    const p = producer(fake);
    const sent = await p.send(
      't',
      ['a', 'b', 'hello', 'a', 'hello'].map((key, i) => ({ key, value: `${key}${i}` })),
    );
    for (const m of sent) expect(m.partition).toBeGreaterThanOrEqual(0);
    expect(sent[2]!.partition).toBe(partitionForKey(Buffer.from('hello'), 6));
    expect(sent[4]!.partition).toBe(sent[2]!.partition);
    expect(sent[4]!.offset).toBe(sent[2]!.offset + 1);
    expect(fake.logs.get(`t-${sent[0]!.partition}`)).toEqual(['a0', 'a3']);
  });

  it('batches sends made in the same tick into one request', async () => {
    const fake = await fakeCluster({ t: 1 });
    const p = producer(fake);
    await p.send('t', [{ value: 'warm-up' }]); // metadata is cached from here on
    const sends = Array.from({ length: 50 }, (_, i) => p.send('t', [{ value: `r${i}` }]));
    const results = await Promise.all(sends);
    expect(results.map((r) => r[0]!.offset)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(fake.produces).toHaveLength(2);
  });

  it('waits linger.ms for more records', async () => {
    const fake = await fakeCluster({ t: 1 });
    const p = producer(fake, { lingerMs: 150 });
    await p.send('t', [{ value: 'warm-up' }]);
    const started = Date.now();
    const a = p.send('t', [{ value: 'a' }]);
    await new Promise((resolve) => setTimeout(resolve, 40));
    const b = p.send('t', [{ value: 'b' }]);
    await Promise.all([a, b]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(fake.produces).toHaveLength(2); // a and b went together
  });

  it('closes a batch at batch.size', async () => {
    const fake = await fakeCluster({ t: 1 });
    const p = producer(fake, { batchSize: 300 });
    await p.send('t', records(20, 'value-of-some-length-'));
    // A request may carry several batches of a partition, one after another.
    const batches = fake.produces.flatMap((b) =>
      decodeBatches(b.topics[0]!.partitions[0]!.records),
    );
    expect(batches.length).toBeGreaterThan(2);
    expect(batches.flatMap((b) => b.records)).toHaveLength(20);
    for (const batch of batches) expect(batch.size).toBeLessThanOrEqual(300 + 61);
  });

  it('makes send wait when buffer.memory is used up, and not grow', async () => {
    const fake = await fakeCluster({ t: 1 });
    const p = producer(fake, { bufferMemory: 2000, batchSize: 500 });
    await p.send('t', [{ value: 'warm-up' }]);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    fake.intercept = async (body) => {
      await held;
      return { body: append(fake, body) };
    };
    fake.produces.length = 0;
    let done = 0;
    const sends = Array.from({ length: 40 }, (_, i) =>
      p.send('t', [{ value: `${'x'.repeat(80)}${i}` }]).then(() => (done += 1)),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    // ~100 bytes a record, 2000 bytes of memory: at most ~20 records are out.
    const seen = fake.produces.flatMap((b) => decodeRecords(b.topics[0]!.partitions[0]!.records));
    expect(seen.length).toBeLessThanOrEqual(21);
    expect(done).toBe(0);
    release();
    await Promise.all(sends);
    expect(fake.logs.get('t-0')).toHaveLength(41);
  });

  it('keeps at most max.in.flight requests out per connection', async () => {
    const fake = await fakeCluster({ t: 4 });
    let outstanding = 0;
    let most = 0;
    fake.intercept = async (body) => {
      outstanding += 1;
      most = Math.max(most, outstanding);
      await new Promise((resolve) => setTimeout(resolve, 20));
      outstanding -= 1;
      return { body: append(fake, body) };
    };
    const p = producer(fake, {
      maxInFlightRequestsPerConnection: 2,
      batchSize: 200,
      maxRequestSize: 400, // a request or two of batches each
    });
    await p.send('t', records(60, 'some-longer-value-'));
    expect(most).toBe(2);
    expect(fake.produces.length).toBeGreaterThan(2);
  });

  it('retries a retriable error after refreshing metadata', async () => {
    const fake = await fakeCluster({ t: 1 });
    fake.intercept = (body, n) =>
      n === 0
        ? {
            body: {
              topics: body.topics.map((t) => ({
                name: t.name,
                partitions: t.partitions.map((x) => ({
                  partitionIndex: x.partitionIndex,
                  errorCode: 6, // NOT_LEADER_OR_FOLLOWER
                  errorMessage: 'moved',
                  baseOffset: -1,
                  logAppendTimeMs: -1,
                  logStartOffset: -1,
                })),
              })),
            },
          }
        : undefined;
    const p = producer(fake, { retryBackoffMs: 10 });
    const [meta] = await p.send('t', [{ value: 'a' }]);
    expect(meta!.offset).toBe(0);
    expect(fake.produces).toHaveLength(2);
    expect(fake.broker.requests.filter((r) => r.api === 'Metadata')).toHaveLength(2);
  });

  it('does not retry an error that is not retriable', async () => {
    const fake = await fakeCluster({ t: 1 });
    fake.intercept = (body) => ({
      body: {
        topics: body.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((x) => ({
            partitionIndex: x.partitionIndex,
            errorCode: 87,
            errorMessage: 'a compacted topic needs keys',
            baseOffset: -1,
            logAppendTimeMs: -1,
            logStartOffset: -1,
          })),
        })),
      },
    });
    const p = producer(fake, { retryBackoffMs: 10 });
    await expect(p.send('t', [{ value: 'a' }])).rejects.toMatchObject({
      name: 'INVALID_RECORD',
      retriable: false,
    });
    expect(fake.produces).toHaveLength(1);
  });

  it('stops after `retries`', async () => {
    const fake = await fakeCluster({ t: 1 });
    fake.intercept = () => ({ destroy: true });
    const p = producer(fake, { retries: 2, retryBackoffMs: 5, reconnectBackoffMs: 5 });
    await expect(p.send('t', [{ value: 'a' }])).rejects.toMatchObject({
      name: 'NETWORK_EXCEPTION',
    });
    expect(fake.produces).toHaveLength(3);
  });

  it('with acks=0 resolves once written, with offset -1', async () => {
    const fake = await fakeCluster({ t: 1 });
    const p = producer(fake, { acks: 0 });
    const [meta] = await p.send('t', [{ value: 'a' }]);
    expect(meta).toMatchObject({ partition: 0, offset: -1 });
    await vi.waitFor(() => expect(fake.produces[0]?.acks).toBe(0));
  });

  it('flushes before close, and refuses sends after', async () => {
    const fake = await fakeCluster({ t: 1 });
    const p = producer(fake, { lingerMs: 10_000 });
    const started = Date.now();
    const pending = p.send('t', [{ value: 'late' }]);
    await p.close();
    await expect(pending).resolves.toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(5000);
    await expect(p.send('t', [{ value: 'x' }])).rejects.toMatchObject({ code: 'CLIENT_CLOSED' });
  });

  it('splits a batch refused as too large, until each part fits, keeping order', async () => {
    const fake = await fakeCluster({ t: 1 });
    const refusals: number[] = [];
    fake.intercept = (body) => {
      const count = decodeRecords(body.topics[0]!.partitions[0]!.records).length;
      if (count <= 3) return undefined; // the broker takes at most 3 of these records a batch
      refusals.push(count);
      return { body: refuse(body, 10, 'the batch is larger than max.message.bytes') };
    };
    const p = producer(fake, { maxInFlightRequestsPerConnection: 1 }); // strict order (sender.ts)
    const sends = [p.send('t', records(6, 'a')), p.send('t', records(4, 'b'))];
    const results = await Promise.all(sends);
    expect(refusals).toEqual([10, 5, 5]); // 10 → 5 + 5 → (3 + 2) + (3 + 2)
    expect(results.flat().map((m) => m.offset)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(fake.logs.get('t-0')).toEqual(
      [...records(6, 'a'), ...records(4, 'b')].map((r) => r.value),
    );
  });

  it('fails only the send of a single record too large, after splitting', async () => {
    const fake = await fakeCluster({ t: 1 });
    fake.intercept = (body) => {
      const values = decodeRecords(body.topics[0]!.partitions[0]!.records).map((r) => `${r.value}`);
      return values.some((v) => v.length > 100)
        ? { body: refuse(body, 10, 'too large') }
        : undefined;
    };
    const p = producer(fake, { maxInFlightRequestsPerConnection: 1 });
    await p.send('t', [{ value: 'warm-up' }]);
    const sends = [p.send('t', [{ value: 'a' }]), p.send('t', [{ value: 'x'.repeat(200) }])];
    sends.push(p.send('t', [{ value: 'c' }]));
    const [a, big, c] = await Promise.allSettled(sends);
    expect(a).toMatchObject({ status: 'fulfilled' });
    expect(c).toMatchObject({ status: 'fulfilled' });
    expect(big).toMatchObject({ status: 'rejected', reason: { name: 'MESSAGE_TOO_LARGE' } });
    expect(fake.logs.get('t-0')).toEqual(['warm-up', 'a', 'c']);
    await p.flush(); // nothing left waiting
  });

  it('splits against a real broker whose topic takes small batches (max.message.bytes)', async () => {
    const broker = await startBroker({ logLevel: 'error' });
    cleanup.push(() => broker.close());
    const brokers = `${broker.host}:${broker.port}`;
    const admin = new Admin({ brokers });
    cleanup.push(() => admin.close());
    const configs = { 'max.message.bytes': '1000' }; // below batch.size (16384): KAFKA-8350's case
    await admin.createTopics([{ name: 'small', numPartitions: 1, configs }]);
    const p = new Producer({ brokers, maxInFlightRequestsPerConnection: 1 });
    cleanup.push(() => p.close());
    const values = Array.from({ length: 100 }, (_, i) => Buffer.from(`${i}`.padStart(40, '.')));
    const sent = await p.send(
      'small',
      values.map((value) => ({ value })),
    );
    expect(sent.map((m) => m.offset)).toEqual(values.map((_, i) => i));
    const tooBig = p.send('small', [{ value: Buffer.alloc(2000) }]);
    await expect(tooBig).rejects.toMatchObject({ name: 'MESSAGE_TOO_LARGE' });
    // Many batches of one partition per request: the offsets the producer works out are the log's.
    const q = new Producer({ brokers, batchSize: 1024 });
    cleanup.push(() => q.close());
    const many = Array.from({ length: 2000 }, (_, i) => ({ value: Buffer.from(`m${i}`) }));
    const landed = (
      await Promise.all([q.send('many', many.slice(0, 1000)), q.send('many', many.slice(1000))])
    ).flat();
    expect(landed.map((m) => m.offset)).toEqual(many.map((_, i) => i));
    const consumer = new Consumer({ brokers, autoOffsetReset: 'earliest' });
    cleanup.push(() => consumer.close());
    consumer.assign([{ topic: 'many', partition: 0 }]);
    const read: string[] = [];
    for await (const record of consumer) {
      expect(record.offset).toBe(read.length);
      read.push(record.value!.toString());
      if (read.length === many.length) break;
    }
    expect(read).toEqual(many.map((r) => r.value.toString()));
  });

  it('sends several batches of a partition in one request; resends them alone when refused as too large', async () => {
    const fake = await fakeCluster({ t: 1 });
    const p = producer(fake, { batchSize: 200, maxInFlightRequestsPerConnection: 1 });
    await p.send('t', [{ value: 'warm-up' }]);
    const sent = await p.send('t', records(30, 'value-of-some-length-'));
    expect(sent.map((m) => m.offset)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    const last = fake.produces.at(-1)!.topics[0]!.partitions[0]!.records;
    expect(decodeBatches(last).length).toBeGreaterThan(1);
    fake.intercept = (body) => {
      const values = decodeRecords(body.topics[0]!.partitions[0]!.records).map((r) => `${r.value}`);
      return values.some((v) => v.length > 150)
        ? { body: refuse(body, 10, 'too large') }
        : undefined;
    };
    fake.produces.length = 0;
    const sends = [
      p.send('t', records(8, 'before-')),
      p.send('t', [{ value: 'x'.repeat(180) }]),
      p.send('t', records(8, 'after-')),
    ];
    const [before, big, after] = await Promise.allSettled(sends);
    expect(before).toMatchObject({ status: 'fulfilled' });
    expect(after).toMatchObject({ status: 'fulfilled' });
    expect(big).toMatchObject({ status: 'rejected', reason: { name: 'MESSAGE_TOO_LARGE' } });
    const batchesPerRequest = fake.produces.map(
      (b) => decodeBatches(b.topics[0]!.partitions[0]!.records).length,
    );
    expect(batchesPerRequest[0]).toBeGreaterThan(1); // refused together, then sent one by one
    expect(fake.logs.get('t-0')!.slice(31)).toEqual(
      [...records(8, 'before-'), ...records(8, 'after-')].map((r) => r.value),
    );
  });

  it('refuses at send a record larger than max.request.size or buffer.memory', async () => {
    const fake = await fakeCluster({ t: 1 });
    const p = producer(fake, { maxRequestSize: 1000, bufferMemory: 5000, batchSize: 500 });
    const sent = p.send('t', [{ value: 'ok' }, { value: 'x'.repeat(1000) }]);
    await expect(sent).rejects.toMatchObject({ name: 'MESSAGE_TOO_LARGE', retriable: false });
    await expect(sent).rejects.toThrow(
      /^record 1 of the send is 10\d\d bytes when serialized in a batch, larger than max.request.size \(maxRequestSize: 1000\)/,
    );
    const q = producer(fake, { maxRequestSize: 100_000, bufferMemory: 5000, batchSize: 500 });
    await expect(q.send('t', [{ value: 'x'.repeat(6000) }])).rejects.toThrow(
      /larger than buffer.memory \(bufferMemory: 5000\)/,
    );
    expect(fake.produces).toHaveLength(0); // nothing of either send went
    await expect(p.send('t', [{ value: 'x'.repeat(900) }])).resolves.toHaveLength(1);
  });

  it('fails fast for a topic that does not exist', async () => {
    const fake = await fakeCluster({});
    const p = producer(fake, { maxBlockMs: 200 });
    await expect(p.send('nope', [{ value: 'a' }])).rejects.toMatchObject({
      name: 'UNKNOWN_TOPIC_OR_PARTITION',
    });
  });
});
