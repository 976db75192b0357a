/** The consumer's hand-written iterator behaves as the async generator it replaced. */
import { describe, it, expect } from 'vitest';
import { RecordIterator, type RecordSource } from '../src/client/record-iterator.js';

function source(
  records: number[],
  options: { failAfter?: Error; work?: () => Promise<void> } = {},
) {
  const log: string[] = [];
  let closing = false;
  let failure = options.failAfter;
  let waiters: (() => void)[] = [];
  const src: RecordSource<number> = {
    poll: () => {
      const work = options.work;
      options.work = undefined;
      if (work !== undefined) log.push('work');
      return work?.();
    },
    isClosing: () => closing,
    nextBuffered: () => records.shift(),
    takeFailure: () => {
      if (records.length > 0) return undefined;
      const f = failure;
      failure = undefined;
      return f;
    },
    waitForData: () => new Promise<void>((resolve) => waiters.push(resolve)),
    finish: async () => {
      log.push('finish');
      closing = true;
    },
  };
  const push = (...more: number[]) => {
    records.push(...more);
    const w = waiters;
    waiters = [];
    for (const resolve of w) resolve();
  };
  const close = () => {
    closing = true;
    push();
  };
  return { src, log, push, close };
}

describe('the record iterator', () => {
  it('hands out buffered records, waits for more, and ends when the consumer closes', async () => {
    const { src, log, push, close } = source([1, 2]);
    const it = new RecordIterator(src);
    expect(await it.next()).toEqual({ done: false, value: 1 });
    expect(await it.next()).toEqual({ done: false, value: 2 });
    const third = it.next();
    const fourth = it.next(); // queued behind the pending one, as a generator does
    push(3, 4);
    expect(await third).toEqual({ done: false, value: 3 });
    expect(await fourth).toEqual({ done: false, value: 4 });
    const fifth = it.next();
    close();
    expect(await fifth).toEqual({ done: true, value: undefined });
    expect(await it.next()).toEqual({ done: true, value: undefined });
    expect(log).toEqual(['finish']);
  });

  it('does the group work before a record, and throws a failure once the buffer is empty', async () => {
    let worked = false;
    const boom = new Error('boom');
    const work = async () => {
      worked = true;
    };
    const { src, log } = source([1], { failAfter: boom, work });
    const it = new RecordIterator(src);
    expect(await it.next()).toEqual({ done: false, value: 1 });
    expect(worked).toBe(true);
    await expect(it.next()).rejects.toBe(boom);
    expect(await it.next()).toEqual({ done: true, value: undefined });
    expect(log).toEqual(['work', 'finish']);
  });

  it('finishes once when the loop is left early', async () => {
    const { src, log } = source([1, 2, 3]);
    const seen: number[] = [];
    for await (const n of { [Symbol.asyncIterator]: () => new RecordIterator(src) }) {
      seen.push(n);
      if (n === 2) break;
    }
    expect(seen).toEqual([1, 2]);
    expect(log).toEqual(['finish']);
  });
});
