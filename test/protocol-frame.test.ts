import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  DEFAULT_MAX_FRAME_BYTES,
  FrameDecoder,
  FrameError,
  encodeFrame,
  frameHeader,
} from '../src/protocol/index.js';

const hex = (bufs: Uint8Array[]) => bufs.map((b) => Buffer.from(b).toString('hex'));
const bodies = fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 8 });

/** Feeds `chunks` one by one and collects every frame; fails the test on a frame error. */
function decodeAll(chunks: Uint8Array[], decoder = new FrameDecoder()): Buffer[] {
  const frames: Buffer[] = [];
  for (const chunk of chunks) {
    const batch = decoder.push(chunk);
    expect(batch.error).toBeUndefined();
    frames.push(...batch.frames);
  }
  expect(decoder.end()).toBeUndefined();
  expect(decoder.bufferedBytes).toBe(0);
  return frames;
}

/** `stream` cut at the given positions. */
function cut(stream: Buffer, at: number[]): Buffer[] {
  const points = [...new Set(at.map((p) => p % (stream.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const p of [...points, stream.length]) {
    chunks.push(stream.subarray(from, p));
    from = p;
  }
  return chunks;
}

describe('FrameDecoder', () => {
  it('decodes frames cut anywhere exactly as the whole stream (property)', () => {
    fc.assert(
      fc.property(bodies, fc.array(fc.nat(), { maxLength: 12 }), (frames, at) => {
        const stream = Buffer.concat(frames.map((f) => encodeFrame(f)));
        const whole = decodeAll([stream]);
        expect(hex(whole)).toEqual(hex(frames));
        expect(hex(decodeAll(cut(stream, at)))).toEqual(hex(frames));
      }),
    );
  });

  it('decodes identically when split at every single byte boundary, and fed a byte at a time', () => {
    const frames = [Buffer.from('hello'), Buffer.alloc(0), Buffer.alloc(300, 7), Buffer.from('x')];
    const stream = Buffer.concat(frames.map((f) => encodeFrame(f)));
    for (let at = 0; at <= stream.length; at++) {
      expect(hex(decodeAll([stream.subarray(0, at), stream.subarray(at)]))).toEqual(hex(frames));
    }
    const bytes = [...stream].map((b) => Buffer.from([b]));
    expect(hex(decodeAll(bytes))).toEqual(hex(frames));
  });

  it('returns every frame of a chunk that holds several, as views of the chunk (no copy)', () => {
    const chunk = Buffer.concat([encodeFrame(Buffer.from('a')), encodeFrame(Buffer.from('bc'))]);
    const { frames, error } = new FrameDecoder().push(chunk);
    expect(error).toBeUndefined();
    expect(frames.map((f) => f.toString())).toEqual(['a', 'bc']);
    for (const f of frames) expect(f.buffer).toBe(chunk.buffer);
  });

  it('copies a body spread over chunks once, into a buffer of its own', () => {
    const stream = encodeFrame(Buffer.from('spread'));
    const decoder = new FrameDecoder();
    expect(decoder.push(stream.subarray(0, 6)).frames).toEqual([]);
    expect(decoder.bufferedBytes).toBe(2);
    const [frame] = decoder.push(stream.subarray(6)).frames;
    expect(frame?.toString()).toBe('spread');
    stream.fill(0); // a copy: the chunks may be reused now
    expect(frame?.toString()).toBe('spread');
  });

  it('yields a zero-length frame as an empty buffer', () => {
    const { frames } = new FrameDecoder().push(Buffer.from([0, 0, 0, 0, 0, 0, 0, 1, 9]));
    expect(hex(frames)).toEqual(['', '09']);
  });

  it('accepts plain Uint8Array chunks and gives Buffers', () => {
    const { frames } = new FrameDecoder().push(new Uint8Array(encodeFrame(Buffer.from('u8'))));
    expect(Buffer.isBuffer(frames[0])).toBe(true);
    expect(frames[0]?.toString()).toBe('u8');
  });

  it('refuses a length over the limit as soon as the prefix arrives, after the frames before it', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 10 });
    const ok = encodeFrame(Buffer.alloc(10, 1)); // exactly the limit: accepted
    const bad = frameHeader(11);
    const batch = decoder.push(Buffer.concat([ok, bad.subarray(0, 3)]));
    expect(batch.frames).toHaveLength(1);
    expect(batch.error).toBeUndefined();
    const refused = decoder.push(bad.subarray(3));
    expect(refused.frames).toEqual([]);
    expect(refused.error).toBeInstanceOf(FrameError);
    expect(refused.error).toMatchObject({ code: 'FRAME_TOO_LARGE', length: 11, limit: 10 });
    expect(decoder.error).toBe(refused.error);
    // The stream cannot be trusted past that point: nothing more comes out.
    expect(decoder.push(encodeFrame(Buffer.from('later')))).toEqual({
      frames: [],
      error: refused.error,
    });
    expect(decoder.bufferedBytes).toBe(0);
  });

  it("defaults to Kafka's socket.request.max.bytes (100 MiB)", () => {
    expect(DEFAULT_MAX_FRAME_BYTES).toBe(104_857_600);
    const decoder = new FrameDecoder();
    expect(decoder.push(frameHeader(DEFAULT_MAX_FRAME_BYTES)).error).toBeUndefined();
    const huge = new FrameDecoder().push(Buffer.from([0xff, 0xff, 0xff, 0xff]));
    expect(huge.error?.code).toBe('FRAME_TOO_LARGE');
  });

  it('reports a stream that ends inside a frame, and not one that ends between frames', () => {
    const frame = encodeFrame(Buffer.from('abcdef'));
    for (const at of [1, 4, 7]) {
      const decoder = new FrameDecoder();
      decoder.push(frame.subarray(0, at));
      expect(decoder.end()?.code).toBe('FRAME_TRUNCATED');
    }
    const decoder = new FrameDecoder();
    decoder.push(frame);
    expect(decoder.end()).toBeUndefined();
  });

  it('never throws on garbage and never holds more than one frame (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }), (chunks) => {
        const decoder = new FrameDecoder({ maxFrameBytes: 100 });
        for (const chunk of chunks) {
          const { frames, error } = decoder.push(chunk);
          for (const f of frames) expect(f.length).toBeLessThanOrEqual(100);
          expect(decoder.bufferedBytes).toBeLessThanOrEqual(100 + 4);
          if (error !== undefined) expect(error.code).toBe('FRAME_TOO_LARGE');
        }
      }),
    );
  });

  it('refuses a limit that is not an integer in [0, 2^32 - 1], and a chunk that is not bytes', () => {
    for (const maxFrameBytes of [-1, 1.5, 2 ** 32, Number.NaN]) {
      expect(() => new FrameDecoder({ maxFrameBytes })).toThrow(TypeError);
    }
    expect(() => new FrameDecoder().push('text' as unknown as Buffer)).toThrow(TypeError);
  });

  it('stays linear when a large frame arrives a byte at a time', () => {
    const body = Buffer.alloc(200_000, 3);
    const stream = encodeFrame(body);
    const decoder = new FrameDecoder();
    const frames: Buffer[] = [];
    for (let i = 0; i < stream.length; i++)
      frames.push(...decoder.push(stream.subarray(i, i + 1)).frames);
    expect(frames).toHaveLength(1);
    expect(frames[0]?.equals(body)).toBe(true);
  });
});

describe('encodeFrame and frameHeader', () => {
  it('prefix the body with its u32 big-endian length', () => {
    expect(encodeFrame(Buffer.from('abc')).toString('hex')).toBe('00000003616263');
    expect(encodeFrame(new Uint8Array(0)).toString('hex')).toBe('00000000');
    expect(frameHeader(0x01020304).toString('hex')).toBe('01020304');
  });

  it('refuse a length a u32 cannot hold', () => {
    expect(() => frameHeader(2 ** 32)).toThrow(RangeError);
    expect(() => frameHeader(-1)).toThrow(RangeError);
  });
});
