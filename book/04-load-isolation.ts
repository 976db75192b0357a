/**
 * Chapter 4, "Segregating load in a multiservice ecosystem". Run it with
 * `npm run book -- 04-load-isolation` and read 04-load-isolation.md beside it.
 * Offsets, positions and lags are what the broker and consumers reported;
 * throughput figures are measured in this run and only printed.
 */
import { performance } from 'node:perf_hooks';
import { type BookBroker, Reader, sleep, withBroker } from './lib/client.js';
import * as w from './lib/walkthrough.js';

const N = 5000;
const PER_SEND = 100;
const SLOW_MS = 50; // the slow consumer's work per record
const SAMPLE_EVERY = 10; // sends
const VALUE = Buffer.alloc(100, 'x');

const tp = (topic: string) => ({ topic, partition: 0 });
const rate = (n: number, ms: number): string =>
  `${Math.round((n / ms) * 1000).toLocaleString('en')} records/s`;

/** Sends N records, PER_SEND per send, each send awaited; `after` runs after every send. */
async function produce(
  b: BookBroker,
  topic: string,
  after: (sends: number, logEnd: number) => Promise<void> = async () => {},
): Promise<{ acked: number; lastOffset: number; ms: number }> {
  const producer = b.producer();
  let acked = 0;
  let lastOffset = -1;
  const start = performance.now();
  for (let s = 0; s * PER_SEND < N; s++) {
    const metas = await producer.send(
      topic,
      Array.from({ length: PER_SEND }, (_, i) => ({
        key: Buffer.from(`click-${s * PER_SEND + i}`),
        value: VALUE,
      })),
    );
    acked += metas.length;
    lastOffset = metas.at(-1)!.offset;
    await after(s + 1, lastOffset + 1);
  }
  const ms = performance.now() - start;
  await producer.close();
  return { acked, lastOffset, ms };
}

await w.runWalkthrough('Chapter 4 · Segregating load in a multiservice ecosystem', () =>
  w.withTempDir('04-load-isolation', (dir) =>
    withBroker(dir, async (b) => {
      await b.admin.createTopics([
        { name: 'clicks-alone', numPartitions: 1 },
        { name: 'clicks', numPartitions: 1 },
      ]);
      w.say(`A broker on ${b.bootstrap}.`);

      // #region baseline
      w.heading('1. The producer alone');
      const alone = await produce(b, 'clicks-alone');
      w.say(
        `With nobody reading, the producer sent ${alone.acked} records (${N / PER_SEND} sends of ${PER_SEND}) to clicks-alone in ${alone.ms.toFixed(0)} ms: ${rate(alone.acked, alone.ms)}.`,
      );
      // #endregion baseline

      // #region consumers
      w.heading('2. The same, with a fast and a slow consumer attached');
      const fast = new Reader(b.consumer({ autoOffsetReset: 'earliest' }));
      const slow = new Reader(b.consumer({ autoOffsetReset: 'earliest' }));
      fast.consumer.assign([tp('clicks')]);
      slow.consumer.assign([tp('clicks')]);
      await Promise.all([
        fast.consumer.position(tp('clicks')),
        slow.consumer.position(tp('clicks')),
      ]);
      w.say(
        `Two services read clicks from offset 0: a fast one that does nothing with a record, and a slow one that spends ${SLOW_MS} ms on each.`,
      );
      let stop = false;
      const fastDone = fast.take(N, 30_000);
      const slowLoop = (async () => {
        while (!stop) {
          await slow.take(1, 30_000);
          await sleep(SLOW_MS);
        }
      })();

      const samples: (string | number)[][] = [];
      const lag = async (logEnd: number) => {
        const [f, s] = await Promise.all([
          fast.consumer.position(tp('clicks')),
          slow.consumer.position(tp('clicks')),
        ]);
        return { f: logEnd - f, s: logEnd - s };
      };
      const slowLags: number[] = [];
      const attached = await produce(b, 'clicks', async (sends, logEnd) => {
        if (sends % SAMPLE_EVERY !== 0) return;
        const l = await lag(logEnd);
        slowLags.push(l.s);
        samples.push([sends * PER_SEND, logEnd, l.f, l.s]);
      });
      const [listed] = await b.admin.listOffsets('clicks', 'latest');
      const slowReadWhenDone = slow.seen.length;
      w.say(
        `While the producer ran, every ${SAMPLE_EVERY} sends: the log end offset and each consumer's lag (log end offset − its position):`,
      );
      w.table(['records sent', 'log end offset', 'fast lag', 'slow lag'], samples);
      w.say(
        `The producer sent ${attached.acked} records in ${attached.ms.toFixed(0)} ms: ${rate(attached.acked, attached.ms)} (alone: ${rate(alone.acked, alone.ms)}). The broker's log end offset (ListOffsets) is ${listed!.offset}; by then the slow consumer had read ${slowReadWhenDone}.`,
      );
      // #endregion consumers

      // #region checks
      w.check(
        attached.acked === N && attached.lastOffset === N - 1 && listed!.offset === N,
        `the producer had all ${N} records acknowledged, offsets 0–${N - 1}, with the slow consumer attached, as it did alone (${alone.acked})`,
      );
      w.check(
        slowReadWhenDone < N / 10,
        `meanwhile the slow consumer had read ${slowReadWhenDone}, fewer than ${N / 10}: the producer did not wait for it`,
      );
      w.check(
        slowLags.length >= 2 && slowLags.at(-1)! > slowLags[0]!,
        `the slow consumer's lag grew while the producer ran (${slowLags[0]} → ${slowLags.at(-1)})`,
      );
      const fastRecords = await fastDone;
      const fastEnd = await fast.consumer.position(tp('clicks'));
      const slowNow = await slow.consumer.position(tp('clicks'));
      w.say(
        `The fast consumer read all ${fastRecords.length} records, position ${fastEnd} (lag ${N - fastEnd}); the slow one is at ${slowNow} (lag ${N - slowNow}).`,
      );
      w.check(
        fastRecords.length === N &&
          fastRecords.every((r, i) => r.offset === i) &&
          fastEnd === N &&
          slowNow < N / 10,
        'the fast consumer caught up to the log end, every offset in order, while the slow one was still far behind',
      );
      stop = true;
      await slowLoop;
      // #endregion checks
    }),
  ),
);
