/** The broker's core, in process: topics, configs, produce and fetch, offsets, persistence. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Broker, MAX_TOPIC_NAME_LENGTH, topicNameProblem } from '../src/broker/index.js';
import { ErrorCode } from '../src/protocol/index.js';
import { batch, fetchBody, openBroker, produceBody, quiet, values } from './broker-support.js';
import { tempDir } from './support/temp.js';

const create = (name: string, numPartitions = 1, configs: Record<string, string> = {}) => ({
  topics: [
    {
      name,
      numPartitions,
      replicationFactor: -1,
      assignments: [],
      configs: Object.entries(configs).map(([k, v]) => ({ name: k, value: v })),
    },
  ],
  timeoutMs: 1000,
});

describe('the data dir', () => {
  it('writes meta.properties once and keeps its cluster id across restarts', async () => {
    const dataDir = tempDir('samsa-broker-');
    const a = await Broker.open({ dataDir, logger: quiet });
    const clusterId = a.meta.clusterId;
    await a.close();
    const text = readFileSync(join(dataDir, 'meta.properties'), 'utf8');
    expect(text).toMatch(/^version=1$/m);
    expect(text).toMatch(/^broker\.id=0$/m);
    expect(text).toContain(`cluster.id=${clusterId}`);
    const b = await Broker.open({ dataDir, logger: quiet });
    expect(b.meta.clusterId).toBe(clusterId);
    await b.close();
    await expect(
      Broker.open({ dataDir, logger: quiet, config: { 'broker.id': 3 } }),
    ).rejects.toThrow(/broker.id=0/);
  });

  it('refuses a second broker on the same dir while the first is open', async () => {
    const dataDir = tempDir('samsa-broker-');
    const a = await Broker.open({ dataDir, logger: quiet });
    await expect(Broker.open({ dataDir, logger: quiet })).rejects.toThrow(/in use/);
    await a.close();
    const b = await Broker.open({ dataDir, logger: quiet });
    await b.close();
  });

  it('refuses unknown or bad broker configs', async () => {
    await expect(openBroker({ config: { 'no.such.key': 1 } })).rejects.toThrow(
      /unknown broker config/,
    );
    await expect(openBroker({ config: { 'num.partitions': 0 } })).rejects.toThrow(/at least 1/);
    await expect(openBroker({ config: { 'log.cleanup.policy': 'shred' } })).rejects.toThrow(
      /cleanup.policy/,
    );
  });
});

describe('topic names', () => {
  it("follow Kafka's rules", () => {
    expect(topicNameProblem('page-views_v1.2')).toBeUndefined();
    expect(topicNameProblem('a'.repeat(MAX_TOPIC_NAME_LENGTH))).toBeUndefined();
    for (const bad of ['', '.', '..', 'a'.repeat(250), 'a/b', 'ä', 'a b', '../etc'])
      expect(topicNameProblem(bad)).toBeDefined();
  });
});

describe('CreateTopics, Metadata, DeleteTopics', () => {
  it('creates topics with partitions and configs, each on its own, and persists them', async () => {
    const dataDir = tempDir('samsa-broker-');
    const broker = await Broker.open({ dataDir, logger: quiet });
    const res = await broker.call('CreateTopics', {
      topics: [
        ...create('orders', 3, { 'retention.ms': '60000' }).topics,
        ...create('bad/name').topics,
        ...create('zero', 0).topics,
        { ...create('rf').topics[0]!, replicationFactor: 3 },
        ...create('cfg', 1, { 'retention.ms': 'soon' }).topics,
        ...create('nokey', 1, { 'no.such': '1' }).topics,
        ...create('orders').topics,
      ],
      timeoutMs: 1000,
    });
    expect(res.topics.map((t) => [t.name, t.errorCode])).toEqual([
      ['orders', 0],
      ['bad/name', ErrorCode.INVALID_TOPIC_EXCEPTION],
      ['zero', ErrorCode.INVALID_PARTITIONS],
      ['rf', ErrorCode.INVALID_REPLICATION_FACTOR],
      ['cfg', ErrorCode.INVALID_CONFIG],
      ['nokey', ErrorCode.INVALID_CONFIG],
      ['orders', ErrorCode.INVALID_REQUEST],
    ]);
    expect(res.topics[0]).toMatchObject({ numPartitions: 3, replicationFactor: 1 });
    expect((await broker.call('CreateTopics', create('orders'))).topics[0]!.errorCode).toBe(
      ErrorCode.TOPIC_ALREADY_EXISTS,
    );
    const dry = await broker.call('CreateTopics', { ...create('dry'), validateOnly: true });
    expect(dry.topics[0]!.errorCode).toBe(0);
    expect(broker.topics.get('dry')).toBeUndefined();
    for (const i of [0, 1, 2]) expect(existsSync(join(dataDir, `orders-${i}`))).toBe(true);
    await broker.close();

    const again = await Broker.open({ dataDir, logger: quiet });
    const md = await again.call('Metadata', { topics: null });
    expect(md.topics.map((t) => [t.name, t.partitions.length])).toEqual([['orders', 3]]);
    expect(md.topics[0]!.partitions[2]).toMatchObject({
      partitionIndex: 2,
      leaderId: 0,
      isrNodes: [0],
    });
    expect(md.controllerId).toBe(0);
    expect(md.clusterId).toBe(again.meta.clusterId);
    expect(again.topics.partition('orders', 0)!.log.config['retention.ms']).toBe(60000);
    await again.close();
  });

  it('answers Metadata for named topics, creating them only when asked and allowed', async () => {
    const broker = await openBroker({ config: { 'num.partitions': 2 } });
    let md = await broker.call('Metadata', { topics: [{ name: 'a' }, { name: '..' }] });
    expect(md.topics.map((t) => t.errorCode)).toEqual([
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      ErrorCode.INVALID_TOPIC_EXCEPTION,
    ]);
    md = await broker.call('Metadata', { topics: [{ name: 'a' }], allowAutoTopicCreation: true });
    expect(md.topics[0]).toMatchObject({ errorCode: 0, name: 'a' });
    expect(md.topics[0]!.partitions).toHaveLength(2);
    expect((await broker.call('Metadata', { topics: [] })).topics).toEqual([]);
    await broker.close();

    const off = await openBroker({ config: { 'auto.create.topics.enable': false } });
    md = await off.call('Metadata', { topics: [{ name: 'a' }], allowAutoTopicCreation: true });
    expect(md.topics[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const p = await off.call('Produce', produceBody('a', 0, batch(['x'])));
    expect(p.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    await off.close();
  });

  it('deletes topics and their directories; a waiting fetch on one answers', async () => {
    const broker = await openBroker();
    await broker.call('CreateTopics', create('gone', 2));
    const dir = join(broker.dataDir, 'gone-1');
    expect(existsSync(dir)).toBe(true);
    const waiting = broker.call(
      'Fetch',
      fetchBody('gone', 1, 0, { maxWaitMs: 10_000, minBytes: 1 }),
    );
    const res = await broker.call('DeleteTopics', {
      topics: [{ name: 'gone' }, { name: 'never' }],
      timeoutMs: 1000,
    });
    expect(res.topics.map((t) => t.errorCode)).toEqual([0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
    expect(existsSync(dir)).toBe(false);
    const fetched = await waiting;
    expect(fetched.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    await broker.call('CreateTopics', create('gone', 1));
    expect(broker.topics.partition('gone', 0)!.highWatermark).toBe(0);
    await broker.close();
  });
});

describe('Produce and Fetch', () => {
  it('appends batches as they are and serves them back as the same bytes', async () => {
    const broker = await openBroker();
    const first = batch(['a', 'b', 'c']);
    const p1 = await broker.call('Produce', produceBody('events', 0, first));
    expect(p1.topics[0]!.partitions[0]).toMatchObject({
      errorCode: 0,
      baseOffset: 0,
      logStartOffset: 0,
    });
    const p2 = await broker.call(
      'Produce',
      produceBody('events', 0, Buffer.concat([batch(['d']), batch(['e', 'f'])]), 0),
    );
    expect(p2.topics[0]!.partitions[0]!.baseOffset).toBe(3);
    const f = await broker.call('Fetch', fetchBody('events', 0, 0));
    const part = f.topics[0]!.partitions[0]!;
    expect(part).toMatchObject({
      errorCode: 0,
      highWatermark: 6,
      lastStableOffset: 6,
      logStartOffset: 0,
    });
    expect(values(part.records)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(part.records.subarray(0, first.length).equals(first)).toBe(true); // offsets patched in place: 0
    const tail = await broker.call('Fetch', fetchBody('events', 0, 6));
    expect(tail.topics[0]!.partitions[0]!.records.length).toBe(0);
    await broker.close();
  });

  it('refuses bad batches and bad offsets per partition, keeping the others', async () => {
    const broker = await openBroker({ config: { 'message.max.bytes': 200 } });
    await broker.call('CreateTopics', create('t', 2));
    const corrupt = batch(['x']);
    corrupt[corrupt.length - 1]! ^= 0xff;
    const res = await broker.call('Produce', {
      acks: -1,
      timeoutMs: 1000,
      topics: [
        {
          name: 't',
          partitions: [
            { partitionIndex: 0, records: corrupt },
            { partitionIndex: 1, records: batch(['ok']) },
            { partitionIndex: 7, records: batch(['x']) },
            { partitionIndex: 0, records: batch(['y'.repeat(300)]) },
            { partitionIndex: 0, records: Buffer.alloc(0) },
            { partitionIndex: 0, records: Buffer.from('not a batch at all') },
          ],
        },
      ],
    });
    expect(res.topics[0]!.partitions.map((p) => p.errorCode)).toEqual([
      ErrorCode.CORRUPT_MESSAGE,
      0,
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      ErrorCode.MESSAGE_TOO_LARGE,
      ErrorCode.INVALID_RECORD,
      ErrorCode.CORRUPT_MESSAGE,
    ]);
    const f = await broker.call('Fetch', fetchBody('t', 0, 5));
    expect(f.topics[0]!.partitions[0]).toMatchObject({
      errorCode: ErrorCode.OFFSET_OUT_OF_RANGE,
      highWatermark: -1,
    });
    const epoch = await broker.call('Fetch', {
      ...fetchBody('t', 1, 0),
      topics: [
        {
          name: 't',
          partitions: [
            { partitionIndex: 1, fetchOffset: 0, partitionMaxBytes: 100, currentLeaderEpoch: 4 },
          ],
        },
      ],
    });
    expect(epoch.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.UNKNOWN_LEADER_EPOCH);
    expect(broker.topics.partition('t', 0)!.highWatermark).toBe(0);
    await broker.close();
  });

  it('keeps maxBytes and partitionMaxBytes as soft caps', async () => {
    const broker = await openBroker();
    await broker.call('CreateTopics', create('t', 2));
    for (const p of [0, 1])
      for (let i = 0; i < 4; i++)
        await broker.call('Produce', produceBody('t', p, batch([`p${p}-${i}`.padEnd(100, '.')])));
    const size = batch(['x'.padEnd(100, '.')]).length;
    const both = (maxBytes: number, partitionMaxBytes: number) =>
      broker.call('Fetch', {
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes,
        topics: [
          {
            name: 't',
            partitions: [0, 1].map((i) => ({
              partitionIndex: i,
              fetchOffset: 0,
              partitionMaxBytes,
            })),
          },
        ],
      });
    const count = (r: Awaited<ReturnType<typeof both>>) =>
      r.topics[0]!.partitions.map((p) => values(p.records).length);
    expect(count(await both(1, 1))).toEqual([1, 0]); // the first batch comes whole, nothing more
    expect(count(await both(10_000, 2 * size))).toEqual([2, 2]);
    expect(count(await both(3 * size, 10_000))).toEqual([3, 0]);
    await broker.close();
  });
});
