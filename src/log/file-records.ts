/**
 * The `.log` file of a segment: record batches appended back to back. It knows
 * bytes and positions, not offsets. Writes go to the page cache (synchronous
 * and short); `flush` is the fsync that makes them durable, run off the event
 * loop. Its size in memory is the size of whole batches written, so a reader
 * never sees half an append.
 *
 * Not safe for concurrent writers: one Log owns each file.
 */
import { closeSync, fstatSync, fsync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import {
  BASE_OFFSET_POS,
  BATCH_HEADER_SIZE,
  LAST_OFFSET_DELTA_POS,
  LOG_OVERHEAD,
  MAX_TIMESTAMP_POS,
  batchSizeAt,
  readInt64,
} from './batch-header.js';

/** Bytes read at a time when walking batch headers. */
const SCAN_CHUNK = 64 * 1024;

/** What a walk over the headers needs of each batch (the full header is readBatchHeader's). */
export interface ScannedBatch {
  position: number;
  /** Total bytes, header included. */
  size: number;
  baseOffset: number;
  lastOffset: number;
  maxTimestamp: number;
  /** The whole batch, present only when the scan asked for bytes. */
  bytes?: Buffer;
}

export class FileRecords {
  private fd: number;
  private _size: number;

  private constructor(
    readonly path: string,
    fd: number,
    size: number,
  ) {
    this.fd = fd;
    this._size = size;
  }

  static open(path: string): FileRecords {
    const fd = openSync(path, 'a+');
    return new FileRecords(path, fd, fstatSync(fd).size);
  }

  get size(): number {
    return this._size;
  }

  // #region append
  append(batch: Buffer): number {
    const position = this._size;
    let written = 0;
    while (written < batch.length) {
      written += writeSync(this.fd, batch, written, batch.length - written, position + written);
    }
    this._size += batch.length;
    return position;
  }
  // #endregion append

  /** Reads up to `length` bytes at `position`, never past the end. */
  read(position: number, length: number): Buffer {
    const n = Math.max(0, Math.min(length, this._size - position));
    const buf = Buffer.allocUnsafe(n);
    let done = 0;
    while (done < n) {
      const got = readSync(this.fd, buf, done, n - done, position + done);
      if (got === 0) break;
      done += got;
    }
    return done === n ? buf : buf.subarray(0, done);
  }

  /**
   * Walks the batch headers from `position` to the end (or `end`), yielding
   * each whole batch. With `withBytes` each carries its bytes, for CRC checks.
   * Throws CorruptBatchError on an impossible length; stops quietly at a batch
   * cut short by the end of the file (the caller decides what that means).
   */
  *batches(
    position: number,
    options: { withBytes?: boolean; end?: number; chunkSize?: number; chunk?: Buffer } = {},
  ): Generator<ScannedBatch> {
    const end = Math.min(options.end ?? this._size, this._size);
    const chunkSize = options.chunkSize ?? SCAN_CHUNK;
    // `chunk` lets a caller that already read the bytes at `position` walk them without a second read.
    let chunk: Buffer = options.chunk ?? Buffer.alloc(0);
    let chunkStart = position;
    let pos = position;
    while (pos + LOG_OVERHEAD <= end) {
      let offsetInChunk = pos - chunkStart;
      if (offsetInChunk + BATCH_HEADER_SIZE > chunk.length) {
        chunk = this.read(pos, Math.min(chunkSize, end - pos));
        chunkStart = pos;
        offsetInChunk = 0;
      }
      const size = batchSizeAt(chunk, offsetInChunk);
      if (size < 0 || pos + size > end || offsetInChunk + BATCH_HEADER_SIZE > chunk.length) return;
      const baseOffset = readInt64(chunk, offsetInChunk + BASE_OFFSET_POS);
      const scanned: ScannedBatch = {
        position: pos,
        size,
        baseOffset,
        lastOffset: baseOffset + chunk.readInt32BE(offsetInChunk + LAST_OFFSET_DELTA_POS),
        maxTimestamp: readInt64(chunk, offsetInChunk + MAX_TIMESTAMP_POS),
      };
      if (options.withBytes) {
        scanned.bytes =
          offsetInChunk + size <= chunk.length
            ? chunk.subarray(offsetInChunk, offsetInChunk + size)
            : this.read(pos, size);
      }
      yield scanned;
      pos += size;
    }
  }

  truncateTo(size: number): void {
    if (size >= this._size) return;
    ftruncateSync(this.fd, size);
    this._size = size;
  }

  /** fsync on the libuv thread pool: the event loop keeps running meanwhile. */
  flush(): Promise<void> {
    return fsyncFd(this.fd);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/** fsync off the event loop. A file closed meanwhile (a deleted segment) has nothing left to flush. */
export function fsyncFd(fd: number): Promise<void> {
  if (fd < 0) return Promise.resolve();
  return new Promise((resolve, reject) =>
    fsync(fd, (err) => (err && err.code !== 'EBADF' ? reject(err) : resolve())),
  );
}
