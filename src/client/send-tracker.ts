/**
 * One `send` call's records, which may spread over several batches and
 * partitions, and the array of `RecordMetadata` the send resolves to.
 *
 * That array is lazy: a batch that completes records only where its run of
 * the send's records landed (partition, first offset, timestamps), and the
 * metadata objects are made on the first read of an element. A producer
 * whose caller never looks at them (most of them: `await send(...)`) makes
 * none, instead of one object per record. It is a real array to every
 * observer (`Array.isArray`, indexing, iteration, spread, `map`, JSON,
 * `Object.keys`, assignment), a Proxy whose element reads fill it in whole
 * once; `length` and the array methods themselves do not.
 */

/** Where a record ended up: Kafka's RecordMetadata. The offset is -1 with acks=0. */
export interface RecordMetadata {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
}

/** A run of a send's records that landed together, consecutive in the send and in one batch. */
interface Run {
  topic: string;
  partition: number;
  /** The send's index of the run's first record. */
  start: number;
  length: number;
  /** The first record's offset, or -1 (acks=0): the others follow it. */
  offset: number;
  /** Every record's timestamp is this one, unless `timestamps` is given. */
  timestamp: number;
  /** Per-record timestamps of the batch, the run's first at `timestampsFrom`. */
  timestamps: readonly number[] | undefined;
  timestampsFrom: number;
}

/** Resolves a send once each of its records is placed; rejects it at the first failure. */
export class SendTracker {
  private readonly runs: Run[] = [];
  private readonly count: number;
  private remaining: number;
  private failed = false;

  constructor(
    count: number,
    private readonly resolve: (results: RecordMetadata[]) => void,
    private readonly reject: (error: Error) => void,
  ) {
    this.count = count;
    this.remaining = count;
  }

  /** Records [start, start + length) of the send landed at `run.offset` onward. */
  done(run: Run): void {
    this.runs.push(run);
    this.remaining -= run.length;
    if (this.remaining === 0 && !this.failed) this.resolve(lazyMetadata(this.count, this.runs));
  }

  fail(error: Error): void {
    if (this.failed) return;
    this.failed = true;
    this.reject(error);
  }
}

// #region lazy
/** An array of `count` metadata whose objects are made from `runs` when an element is first read. */
function lazyMetadata(count: number, runs: readonly Run[]): RecordMetadata[] {
  const target = new Array<RecordMetadata>(count);
  let filled = false;
  const fill = (): void => {
    if (filled) return;
    filled = true;
    for (const run of runs) {
      const { topic, partition, offset, timestamps } = run;
      for (let k = 0; k < run.length; k++) {
        target[run.start + k] = {
          topic,
          partition,
          offset: offset < 0 ? -1 : offset + k,
          timestamp: timestamps === undefined ? run.timestamp : timestamps[run.timestampsFrom + k]!,
        };
      }
    }
  };
  return new Proxy(target, {
    get(t, key, receiver) {
      // An element ('0', '1', …) fills the array; 'length', methods and `then` (a promise
      // resolved with this array asks for it) do not.
      if (!filled && typeof key === 'string' && isDigit(key.charCodeAt(0))) fill();
      return Reflect.get(t, key, receiver) as unknown;
    },
    has: (t, key) => (fill(), Reflect.has(t, key)),
    ownKeys: (t) => (fill(), Reflect.ownKeys(t)),
    getOwnPropertyDescriptor: (t, key) => (fill(), Reflect.getOwnPropertyDescriptor(t, key)),
    set: (t, key, value, receiver) => (fill(), Reflect.set(t, key, value, receiver)),
    defineProperty: (t, key, descriptor) => (fill(), Reflect.defineProperty(t, key, descriptor)),
    deleteProperty: (t, key) => (fill(), Reflect.deleteProperty(t, key)),
  });
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}
// #endregion lazy

export type { Run as CompletedRun };
