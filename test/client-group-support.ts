/**
 * Helpers for the consumer group tests against a real embedded broker:
 * a broker with short group timeouts, topics filled with records whose value
 * names their place (`<partition>:<n>`), consumers that clean up after
 * themselves, and background readers.
 */
import { afterEach, expect } from 'vitest';
import {
  Admin,
  Consumer,
  type ConsumerOptions,
  type Logger,
  Producer,
  type RunningBroker,
  startBroker,
  stringSerde,
} from '../src/index.js';
import { type FakeGroupBroker, startFakeGroupBroker } from './client-fake-group-broker.js';

export type StringConsumer = Consumer<string | null, string | null>;
export type StringConsumerOptions = ConsumerOptions<string | null, string | null>;

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn().catch(() => undefined);
});

export function onCleanup(fn: () => Promise<void>): void {
  cleanup.push(fn);
}

export interface GroupTestBed {
  broker: RunningBroker;
  brokers: string;
  admin: Admin;
  producer: Producer<string | null, string | null>;
  /** Creates `topic` with `partitions` partitions and `perPartition` records in each: values `p:n`. */
  topic(topic: string, partitions: number, perPartition?: number): Promise<void>;
  /** Appends `count` records to each of `partitions`, numbered from `from`. */
  produce(topic: string, partitions: number[], from: number, count: number): Promise<void>;
  consumer(groupId: string, options?: StringConsumerOptions): StringConsumer;
}

export async function groupTestBed(
  brokerOptions: Parameters<typeof startBroker>[0] = {},
): Promise<GroupTestBed> {
  const broker = await startBroker({ port: 0, ...brokerOptions });
  const brokers = `${broker.host}:${broker.port}`;
  const admin = new Admin({ brokers });
  const producer = new Producer<string | null, string | null>({
    brokers,
    keySerializer: stringSerde.serialize,
    valueSerializer: stringSerde.serialize,
    lingerMs: 0,
  });
  onCleanup(() => broker.close());
  onCleanup(() => admin.close());
  onCleanup(() => producer.close());
  const bed: GroupTestBed = {
    broker,
    brokers,
    admin,
    producer,
    async topic(topic, partitions, perPartition = 0) {
      await admin.createTopics([{ name: topic, numPartitions: partitions }]);
      const all = Array.from({ length: partitions }, (_, p) => p);
      if (perPartition > 0) await bed.produce(topic, all, 0, perPartition);
    },
    async produce(topic, partitions, from, count) {
      const records = partitions.flatMap((partition) =>
        Array.from({ length: count }, (_, i) => ({
          partition,
          key: null,
          value: `${partition}:${from + i}`,
        })),
      );
      await producer.send(topic, records);
    },
    consumer(groupId, options = {}) {
      const c = new Consumer<string | null, string | null>({
        brokers,
        groupId,
        keyDeserializer: stringSerde.deserialize,
        valueDeserializer: stringSerde.deserialize,
        fetchMaxWaitMs: 20,
        retryBackoffMs: 10,
        sessionTimeoutMs: 2000,
        heartbeatIntervalMs: 20,
        maxPollIntervalMs: 5000,
        autoOffsetReset: 'earliest',
        logger: quietLogger(),
        ...options,
      });
      onCleanup(() => c.close());
      return c;
    },
  };
  return bed;
}

export function quietLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const nothing = () => undefined;
  return { warnings, debug: nothing, info: nothing, error: nothing, warn: (m) => warnings.push(m) };
}

export interface Seen {
  partition: number;
  offset: number;
  value: string;
}

/** Reads in the background (a `for await` loop) until `stop` says so or the consumer closes. */
export function reader(c: StringConsumer, stop: (seen: Seen[]) => boolean = () => false) {
  const seen: Seen[] = [];
  const done = (async () => {
    for await (const r of c) {
      seen.push({ partition: r.partition, offset: r.offset, value: r.value! });
      if (stop(seen)) break;
    }
  })();
  return { seen, done };
}

/** The next `n` records from an iterator that stays open. */
export async function take(
  it: AsyncIterator<{ value: string | null }>,
  n: number,
): Promise<string[]> {
  const out: string[] = [];
  while (out.length < n) {
    const next = await it.next();
    if (next.done === true) break;
    out.push(next.value.value!);
  }
  return out;
}

/** Waits for what the consumers' timers bring about (no fixed sleeps). */
export async function until(condition: () => boolean, what = 'the condition'): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(condition(), what).toBe(true);
}

export const names = (tps: { topic: string; partition: number }[]) =>
  tps.map((tp) => `${tp.topic}-${tp.partition}`).sort();

/** A fake group broker (client-fake-group-broker.ts), closed after the test. */
export async function fakeGroupBroker(topics: Record<string, number[]>): Promise<FakeGroupBroker> {
  const f = await startFakeGroupBroker(topics);
  onCleanup(() => f.close());
  return f;
}

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** A member of group 'g' on a fake broker, with short timers; closed after the test. */
export function fakeGroupConsumer(
  f: FakeGroupBroker,
  options: ConsumerOptions<Buffer | null, string | null> = {},
): Consumer<Buffer | null, string | null> {
  const c = new Consumer<Buffer | null, string | null>({
    brokers: f.address,
    groupId: 'g',
    clientId: 'app',
    valueDeserializer: stringSerde.deserialize,
    fetchMaxWaitMs: 20,
    retryBackoffMs: 5,
    heartbeatIntervalMs: 20,
    sessionTimeoutMs: 1000,
    autoOffsetReset: 'earliest',
    logger: silent,
    ...options,
  });
  onCleanup(() => c.close());
  return c;
}
