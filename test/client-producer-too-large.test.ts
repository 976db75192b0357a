/**
 * The producer and what is too large: batches refused by the broker are split
 * until each part fits (against the fake broker and a real one), a single record
 * too large fails only its own send, and records larger than max.request.size or
 * buffer.memory are refused at send.
 */
import { describe, expect, it } from 'vitest';
import { Admin } from '../src/client/admin.js';
import { Consumer } from '../src/client/consumer.js';
import { startBroker } from '../src/broker/index.js';
import { Producer } from '../src/client/producer.js';
import { decodeBatches, decodeRecords } from '../src/log/index.js';
import type { ProduceRequest } from '../src/protocol/index.js';
import { cleanup, fakeCluster, producer, records } from './client-producer-support.js';

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

describe('Producer', () => {
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
});
