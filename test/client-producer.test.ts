/**
 * The producer against a fake broker that keeps a log per partition in
 * memory: offsets, keys → partitions, batching by tick, linger.ms and
 * batch.size, buffer.memory backpressure, bounded in-flight requests,
 * retries on retriable errors only (with a metadata refresh), acks=0.
 * Batches and records too large: client-producer-too-large.test.ts.
 */
import { describe, expect, it, vi } from 'vitest';
import { partitionForKey } from '../src/client/partitioner.js';
import { decodeBatches, decodeRecords } from '../src/log/index.js';
import { append, fakeCluster, producer, records } from './client-producer-support.js';

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

  it('with acks=0 sends one after another past the in-flight limit while the broker holds its answers', async () => {
    const fake = await fakeCluster({ t: 1 });
    const held: (() => void)[] = [];
    fake.intercept = (body) =>
      new Promise((resolve) => held.push(() => resolve({ body: append(fake, body) })));
    const p = producer(fake, { acks: 0, maxInFlightRequestsPerConnection: 2 });
    for (let i = 0; i < 6; i++) await p.send('t', [{ value: `v${i}` }]); // never waits on an answer
    await vi.waitFor(() => expect(fake.produces).toHaveLength(6));
    for (const release of held) release();
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

  it('fails fast for a topic that does not exist', async () => {
    const fake = await fakeCluster({});
    const p = producer(fake, { maxBlockMs: 200 });
    await expect(p.send('nope', [{ value: 'a' }])).rejects.toMatchObject({
      name: 'UNKNOWN_TOPIC_OR_PARTITION',
    });
  });
});
