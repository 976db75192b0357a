/**
 * The consumer's `for await` iterator, written by hand rather than as an
 * async generator: when a record is buffered and the group has no work,
 * `next()` hands it out at once in an already-resolved promise. An async
 * generator costs a promise and several microtask turns per record (the
 * resumption, the implicit await of each `yield`); this costs one settled
 * promise. Anything else (group work, an empty buffer, a failure, closing)
 * takes the slow path, which is the generator's loop, unchanged.
 *
 * Like a generator: calls to `next()` made while one is pending queue
 * behind it; once it is done (closed, failed, or `return`ed) every `next()`
 * answers done; `finish` (closing the consumer) runs once, whichever way it
 * ends. Not shared: one iterator per `for await`.
 */
import type { ConsumerRecord } from './fetcher.js';

/** What the iterator asks of its consumer. */
export interface RecordSource<R> {
  /** Kafka's poll: the group's work due before the next record, if any. */
  poll(): Promise<void> | undefined;
  isClosing(): boolean;
  /** The next buffered record, or undefined; says the poll ended when there is one. */
  nextBuffered(): R | undefined;
  /** A failure to throw from the loop, taken (cleared) by the call. */
  takeFailure(): Error | undefined;
  /** Until more may be buffered (a fetch completes), or there is other work. */
  waitForData(): Promise<void>;
  /** The loop is over: the consumer stops being read and closes. */
  finish(): Promise<void>;
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

export class RecordIterator<R = ConsumerRecord<unknown, unknown>> implements AsyncIterator<R> {
  private done = false;
  /** A slow `next()` under way: later calls wait for it. */
  private pending: Promise<IteratorResult<R>> | undefined;
  private finishing: Promise<void> | undefined;

  constructor(private readonly source: RecordSource<R>) {}

  // #region next
  next(): Promise<IteratorResult<R>> {
    if (this.pending !== undefined) return this.pending.then(() => this.next());
    if (this.done) return Promise.resolve(DONE);
    const source = this.source;
    // The fast path: nothing to do but hand out a buffered record.
    const work = source.isClosing() ? undefined : source.poll();
    if (work === undefined && !source.isClosing()) {
      const record = source.nextBuffered();
      if (record !== undefined) return Promise.resolve({ done: false, value: record });
    }
    const slow = this.slowNext(work);
    this.pending = slow;
    const clear = (): void => {
      if (this.pending === slow) this.pending = undefined;
    };
    slow.then(clear, clear);
    return slow;
  }

  /** The async generator's loop: group work, then a buffered record, a failure, or a wait. */
  private async slowNext(polled: Promise<void> | undefined): Promise<IteratorResult<R>> {
    const source = this.source;
    let work = polled;
    try {
      while (!source.isClosing()) {
        if (work !== undefined)
          await work.catch((error: unknown) => {
            if (!source.isClosing()) throw error; // closing fails the group's requests
          });
        if (source.isClosing()) break;
        const record = source.nextBuffered();
        if (record !== undefined) return { done: false, value: record };
        const failure = source.takeFailure();
        if (failure !== undefined) throw failure;
        await source.waitForData();
        work = source.isClosing() ? undefined : source.poll();
      }
    } catch (error) {
      await this.end();
      throw error;
    }
    await this.end();
    return DONE;
  }
  // #endregion next

  /** Leaving the loop (break, return, a throw in its body): the consumer closes. */
  async return(): Promise<IteratorResult<R>> {
    await this.end();
    return DONE;
  }

  private end(): Promise<void> {
    this.done = true;
    return (this.finishing ??= this.source.finish());
  }
}
