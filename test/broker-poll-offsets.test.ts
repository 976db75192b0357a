/** Long-polling fetches, ListOffsets and DeleteRecords, through the core in process. */
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../src/protocol/index.js';
import { batch, fetchBody, openBroker, produceBody, values } from './broker-support.js';

const create = (name: string, numPartitions: number) => ({
  topics: [{ name, numPartitions, replicationFactor: -1, assignments: [], configs: [] }],
  timeoutMs: 1000,
});

describe('long polling', () => {
  it('answers as soon as data arrives, long before maxWaitMs', async () => {
    const broker = await openBroker();
    await broker.call('CreateTopics', create('t', 2));
    let parked = false;
    const started = performance.now();
    const request = {
      api: 'Fetch',
      version: 0,
      correlationId: 9,
      body: fetchBody('t', 1, 0, { maxWaitMs: 20_000, minBytes: 1 }),
    } as const;
    const waiting = broker.handle(request, { parked: () => (parked = true) });
    expect(parked).toBe(true);
    await new Promise((r) => setTimeout(r, 30));
    await broker.call('Produce', produceBody('t', 0, batch(['elsewhere'])));
    await broker.call('Produce', produceBody('t', 1, batch(['here'])));
    const res = await waiting;
    expect(performance.now() - started).toBeLessThan(2000);
    if (res.error) throw res.error;
    expect(values(res.body.topics[0]!.partitions[0]!.records)).toEqual(['here']);
    await broker.close();
  });

  it('waits for minBytes, and answers with what there is at maxWaitMs', async () => {
    const broker = await openBroker();
    await broker.call('Produce', produceBody('t', 0, batch(['one'])));
    const started = performance.now();
    const res = await broker.call(
      'Fetch',
      fetchBody('t', 0, 0, { maxWaitMs: 150, minBytes: 1 << 20 }),
    );
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(values(res.topics[0]!.partitions[0]!.records)).toEqual(['one']);
    const closing = broker.call('Fetch', fetchBody('t', 0, 1, { maxWaitMs: 60_000, minBytes: 1 }));
    await broker.close();
    expect((await closing).topics[0]!.partitions[0]!.errorCode).toBe(0);
  });
});

describe('ListOffsets and DeleteRecords', () => {
  it('finds earliest, latest and by-timestamp offsets, and moves the log start', async () => {
    const broker = await openBroker({ config: { 'log.segment.bytes': 200 } });
    for (let i = 0; i < 10; i++)
      await broker.call(
        'Produce',
        produceBody('t', 0, batch([`v${i}`.padEnd(60, '.')], 1000 + i * 10)),
      );
    const list = (timestamp: number) =>
      broker.call('ListOffsets', {
        topics: [{ name: 't', partitions: [{ partitionIndex: 0, timestamp }] }],
      });
    const first = async (ts: number) => (await list(ts)).topics[0]!.partitions[0]!;
    expect(await first(-2)).toMatchObject({
      offset: 0,
      timestamp: -1,
      errorCode: 0,
      leaderEpoch: 0,
    });
    expect(await first(-1)).toMatchObject({ offset: 10, timestamp: -1 });
    expect(await first(1045)).toMatchObject({ offset: 5, timestamp: 1050 });
    expect(await first(5000)).toMatchObject({ offset: -1, timestamp: -1 });
    const del = (offset: number) =>
      broker.call('DeleteRecords', {
        topics: [{ name: 't', partitions: [{ partitionIndex: 0, offset }] }],
        timeoutMs: 1000,
      });
    expect((await del(4)).topics[0]!.partitions[0]).toMatchObject({
      errorCode: 0,
      lowWatermark: 4,
    });
    expect(await first(-2)).toMatchObject({ offset: 4 });
    expect((await del(11)).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
    expect((await del(-1)).topics[0]!.partitions[0]!.lowWatermark).toBe(10);
    const f = await broker.call('Fetch', fetchBody('t', 0, 3));
    expect(f.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
    await broker.close();
  });
});
