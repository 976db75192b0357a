/**
 * Chapter 3, "Is Kafka what you think it is?". Run it with
 * `npm run book -- 03-kafka-is-what` and read 03-kafka-is-what.md beside it.
 * Every offset, id and count printed is what the broker and clients reported.
 */
import { randomUUID } from 'node:crypto';
import { type ConsumerRecord, stringSerde } from '../src/index.js';
import { type BookBroker, Reader, withBroker } from './lib/client.js';
import * as w from './lib/walkthrough.js';

const REQUESTS = 'quote-requests';
const REPLIES = 'quote-replies';
const ORDERS = 'orders';
const QUESTIONS = 6;
const ORDER_COUNT = 20;
const SLOW_FIRST_READ = 5;
const LATE_EXTRA = 4;

const strings = { keySerializer: stringSerde.serialize, valueSerializer: stringSerde.serialize };
const readStrings = {
  keyDeserializer: stringSerde.deserialize,
  valueDeserializer: stringSerde.deserialize,
};
const header = (r: ConsumerRecord<string | null, string | null>, key: string): string | undefined =>
  r.headers.find((h) => h.key === key)?.value?.toString();

// #region request-response
/**
 * A quote service: it reads requests ("sku:quantity") and answers each on the
 * reply topic, keyed by the request's correlation id, which it also copies
 * into a header. It knows nothing about who asked.
 */
async function quoteService(b: BookBroker, partition: number, served: string[]): Promise<void> {
  const consumer = b.consumer({ ...readStrings, autoOffsetReset: 'earliest' });
  consumer.assign([{ topic: REQUESTS, partition }]);
  const producer = b.producer(strings);
  for await (const request of consumer) {
    const correlationId = header(request, 'correlation-id')!;
    const [sku, quantity] = request.value!.split(':');
    const price = Number(quantity) * 3; // every sku costs 3
    await producer.send(REPLIES, [
      {
        key: correlationId,
        value: `${sku}:${quantity} costs ${price}`,
        headers: [{ key: 'correlation-id', value: Buffer.from(correlationId) }],
      },
    ]);
    served.push(`${partition}/${request.offset}`);
  }
}

async function requestResponse(b: BookBroker): Promise<void> {
  w.heading('1. Request/response over two topics, matched by a correlation id');
  await b.admin.createTopics([
    { name: REQUESTS, numPartitions: 2 },
    { name: REPLIES, numPartitions: 1 },
  ]);
  // The caller listens for replies from the end of the reply topic: it looks
  // the position up now, before it asks anything, so no reply can slip by.
  const replies = b.consumer({ ...readStrings, autoOffsetReset: 'latest' });
  const replyTp = { topic: REPLIES, partition: 0 };
  replies.assign([replyTp]);
  const startAt = await replies.position(replyTp);
  w.say(`The caller reads ${REPLIES} from its end, offset ${startAt}.`);

  // Two instances of the service, one per request partition, run meanwhile.
  const served: string[] = [];
  const services = [0, 1].map((p) => quoteService(b, p, served).catch(() => {}));

  const caller = b.producer(strings);
  const asked = Array.from({ length: QUESTIONS }, (_, i) => ({
    correlationId: randomUUID().slice(0, 8),
    sku: `sku-${i}`,
    quantity: i + 1,
  }));
  const sent = await caller.send(
    REQUESTS,
    asked.map((q) => ({
      key: q.sku,
      value: `${q.sku}:${q.quantity}`,
      headers: [{ key: 'correlation-id', value: Buffer.from(q.correlationId) }],
    })),
  );
  w.say(`The caller sent ${QUESTIONS} requests to ${REQUESTS} without waiting for any answer:`);
  w.table(
    ['correlation id', 'request', 'partition', 'offset'],
    asked.map((q, i) => [
      q.correlationId,
      `${q.sku}:${q.quantity}`,
      sent[i]!.partition,
      sent[i]!.offset,
    ]),
  );

  const reader = new Reader(replies);
  const got = await reader.take(QUESTIONS);
  w.say('The replies, in the order the reply topic holds them:');
  w.table(
    ['reply offset', 'key', 'correlation-id header', 'value'],
    got.map((r) => [
      r.offset,
      r.key ?? w.NONE,
      header(r, 'correlation-id') ?? w.NONE,
      r.value ?? w.NONE,
    ]),
  );
  const byId = new Map(got.map((r) => [r.key, r]));
  const inOrder = got.map((r) => r.key).join() === asked.map((q) => q.correlationId).join();
  w.say(
    inOrder
      ? 'This time the replies came back in the order the requests went out; nothing promises that.'
      : 'The replies came back in another order than the requests went out: the two service instances worked at their own pace.',
  );
  w.check(
    got.length === QUESTIONS && byId.size === QUESTIONS,
    `${QUESTIONS} requests got ${got.length} replies with ${byId.size} distinct correlation ids`,
  );
  w.check(
    asked.every((q) => {
      const r = byId.get(q.correlationId);
      return (
        r !== undefined &&
        header(r, 'correlation-id') === q.correlationId &&
        r.value === `${q.sku}:${q.quantity} costs ${q.quantity * 3}`
      );
    }),
    'every request was matched to its own reply by correlation id (key and header agree, the answer is for that request)',
  );
  w.check(
    new Set(sent.map((m) => m.partition)).size === 2,
    'the requests were spread over both request partitions, so both service instances served some',
  );
  const logs = await Promise.all([REQUESTS, REPLIES].map((t) => b.admin.listOffsets(t, 'latest')));
  const [reqEnd, repEnd] = logs.map((l) => l.reduce((s, p) => s + p.offset, 0));
  w.say(
    `Both conversations are still in the log: ${REQUESTS} holds ${reqEnd} records and ${REPLIES} ${repEnd}; the service instances served ${served.join(', ')} (partition/offset).`,
  );
  w.check(
    reqEnd === QUESTIONS && repEnd === QUESTIONS,
    'requests and replies stay in their topics after they were read',
  );
  await replies.close();
  void services; // the service instances run until the broker's clients are closed at the end
}
// #endregion request-response

// #region fan-out
async function fanOut(b: BookBroker): Promise<string[]> {
  w.heading('2. Fan-out: one topic, independent subscribers at their own pace');
  await b.admin.createTopics([{ name: ORDERS, numPartitions: 1 }]);
  const tp = { topic: ORDERS, partition: 0 };
  const producer = b.producer(strings);
  const sent = await producer.send(
    ORDERS,
    Array.from({ length: ORDER_COUNT }, (_, i) => ({ key: `order-${i}`, value: `placed ${i}` })),
  );
  w.say(
    `The order service wrote ${sent.length} events, offsets ${sent[0]!.offset}–${sent.at(-1)!.offset}.`,
  );

  const email = new Reader(b.consumer({ ...readStrings, autoOffsetReset: 'earliest' }));
  const analytics = new Reader(b.consumer({ ...readStrings, autoOffsetReset: 'earliest' }));
  email.consumer.assign([tp]);
  analytics.consumer.assign([tp]);

  await analytics.take(SLOW_FIRST_READ);
  await email.take(ORDER_COUNT);
  const emailAt = await email.consumer.position(tp);
  const analyticsAt = await analytics.consumer.position(tp);
  w.say('Two subscribers, an email service and an analytics service, read the same topic:');
  w.table(
    ['subscriber', 'records read', 'position'],
    [
      ['email', email.seen.length, emailAt],
      ['analytics', analytics.seen.length, analyticsAt],
    ],
  );
  w.check(
    emailAt === ORDER_COUNT && analyticsAt === SLOW_FIRST_READ,
    `each subscriber has its own position: email at ${emailAt} while analytics is still at ${analyticsAt}`,
  );
  await analytics.take(ORDER_COUNT - SLOW_FIRST_READ);
  const offsets = (r: Reader<string | null, string | null>) => r.seen.map((x) => x.offset).join();
  w.say(
    `Analytics then caught up: ${analytics.seen.length} records, offsets ${analytics.seen[0]!.offset}–${analytics.seen.at(-1)!.offset}.`,
  );
  w.check(
    offsets(email) === offsets(analytics) &&
      email.seen.map((r) => r.value).join() === analytics.seen.map((r) => r.value).join(),
    `both subscribers read all ${ORDER_COUNT} events, the same offsets and values: reading consumed nothing`,
  );
  await Promise.all([email.consumer.close(), analytics.consumer.close()]);
  return email.seen.map((r) => r.value ?? '');
}
// #endregion fan-out

// #region replay
async function lateSubscriber(b: BookBroker, history: string[]): Promise<void> {
  w.heading('3. A late subscriber replays history from offset 0');
  const tp = { topic: ORDERS, partition: 0 };
  const [earliest] = await b.admin.listOffsets(ORDERS, 'earliest');
  const [latest] = await b.admin.listOffsets(ORDERS, 'latest');
  w.say(
    `Long after the events were written, a new warehouse service appears. ${ORDERS} still spans offsets ${earliest!.offset}–${latest!.offset - 1}.`,
  );
  const late = new Reader(b.consumer({ ...readStrings, autoOffsetReset: 'earliest' }));
  late.consumer.assign([tp]);
  const startAt = await late.consumer.position(tp);
  const replayed = await late.take(ORDER_COUNT);
  w.say(
    `It starts at offset ${startAt} and reads ${replayed.length} records: ${replayed[0]!.offset} "${replayed[0]!.value}" … ${replayed.at(-1)!.offset} "${replayed.at(-1)!.value}".`,
  );
  w.check(
    startAt === 0 && replayed[0]!.offset === 0,
    'the late subscriber starts at offset 0 (auto.offset.reset = earliest)',
  );
  w.check(
    replayed.map((r) => r.value).join() === history.join(),
    `it replays the same ${history.length} events the early subscribers saw, in the same order`,
  );
  const producer = b.producer(strings);
  await producer.send(
    ORDERS,
    Array.from({ length: LATE_EXTRA }, (_, i) => ({
      key: `order-${ORDER_COUNT + i}`,
      value: `placed ${ORDER_COUNT + i}`,
    })),
  );
  const live = await late.take(LATE_EXTRA);
  w.say(
    `Then it simply keeps reading: ${LATE_EXTRA} new events arrive at offsets ${live.map((r) => r.offset).join(', ')}.`,
  );
  w.check(
    live.map((r) => r.offset).join() ===
      Array.from({ length: LATE_EXTRA }, (_, i) => ORDER_COUNT + i).join(),
    'history and live events come through the same loop, with no gap between them',
  );
}
// #endregion replay

await w.runWalkthrough('Chapter 3 · Is Kafka what you think it is?', () =>
  w.withTempDir('03-kafka-is-what', (dir) =>
    withBroker(dir, async (b) => {
      w.say(`A broker is listening on ${b.bootstrap}.`);
      await requestResponse(b);
      const history = await fanOut(b);
      await lateSubscriber(b, history);
    }),
  ),
);
