/**
 * `buffer.memory`: the bytes a producer may hold in records not yet
 * acknowledged. A send that does not fit waits (first come, first served,
 * so a large send is not starved by small ones) until batches complete and
 * give their bytes back, or until `max.block.ms` passes.
 *
 * Invariant: 0 ≤ available ≤ total; a waiter is served only when every
 * waiter before it has been.
 */
import { ClientError, ClientErrorCode } from './errors.js';

interface Waiter {
  bytes: number;
  resolve(): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

export class MemoryPool {
  private free: number;
  private readonly waiters: Waiter[] = [];

  constructor(readonly total: number) {
    if (!Number.isSafeInteger(total) || total <= 0)
      throw new TypeError(`buffer.memory must be a positive integer, not ${total}`);
    this.free = total;
  }

  get available(): number {
    return this.free;
  }

  /** Someone is waiting: a new reservation must queue behind them. */
  get waiting(): boolean {
    return this.waiters.length > 0;
  }

  /** Takes `bytes` now if they are free and nobody waits; false otherwise. */
  tryReserve(bytes: number): boolean {
    if (this.waiters.length > 0 || bytes > this.free) return false;
    this.free -= bytes;
    return true;
  }

  /** Takes `bytes`, waiting for them up to `maxBlockMs`; a request larger than the pool is refused at once. */
  reserve(bytes: number, maxBlockMs: number): Promise<void> {
    if (bytes > this.total) {
      return Promise.reject(
        new RangeError(`a record of ${bytes} bytes is larger than buffer.memory (${this.total})`),
      );
    }
    if (this.tryReserve(bytes)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        bytes,
        resolve,
        reject,
        timer: setTimeout(() => {
          const index = this.waiters.indexOf(waiter);
          if (index >= 0) this.waiters.splice(index, 1);
          reject(
            new ClientError(
              ClientErrorCode.TIMEOUT,
              `buffer.memory (${this.total} bytes) stayed full for max.block.ms (${maxBlockMs} ms)`,
            ),
          );
          this.serve(); // the next waiter may fit now
        }, maxBlockMs),
      };
      this.waiters.push(waiter);
    });
  }

  release(bytes: number): void {
    this.free = Math.min(this.total, this.free + bytes);
    this.serve();
  }

  /** Rejects every waiter (the producer is closing without them). */
  failWaiters(error: Error): void {
    for (const waiter of this.waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
  }

  private serve(): void {
    while (this.waiters.length > 0 && this.waiters[0]!.bytes <= this.free) {
      const waiter = this.waiters.shift()!;
      clearTimeout(waiter.timer);
      this.free -= waiter.bytes;
      waiter.resolve();
    }
  }
}
