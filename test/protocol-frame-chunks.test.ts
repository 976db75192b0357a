/**
 * The chunked frame writer (`encodeRequestFrameChunks`,
 * `encodeResponseFrameChunks`): its buffers, concatenated, must be byte for
 * byte the frame msgpackr writes (`encodeRequestFrame`,
 * `encodeResponseFrame`), for any request or response, with large binary
 * fields passed through as themselves (not copied).
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  ProtocolError,
  type Request,
  type Response,
  encodeRequestFrame,
  encodeRequestFrameChunks,
  encodeResponseFrame,
  encodeResponseFrameChunks,
} from '../src/protocol/index.js';
import { EXAMPLES } from '../src/protocol/examples.js';
import { SEPARATE_BIN_BYTES, packFrame, packFrameChunks } from '../src/protocol/msgpack.js';

const SIZES = [0, 1, 15, 16, 31, 32, 63, 64, 127, 128, 255, 256, 1023, 1024, 65535, 65536, 70000];

const size = fc.oneof(fc.constantFrom(...SIZES), fc.nat(300));
const bytes = size.map((n) => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + n) & 0xff;
  return b;
});
const number = fc.oneof(
  fc.integer(),
  fc.integer({ min: -300, max: 300 }),
  fc.constantFrom(
    0,
    -0,
    127,
    128,
    255,
    256,
    65535,
    65536,
    2 ** 31 - 1,
    2 ** 31,
    2 ** 32 - 1,
    2 ** 32,
    -32,
    -33,
    -128,
    -129,
    -32768,
    -32769,
    -(2 ** 31),
    -(2 ** 31) - 1,
    Number.MAX_SAFE_INTEGER,
    -Number.MAX_SAFE_INTEGER,
    NaN,
    Infinity,
    0.5,
  ),
  fc.double(),
);
const text = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'grapheme', maxLength: 80 }),
  size.map((n) => 'x'.repeat(n)),
  size.map((n) => 'é'.repeat(n)),
  fc.constantFrom('\ud800', 'a\udc00b', '😀'.repeat(20), '\ud83d'.repeat(40)),
);
const leaf = fc.oneof(
  text,
  number,
  fc.boolean(),
  fc.constant(null),
  bytes,
  bytes.map((b) => new Uint8Array(b)),
);
const { tree } = fc.letrec((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('tree'), { maxLength: 18 }),
    fc.dictionary(fc.string({ maxLength: 10 }), fc.oneof(tie('tree'), fc.constant(undefined)), {
      maxKeys: 18,
    }),
  ),
}));

function joined(chunks: Buffer[]): string {
  return Buffer.concat(chunks).toString('hex');
}

describe('the chunked frame writer', () => {
  it('writes exactly the bytes of packFrame for any value', () => {
    fc.assert(
      fc.property(tree, (value) => {
        expect(joined(packFrameChunks(value))).toBe(packFrame(value).toString('hex'));
      }),
      { numRuns: 500 },
    );
  });

  it('writes exactly the bytes of the one-buffer encoders for random requests and responses', () => {
    const apis = Object.keys(EXAMPLES) as (keyof typeof EXAMPLES)[];
    fc.assert(
      fc.property(
        fc.constantFrom(...apis),
        fc.integer({ min: 0, max: 0x7fffffff }),
        fc.option(fc.string(), { nil: undefined }),
        tree,
        fc.boolean(),
        fc.string(),
        (api, correlationId, clientId, extra, asError, message) => {
          const example = EXAMPLES[api];
          const body = { ...(example.request as object), extra };
          const request = { api, version: 0, correlationId, clientId, body } as unknown as Request;
          expect(joined(encodeRequestFrameChunks(request))).toBe(
            encodeRequestFrame(request).toString('hex'),
          );
          const response: Response = asError
            ? { correlationId, error: new ProtocolError('NOT_LEADER_OR_FOLLOWER', message) }
            : ({ correlationId, body: { ...(example.response as object), extra } } as Response);
          expect(joined(encodeResponseFrameChunks(response))).toBe(
            encodeResponseFrame(response).toString('hex'),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('passes large record batches through as themselves, not copies', () => {
    const a = Buffer.alloc(16_000, 1);
    const b = Buffer.alloc(SEPARATE_BIN_BYTES, 2);
    const small = Buffer.alloc(SEPARATE_BIN_BYTES - 1, 3);
    const request: Request = {
      api: 'Produce',
      version: 0,
      correlationId: 7,
      clientId: 'c',
      body: {
        acks: 1,
        timeoutMs: 1000,
        topics: [
          {
            name: 't',
            partitions: [
              { partitionIndex: 0, records: a },
              { partitionIndex: 1, records: b },
              { partitionIndex: 2, records: small },
            ],
          },
        ],
      },
    };
    const chunks = encodeRequestFrameChunks(request);
    expect(chunks.filter((c) => c === a || c === b)).toHaveLength(2);
    expect(chunks.some((c) => c === small)).toBe(false);
    expect(joined(chunks)).toBe(encodeRequestFrame(request).toString('hex'));
    expect(chunks[0]!.readUInt32BE(0)).toBe(Buffer.concat(chunks).length - 4);
  });

  it('can be written twice (a reconnect resends the same chunks)', () => {
    const value = { a: Buffer.alloc(5000, 9), b: 'x'.repeat(300), c: [1, 2, 3] };
    const chunks = packFrameChunks(value);
    const again = packFrameChunks({ other: 'y'.repeat(1000) });
    expect(again.length).toBeGreaterThan(0);
    expect(joined(chunks)).toBe(packFrame(value).toString('hex'));
  });
});
