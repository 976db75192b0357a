/**
 * Gaps closed in the broker: a partition's batches are appended all or
 * nothing, DeleteRecords is bounded by the partition's high watermark, and
 * timeoutMs is range-checked by the protocol (nothing in the broker waits).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Broker } from '../src/broker/index.js';
import { encodeBatch } from '../src/log/index.js';
import { ErrorCode, type Request, decodeRequest, encodeRequest } from '../src/protocol/index.js';
import { batch, fetchBody, openBroker, produceBody, values } from './broker-support.js';

let broker: Broker | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await broker?.close();
  broker = undefined;
});

async function withTopic(configs: Record<string, string> = {}): Promise<Broker> {
  broker = await openBroker();
  const res = await broker.call('CreateTopics', {
    topics: [
      {
        name: 't',
        numPartitions: 1,
        replicationFactor: -1,
        assignments: [],
        configs: Object.entries(configs).map(([name, value]) => ({ name, value })),
      },
    ],
    timeoutMs: 1000,
  });
  expect(res.topics[0]!.errorCode).toBe(0);
  return broker;
}

async function produce(b: Broker, records: Buffer) {
  const res = await b.call('Produce', produceBody('t', 0, records));
  return res.topics[0]!.partitions[0]!;
}

async function stored(b: Broker): Promise<string[]> {
  const res = await b.call('Fetch', fetchBody('t', 0, 0));
  return values(res.topics[0]!.partitions[0]!.records);
}

describe('a multi-batch produce is all or nothing per partition', () => {
  it('refuses every batch when a later one is too large', async () => {
    const b = await withTopic({ 'max.message.bytes': '300' });
    const big = batch(['x'.repeat(400)]);
    const p = await produce(b, Buffer.concat([batch(['a']), batch(['b']), big]));
    expect(p).toMatchObject({ errorCode: ErrorCode.MESSAGE_TOO_LARGE, baseOffset: -1 });
    expect(await stored(b)).toEqual([]);
    expect(b.topics.partition('t', 0)!.highWatermark).toBe(0);
  });

  it('refuses every batch when a later one lacks a key in a compacted topic', async () => {
    const b = await withTopic({ 'cleanup.policy': 'compact' });
    const keyless = encodeBatch([{ key: null, value: Buffer.from('nokey') }]);
    const p = await produce(b, Buffer.concat([batch(['a']), keyless]));
    expect(p.errorCode).toBe(ErrorCode.INVALID_RECORD);
    expect(await stored(b)).toEqual([]);
  });

  it('refuses every batch when a later one fails its CRC', async () => {
    const b = await withTopic();
    const bad = batch(['b']);
    bad[bad.length - 1]! ^= 0xff;
    const p = await produce(b, Buffer.concat([batch(['a']), bad]));
    expect(p.errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
    expect(await stored(b)).toEqual([]);
  });

  it('appends every batch, in order, when all are good', async () => {
    const b = await withTopic({ 'cleanup.policy': 'compact' });
    await produce(b, batch(['z']));
    const p = await produce(b, Buffer.concat([batch(['a', 'b']), batch(['c'])]));
    expect(p).toMatchObject({ errorCode: 0, baseOffset: 1 });
    expect(await stored(b)).toEqual(['z', 'a', 'b', 'c']);
  });
});

describe('DeleteRecords and the high watermark', () => {
  const del = (b: Broker, offset: number) =>
    b
      .call('DeleteRecords', {
        topics: [{ name: 't', partitions: [{ partitionIndex: 0, offset }] }],
        timeoutMs: 1000,
      })
      .then((r) => r.topics[0]!.partitions[0]!);

  it('deletes up to the high watermark and never at or past it', async () => {
    const b = await withTopic();
    await produce(b, batch(['a', 'b', 'c', 'd']));
    expect(await del(b, 5)).toMatchObject({
      errorCode: ErrorCode.OFFSET_OUT_OF_RANGE,
      lowWatermark: -1,
    });
    expect(await del(b, 4)).toMatchObject({ errorCode: 0, lowWatermark: 4 });
  });

  it('takes the bound from Partition.highWatermark alone', async () => {
    const b = await withTopic();
    await produce(b, batch(['a', 'b', 'c', 'd', 'e', 'f']));
    const partition = b.topics.partition('t', 0)!;
    // As replication will: the high watermark lags the log end offset.
    vi.spyOn(partition, 'highWatermark', 'get').mockReturnValue(3);
    expect((await del(b, 4)).errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
    expect(await del(b, -1)).toMatchObject({ errorCode: 0, lowWatermark: 3 });
    expect(partition.logStartOffset).toBe(3);
  });
});

describe('timeoutMs is range-checked', () => {
  const bodies = (timeoutMs: number) => ({
    Produce: { acks: -1, timeoutMs, topics: [] },
    CreateTopics: { topics: [], timeoutMs },
    DeleteRecords: { topics: [], timeoutMs },
  });

  it.each([-1, -30_000, 2 ** 31, 1e12, 1.5])('refuses %s as INVALID_REQUEST', (timeoutMs) => {
    for (const [api, body] of Object.entries(bodies(timeoutMs))) {
      const request = { api, version: 0, correlationId: 7, body } as Request;
      const decoded = decodeRequest(encodeRequest(request));
      expect(decoded.ok, api).toBe(false);
      if (decoded.ok) continue;
      expect(decoded.error.name, api).toBe('INVALID_REQUEST');
      expect(decoded.correlationId).toBe(7);
    }
  });

  it('accepts 0 and int32 max', () => {
    for (const timeoutMs of [0, 2 ** 31 - 1])
      for (const [api, body] of Object.entries(bodies(timeoutMs))) {
        const request = { api, version: 0, correlationId: 7, body } as Request;
        expect(decodeRequest(encodeRequest(request)).ok, api).toBe(true);
      }
  });
});
