/**
 * Helpers shared by the producer tests: a fake cluster that keeps a log per partition in
 * memory, and producers on it. Everything started is closed after each test (`cleanup`).
 */
import { afterEach } from 'vitest';
import { Producer, type ProducerOptions } from '../src/client/producer.js';
import { stringSerde } from '../src/client/serde.js';
import { decodeRecords } from '../src/log/index.js';
import type { ProduceRequest, Request } from '../src/protocol/index.js';
import {
  type FakeAnswer,
  type FakeBroker,
  metadataBody,
  startFakeBroker,
} from './client-fake-broker.js';

export interface Fake {
  broker: FakeBroker;
  /** Records per partition, `topic-partition` → values. */
  logs: Map<string, string[]>;
  produces: ProduceRequest[];
  /** Answer Produce with this instead, when set (return undefined to answer normally). */
  intercept?: (body: ProduceRequest, n: number) => FakeAnswer | Promise<FakeAnswer> | undefined;
}

export const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

export async function fakeCluster(topics: Record<string, number>): Promise<Fake> {
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

export function append(fake: Fake, body: ProduceRequest) {
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

export function producer(fake: Fake, options: ProducerOptions<string, string> = {}) {
  const p = new Producer<string, string>({
    brokers: fake.broker.address,
    keySerializer: stringSerde.serialize,
    valueSerializer: stringSerde.serialize,
    ...options,
  });
  cleanup.push(() => p.close().catch(() => undefined));
  return p;
}

export const records = (n: number, prefix = 'v') =>
  Array.from({ length: n }, (_, i) => ({ value: `${prefix}${i}` }));
