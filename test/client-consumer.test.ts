/**
 * The consumer against a fake broker that serves canned batches: records
 * below the fetch offset are skipped, a cut-short last batch is ignored and
 * fetched again whole, a seek while a prefetch is in flight never hands out
 * the old position's records, and OFFSET_OUT_OF_RANGE resets or fails.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Consumer, type ConsumerOptions } from '../src/client/consumer.js';
import { stringSerde } from '../src/client/serde.js';
import { encodeBatch } from '../src/log/index.js';
import type { FetchRequest, Request } from '../src/protocol/index.js';
import { type FakeBroker, metadataBody, startFakeBroker } from './client-fake-broker.js';

/** A partition's log as batches of `size` records: values `v<offset>`. */
function batches(count: number, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let base = 0; base < count; base += size) {
    const records = Array.from({ length: Math.min(size, count - base) }, (_, i) => ({
      value: Buffer.from(`v${base + i}`),
    }));
    out.push(encodeBatch(records, { baseOffset: base, timestamp: 1_700_000_000_000 }));
  }
  return out;
}

interface Fake {
  broker: FakeBroker;
  fetches: FetchRequest[];
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** Serves `log` (batches of 5 records, offsets 0..count-1); `serve` may change the bytes of an answer. */
async function fake(
  count: number,
  serve: (bytes: Buffer, fetchOffset: number, n: number) => Buffer | 'out-of-range' = (b) => b,
): Promise<Fake> {
  const log = batches(count, 5);
  const state: Fake = { broker: undefined as never, fetches: [] };
  state.broker = await startFakeBroker(async (request: Request) => {
    if (request.api === 'Metadata')
      return { body: metadataBody(state.broker, { t: 1 }, request.body.topics) };
    if (request.api === 'ListOffsets') {
      const ts = request.body.topics[0]!.partitions[0]!.timestamp;
      const offset = ts === -2 ? 0 : count;
      return {
        body: {
          topics: [
            {
              name: 't',
              partitions: [
                { partitionIndex: 0, errorCode: 0, timestamp: -1, offset, leaderEpoch: 0 },
              ],
            },
          ],
        },
      };
    }
    if (request.api !== 'Fetch') return null;
    state.fetches.push(request.body);
    const fetchOffset = request.body.topics[0]!.partitions[0]!.fetchOffset;
    // Whole batches from the one holding fetchOffset, two at a time.
    const first = Math.floor(fetchOffset / 5);
    let bytes: Buffer | 'out-of-range' = Buffer.concat(log.slice(first, first + 2));
    if (fetchOffset > count) bytes = 'out-of-range';
    else bytes = serve(bytes, fetchOffset, state.fetches.length - 1);
    if (bytes !== 'out-of-range' && bytes.length === 0)
      await new Promise((resolve) => setTimeout(resolve, request.body.maxWaitMs));
    const partition =
      bytes === 'out-of-range'
        ? { errorCode: 1, records: Buffer.alloc(0) }
        : { errorCode: 0, records: bytes };
    return {
      body: {
        topics: [
          {
            name: 't',
            partitions: [
              {
                partitionIndex: 0,
                highWatermark: count,
                lastStableOffset: count,
                logStartOffset: 0,
                ...partition,
              },
            ],
          },
        ],
      },
    };
  });
  cleanup.push(() => state.broker.close());
  return state;
}

function consumer(f: Fake, options: ConsumerOptions<null, string | null> = {}) {
  const c = new Consumer<null, string | null>({
    brokers: f.broker.address,
    valueDeserializer: stringSerde.deserialize,
    fetchMaxWaitMs: 20,
    ...options,
  });
  cleanup.push(() => c.close());
  c.assign([{ topic: 't', partition: 0 }]);
  return c;
}

async function offsets(c: Consumer<null, string | null>, n: number): Promise<number[]> {
  const out: number[] = [];
  for await (const r of c) {
    expect(r.value).toBe(`v${r.offset}`);
    out.push(r.offset);
    if (out.length === n) break;
  }
  return out;
}

describe('Consumer', () => {
  it('skips the records of a batch below the fetch offset', async () => {
    const f = await fake(20);
    const c = consumer(f);
    c.seek({ topic: 't', partition: 0 }, 7); // inside the batch 5..9
    expect(await offsets(c, 13)).toEqual(Array.from({ length: 13 }, (_, i) => i + 7));
    expect(f.fetches[0]!.topics[0]!.partitions[0]!.fetchOffset).toBe(7);
  });

  it('ignores a cut-short last batch and fetches it again', async () => {
    const f = await fake(20, (bytes, _offset, n) =>
      n === 0 ? bytes.subarray(0, bytes.length - 7) : bytes,
    );
    const c = consumer(f);
    c.seek({ topic: 't', partition: 0 }, 0);
    expect(await offsets(c, 20)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    // The second fetch starts where the whole first batch ended.
    expect(f.fetches[1]!.topics[0]!.partitions[0]!.fetchOffset).toBe(5);
  });

  it('prefetches while records are handed out, and drops a prefetch a seek made stale', async () => {
    const f = await fake(40);
    const c = consumer(f);
    const tp = { topic: 't', partition: 0 };
    c.seek(tp, 0);
    const it = c[Symbol.asyncIterator]();
    expect((await it.next()).value).toMatchObject({ offset: 0 });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(f.fetches.length).toBeGreaterThanOrEqual(2); // the next fetch went out early
    c.seek(tp, 30);
    expect((await it.next()).value).toMatchObject({ offset: 30 });
    expect((await it.next()).value).toMatchObject({ offset: 31 });
    expect(await c.position(tp)).toBe(32);
    await it.return?.();
  });

  it('starts from the auto.offset.reset end without a seek', async () => {
    const f = await fake(10);
    const c = consumer(f, { autoOffsetReset: 'earliest' });
    expect(await offsets(c, 10)).toEqual(Array.from({ length: 10 }, (_, i) => i));
  });

  it("fails on OFFSET_OUT_OF_RANGE with autoOffsetReset 'none'", async () => {
    const f = await fake(10);
    const c = consumer(f, { autoOffsetReset: 'none' });
    c.seek({ topic: 't', partition: 0 }, 50);
    await expect(offsets(c, 1)).rejects.toMatchObject({ name: 'OFFSET_OUT_OF_RANGE' });
  });

  it('resets to the earliest offset after OFFSET_OUT_OF_RANGE', async () => {
    const f = await fake(10);
    const c = consumer(f, { autoOffsetReset: 'earliest' });
    c.seek({ topic: 't', partition: 0 }, 50);
    expect(await offsets(c, 3)).toEqual([0, 1, 2]);
  });

  it("wants a seek when there is no position and autoOffsetReset is 'none'", async () => {
    const f = await fake(10);
    const c = consumer(f, { autoOffsetReset: 'none' });
    await expect(offsets(c, 1)).rejects.toMatchObject({ code: 'CLIENT_NO_OFFSET' });
  });
});
