/** One `send` call's records, which may spread over several batches and partitions. */

/** Where a record ended up: Kafka's RecordMetadata. The offset is -1 with acks=0. */
export interface RecordMetadata {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
}

/** Resolves a send once each of its records is placed; rejects it at the first failure. */
export class SendTracker {
  readonly results: RecordMetadata[];
  private remaining: number;
  private failed = false;

  constructor(
    count: number,
    private readonly resolve: (results: RecordMetadata[]) => void,
    private readonly reject: (error: Error) => void,
  ) {
    this.results = new Array<RecordMetadata>(count);
    this.remaining = count;
  }

  done(index: number, metadata: RecordMetadata): void {
    this.results[index] = metadata;
    this.remaining -= 1;
    if (this.remaining === 0 && !this.failed) this.resolve(this.results);
  }

  fail(error: Error): void {
    if (this.failed) return;
    this.failed = true;
    this.reject(error);
  }
}
