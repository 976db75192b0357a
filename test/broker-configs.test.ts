/** Topic and broker configs, and the background retention and cleaner passes. */
import { describe, expect, it } from 'vitest';
import { Broker, type Timers } from '../src/broker/index.js';
import { ConfigResourceType, ErrorCode } from '../src/protocol/index.js';
import {
  batch,
  fetchBody,
  openBroker,
  produceBody,
  quiet,
  recordingLogger,
  values,
} from './broker-support.js';
import { tempDir } from './support/temp.js';

const TOPIC = ConfigResourceType.TOPIC;
const BROKER = ConfigResourceType.BROKER;

describe('DescribeConfigs and AlterConfigs', () => {
  it('describes effective topic configs, marking what the topic sets', async () => {
    const broker = await openBroker({ config: { 'log.retention.ms': '3600000' } });
    await broker.call('CreateTopics', {
      topics: [
        {
          name: 't',
          numPartitions: 1,
          replicationFactor: 1,
          assignments: [],
          configs: [{ name: 'cleanup.policy', value: 'compact' }],
        },
      ],
      timeoutMs: 0,
    });
    const res = await broker.call('DescribeConfigs', {
      resources: [
        {
          resourceType: TOPIC,
          resourceName: 't',
          configurationKeys: ['cleanup.policy', 'retention.ms', 'nope'],
        },
        { resourceType: TOPIC, resourceName: 'missing', configurationKeys: null },
      ],
    });
    expect(res.resources[0]!.configs).toEqual([
      {
        name: 'retention.ms',
        value: '3600000',
        readOnly: false,
        isDefault: true,
        isSensitive: false,
      },
      {
        name: 'cleanup.policy',
        value: 'compact',
        readOnly: false,
        isDefault: false,
        isSensitive: false,
      },
    ]);
    expect(res.resources[1]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const b = await broker.call('DescribeConfigs', {
      resources: [{ resourceType: BROKER, resourceName: '0', configurationKeys: null }],
    });
    const byName = new Map(b.resources[0]!.configs.map((c) => [c.name, c]));
    expect(byName.get('log.retention.ms')).toMatchObject({
      value: '3600000',
      isDefault: false,
      readOnly: true,
    });
    expect(byName.get('num.partitions')).toMatchObject({ value: '1', isDefault: true });
    const other = await broker.call('DescribeConfigs', {
      resources: [{ resourceType: BROKER, resourceName: '5', configurationKeys: null }],
    });
    expect(other.resources[0]!.errorCode).toBe(ErrorCode.INVALID_REQUEST);
    await broker.close();
  });

  it('replaces a topic config set, persists it, and reopens the logs with it', async () => {
    const dataDir = tempDir('samsa-broker-');
    const broker = await Broker.open({ dataDir, logger: quiet });
    await broker.call('Produce', produceBody('t', 0, batch(['before'])));
    const alter = (configs: { name: string; value: string | null }[], validateOnly = false) =>
      broker.call('AlterConfigs', {
        resources: [{ resourceType: TOPIC, resourceName: 't', configs }],
        validateOnly,
      });
    expect((await alter([{ name: 'retention.ms', value: 'x' }])).resources[0]!.errorCode).toBe(
      ErrorCode.INVALID_CONFIG,
    );
    expect(
      (await alter([{ name: 'segment.bytes', value: '1000' }], true)).resources[0]!.errorCode,
    ).toBe(0);
    expect(broker.topics.partition('t', 0)!.log.config['segment.bytes']).toBe(1024 ** 3);
    expect((await alter([{ name: 'segment.bytes', value: '1000' }])).resources[0]!.errorCode).toBe(
      0,
    );
    expect(broker.topics.partition('t', 0)!.log.config['segment.bytes']).toBe(1000);
    await broker.call('Produce', produceBody('t', 0, batch(['after'])));
    expect(
      values((await broker.call('Fetch', fetchBody('t', 0, 0))).topics[0]!.partitions[0]!.records),
    ).toEqual(['before', 'after']);
    const brokerAlter = await broker.call('AlterConfigs', {
      resources: [{ resourceType: BROKER, resourceName: '0', configs: [] }],
    });
    expect(brokerAlter.resources[0]!.errorCode).toBe(ErrorCode.INVALID_REQUEST);
    await broker.close();
    const again = await Broker.open({ dataDir, logger: quiet });
    expect(again.topics.get('t')!.configs).toEqual({ 'segment.bytes': '1000' });
    await again.close();
  });
});

/** Timers the test fires by hand. */
function manualTimers(): Timers & { fire(ms: number): void } {
  const intervals = new Map<number, { fn: () => void; ms: number }>();
  let next = 1;
  return {
    setInterval: (fn, ms) => (intervals.set(next, { fn, ms }), next++),
    clearInterval: (h) => void intervals.delete(h as number),
    fire: (ms) => {
      for (const i of intervals.values()) if (i.ms === ms) i.fn();
    },
  };
}

describe('background passes', () => {
  it('runs retention on its schedule and says what it deleted', async () => {
    const timers = manualTimers();
    const logger = recordingLogger();
    let now = 1_000_000;
    const broker = await openBroker({
      timers,
      logger,
      clock: () => now,
      config: {
        'log.segment.bytes': 300,
        'log.retention.ms': 10_000,
        'log.retention.check.interval.ms': 1234,
      },
    });
    for (let i = 0; i < 10; i++)
      await broker.call('Produce', produceBody('t', 0, batch([`v${i}`.padEnd(100, '.')], now)));
    const before = broker.topics.partition('t', 0)!.log.segments.length;
    expect(before).toBeGreaterThan(2);
    now += 60_000;
    timers.fire(1234);
    await new Promise((r) => setTimeout(r, 50));
    const after = broker.topics.partition('t', 0)!.log.segments.length;
    expect(after).toBe(1);
    expect(logger.lines.some((l) => /retention deleted \d+ segment/.test(l))).toBe(true);
    expect(logger.lines.some((l) => l.includes('rolled to a new segment'))).toBe(true);
    await broker.close();
  });

  it('runs the cleaner over compacted topics and says what it kept', async () => {
    const logger = recordingLogger();
    const broker = await openBroker({
      logger,
      config: { 'log.segment.bytes': 400, 'log.cleaner.backoff.ms': 999_999 },
    });
    await broker.call('CreateTopics', {
      topics: [
        {
          name: 'c',
          numPartitions: 1,
          replicationFactor: -1,
          assignments: [],
          configs: [{ name: 'cleanup.policy', value: 'compact' }],
        },
      ],
      timeoutMs: 0,
    });
    for (let i = 0; i < 30; i++)
      await broker.call('Produce', produceBody('c', 0, batch([`v${i}`.padEnd(40, '.')])));
    const summary = await broker.runCleaner();
    expect(summary!.recordsRead).toBeGreaterThan(summary!.recordsKept);
    expect(logger.lines.some((l) => /cleaner kept \d+ of \d+ records in c-0/.test(l))).toBe(true);
    await broker.close();
  });
});
