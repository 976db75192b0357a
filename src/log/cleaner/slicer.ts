/**
 * A long cleaning pass works in slices and yields to the event loop between
 * them, so appends, reads and fetches on the same process keep answering.
 * A slice ends after `maxMs` of work or `maxBatches` batches, whichever
 * comes first. After each pause the caller checks that the log still holds
 * the segments it is reading: retention, truncation or close may have run.
 */
export class Slicer {
  private sliceStart = performance.now();
  private batches = 0;
  /** How many times the pass yielded (for tests and reports). */
  pauses = 0;

  constructor(
    private readonly maxMs = 4,
    private readonly maxBatches = 256,
  ) {}

  /** Counts one unit of work; true when the slice is used up. */
  due(): boolean {
    return ++this.batches >= this.maxBatches || performance.now() - this.sliceStart >= this.maxMs;
  }

  /** Lets the event loop run whatever is waiting (I/O callbacks, timers), then starts a new slice. */
  async pause(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.pauses++;
    this.batches = 0;
    this.sliceStart = performance.now();
  }
}
