/**
 * Frames: a u32 big-endian length, then that many bytes of msgpack body.
 *
 * `FrameDecoder` turns the chunks a socket delivers (split anywhere, several
 * frames to a chunk) into whole frame bodies. It never sees a socket: tests
 * drive it with bytes. Invariant: the bytes it holds are always a prefix of one
 * frame (a length, or a length and part of its body), never more than one
 * frame's worth of copies.
 */

/** Bytes of the u32 big-endian length that precedes every frame body. */
export const LENGTH_PREFIX_WIDTH = 4;

/** Kafka's `socket.request.max.bytes` default: the largest frame body a decoder accepts. */
export const DEFAULT_MAX_FRAME_BYTES = 100 * 1024 * 1024;
const EMPTY = Buffer.alloc(0);

/** The largest length a u32 prefix can hold. */
export const MAX_FRAME_LENGTH = 0xffffffff;

export const FrameErrorCode = {
  TOO_LARGE: 'FRAME_TOO_LARGE',
  TRUNCATED: 'FRAME_TRUNCATED',
} as const;
export type FrameErrorCode = (typeof FrameErrorCode)[keyof typeof FrameErrorCode];

/**
 * The byte stream cannot be trusted past this point: a length over the limit
 * (whatever follows may not be a frame at all), or a stream that ended inside
 * a frame. Always fatal to the connection; no response can be addressed, since
 * the correlation id is inside the body that was refused.
 */
export class FrameError extends Error {
  constructor(
    readonly code: FrameErrorCode,
    message: string,
    /** The frame length read from the prefix, or the bytes of the cut frame that arrived. */
    readonly length: number,
    readonly limit: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export interface FrameDecoderOptions {
  /** `socket.request.max.bytes`: the largest body accepted. Default 100 MiB. */
  maxFrameBytes?: number;
}

/** What one `push` produced: the frames completed by the chunk, in order, then an error if the stream broke. */
export interface FrameBatch {
  frames: Buffer[];
  error?: FrameError;
}

// #region decoder
export class FrameDecoder {
  readonly maxFrameBytes: number;
  // The chunks not yet consumed start at `head`; that one may be partly consumed (`offset`).
  // An index, not shift(), so a frame fed a byte at a time stays linear.
  private chunks: Buffer[] = [];
  private head = 0;
  private offset = 0;
  private buffered = 0;
  // The length of the frame being assembled, once its prefix has arrived.
  private bodyLength = -1;
  private failure: FrameError | undefined;

  constructor(options: FrameDecoderOptions = {}) {
    const max = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    if (!Number.isSafeInteger(max) || max < 0 || max > MAX_FRAME_LENGTH) {
      throw new TypeError(
        `maxFrameBytes must be an integer in [0, ${MAX_FRAME_LENGTH}], not ${max}`,
      );
    }
    this.maxFrameBytes = max;
  }

  /** Bytes held for a frame not yet complete. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** The error that stopped the decoder, if one did. */
  get error(): FrameError | undefined {
    return this.failure;
  }

  /**
   * Feeds one chunk. A body that lies within one chunk is returned as a view
   * of it (no copy), so a chunk's memory must not be reused after it is
   * pushed; a body spread over chunks is copied once. After an error every
   * push returns that error and no frames.
   */
  push(chunk: Uint8Array): FrameBatch {
    if (!(chunk instanceof Uint8Array))
      throw new TypeError('a chunk must be a Buffer or Uint8Array');
    if (this.failure !== undefined) return { frames: [], error: this.failure };
    if (chunk.length > 0) {
      this.chunks.push(
        Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length),
      );
      this.buffered += chunk.length;
    }
    const frames: Buffer[] = [];
    while (true) {
      if (this.bodyLength < 0) {
        if (this.buffered < LENGTH_PREFIX_WIDTH) break;
        const length = this.take(LENGTH_PREFIX_WIDTH).readUInt32BE(0);
        if (length > this.maxFrameBytes) {
          this.fail(
            new FrameError(
              FrameErrorCode.TOO_LARGE,
              `a frame of ${length} bytes exceeds socket.request.max.bytes (${this.maxFrameBytes})`,
              length,
              this.maxFrameBytes,
            ),
          );
          return { frames, error: this.failure };
        }
        this.bodyLength = length;
      }
      if (this.buffered < this.bodyLength) break;
      frames.push(this.take(this.bodyLength));
      this.bodyLength = -1;
    }
    return { frames };
  }

  /**
   * The stream ended: an error if it ended inside a frame (the peer went away
   * mid-request), `undefined` if it ended between frames.
   */
  end(): FrameError | undefined {
    if (this.failure !== undefined) return this.failure;
    if (this.buffered === 0 && this.bodyLength < 0) return undefined;
    const expected =
      this.bodyLength < 0 ? LENGTH_PREFIX_WIDTH : LENGTH_PREFIX_WIDTH + this.bodyLength;
    const got = this.bodyLength < 0 ? this.buffered : LENGTH_PREFIX_WIDTH + this.buffered;
    this.fail(
      new FrameError(
        FrameErrorCode.TRUNCATED,
        `the stream ended inside a frame: ${got} of ${expected} bytes arrived`,
        got,
        this.maxFrameBytes,
      ),
    );
    return this.failure;
  }

  private fail(error: FrameError): void {
    this.failure = error;
    this.chunks = [];
    this.head = 0;
    this.offset = 0;
    this.buffered = 0;
  }

  /** Removes the next `n` (≤ buffered) bytes: a view when they lie in one chunk, else one copy. */
  private take(n: number): Buffer {
    const first = this.chunks[this.head];
    if (first === undefined || n === 0) return Buffer.alloc(0); // a fresh one: callers may keep it
    this.buffered -= n;
    if (first.length - this.offset >= n) {
      const view = first.subarray(this.offset, this.offset + n);
      this.offset += n;
      if (this.offset === first.length) this.dropFirst();
      return view;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[this.head]!;
      const count = Math.min(n - filled, chunk.length - this.offset);
      chunk.copy(out, filled, this.offset, this.offset + count);
      filled += count;
      this.offset += count;
      if (this.offset === chunk.length) this.dropFirst();
    }
    return out;
  }

  private dropFirst(): void {
    this.chunks[this.head] = EMPTY; // release the chunk now, not at the next compaction
    this.head += 1;
    this.offset = 0;
    if (this.head === this.chunks.length) {
      this.chunks = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }
}
// #endregion decoder

/** The frame of a body: its u32 big-endian length, then the body (one copy). */
export function encodeFrame(body: Uint8Array): Buffer {
  if (body.length > MAX_FRAME_LENGTH)
    throw new RangeError(`a frame body of ${body.length} bytes does not fit a u32 length`);
  const frame = Buffer.allocUnsafe(LENGTH_PREFIX_WIDTH + body.length);
  frame.writeUInt32BE(body.length, 0);
  frame.set(body, LENGTH_PREFIX_WIDTH);
  return frame;
}

/** Just the length prefix, for writers that send the body as a separate buffer (no copy). */
export function frameHeader(bodyLength: number): Buffer {
  if (!Number.isSafeInteger(bodyLength) || bodyLength < 0 || bodyLength > MAX_FRAME_LENGTH) {
    throw new RangeError(
      `a frame body length must be an integer in [0, ${MAX_FRAME_LENGTH}], not ${bodyLength}`,
    );
  }
  const header = Buffer.allocUnsafe(LENGTH_PREFIX_WIDTH);
  header.writeUInt32BE(bodyLength, 0);
  return header;
}
