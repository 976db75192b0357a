/**
 * What the broker walkthroughs share: an embedded broker in the walkthrough's
 * temporary directory, clients that are all closed at the end, and a way to
 * read a given number of records from a consumer without leaving its loop
 * (leaving a `for await` closes the consumer).
 */
import { join } from 'node:path';
import {
  Admin,
  Consumer,
  type ConsumerOptions,
  type ConsumerRecord,
  Producer,
  type ProducerOptions,
  type RunningBroker,
  startBroker,
} from '../../src/index.js';

// #region broker
/** An embedded broker and the clients made through it; `close` closes them all, then the broker. */
export interface BookBroker {
  readonly running: RunningBroker;
  /** `host:port`, what a client's `brokers` option wants. */
  readonly bootstrap: string;
  readonly admin: Admin;
  producer<K = Buffer, V = Buffer>(options?: ProducerOptions<K, V>): Producer<K, V>;
  consumer<K = Buffer | null, V = Buffer | null>(options?: ConsumerOptions<K, V>): Consumer<K, V>;
}

/** Starts a broker with its data in `<dir>/broker`, runs `body`, then closes every client and the broker. */
export async function withBroker<T>(
  dir: string,
  body: (b: BookBroker) => Promise<T>,
  config: Record<string, string | number | boolean> = {},
): Promise<T> {
  const running = await startBroker({ port: 0, dataDir: join(dir, 'broker'), config });
  const bootstrap = `${running.host}:${running.port}`;
  const closers: (() => Promise<void>)[] = [];
  const admin = new Admin({ brokers: bootstrap });
  closers.push(() => admin.close());
  const b: BookBroker = {
    running,
    bootstrap,
    admin,
    producer(options) {
      const p = new Producer({ brokers: bootstrap, ...options });
      closers.push(() => p.close());
      return p;
    },
    consumer(options) {
      const c = new Consumer({ brokers: bootstrap, fetchMaxWaitMs: 100, ...options });
      closers.push(() => c.close());
      return c;
    },
  };
  try {
    return await body(b);
  } finally {
    await Promise.allSettled(closers.map((close) => close()));
    await running.close();
  }
}
// #endregion broker

// #region reader
/** A consumer's one iterator, kept open between reads: `take(n)` hands out the next n records. */
export class Reader<K, V> {
  private readonly it: AsyncIterator<ConsumerRecord<K, V>>;
  /** Every record handed out so far, in the order the consumer gave them. */
  readonly seen: ConsumerRecord<K, V>[] = [];

  constructor(readonly consumer: Consumer<K, V>) {
    this.it = consumer[Symbol.asyncIterator]();
  }

  /** The next `n` records; rejects if they do not all come within `timeoutMs`. */
  async take(n: number, timeoutMs = 10_000): Promise<ConsumerRecord<K, V>[]> {
    const out: ConsumerRecord<K, V>[] = [];
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`only ${out.length} of ${n} records came within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      while (out.length < n) {
        const next = await Promise.race([this.it.next(), timeout]);
        if (next.done === true) throw new Error(`the consumer closed after ${out.length} records`);
        out.push(next.value);
        this.seen.push(next.value);
      }
      return out;
    } finally {
      clearTimeout(timer);
    }
  }
}
// #endregion reader

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
