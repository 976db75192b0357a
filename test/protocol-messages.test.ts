import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import {
  ProtocolError,
  type DecodedRequest,
  type Request,
  decodeRequest,
  decodeResponse,
  encodeFrame,
  encodeRequest,
  encodeRequestFrame,
  encodeResponse,
} from '../src/protocol/index.js';

// A plain msgpack writer, standing in for a client written in another language.
const foreign = new Packr({ useRecords: false, useBigIntExtension: false });
const raw = (value: unknown) => foreign.pack(value);

const records = Buffer.from('cafebabe', 'hex');
const produce: Request = {
  api: 'Produce',
  version: 0,
  correlationId: 1,
  clientId: 'golden',
  body: {
    acks: -1,
    timeoutMs: 30_000,
    topics: [{ name: 't', partitions: [{ partitionIndex: 0, records }] }],
  },
};

// The frame of `produce`, byte for byte: the wire format must not change by accident.
// 00000089 length 137 | 85 map of 5 | a3 "api" a7 "Produce" | a7 "version" 00 |
// ad "correlationId" 01 | a8 "clientId" a6 "golden" | a4 "body" 83 { "acks" ff (-1),
// "timeoutMs" cd 7530, "topics" 91 [ 82 { "name" a1 "t", "partitions" 91 [ 82 {
// "partitionIndex" 00, "records" c4 04 cafebabe } ] } ] }
const GOLDEN_PRODUCE_FRAME =
  '0000008985a3617069a750726f64756365a776657273696f6e00ad636f7272656c6174696f6e496401' +
  'a8636c69656e744964a6676f6c64656ea4626f647983a461636b73ffa974696d656f75744d73cd7530' +
  'a6746f706963739182a46e616d65a174aa706172746974696f6e739182ae706172746974696f6e496e' +
  '64657800a77265636f726473c404cafebabe';

function refusal(result: DecodedRequest) {
  if (result.ok) throw new Error('expected a refusal');
  return result;
}

describe('the request envelope', () => {
  it('encodes a request to the golden bytes, and decodes them back', () => {
    expect(encodeRequestFrame(produce).toString('hex')).toBe(GOLDEN_PRODUCE_FRAME);
    expect(encodeFrame(encodeRequest(produce)).toString('hex')).toBe(GOLDEN_PRODUCE_FRAME);
    const body = Buffer.from(GOLDEN_PRODUCE_FRAME, 'hex').subarray(4);
    expect(decodeRequest(body)).toEqual({ ok: true, request: produce });
  });

  it('carries a batch as bytes: a Buffer, byte-identical, a view of the frame (not a copy)', () => {
    const frame = Buffer.from(encodeRequest(produce));
    const result = decodeRequest(frame);
    if (!result.ok || result.request.api !== 'Produce') throw new Error('not decoded');
    const decoded = result.request.body.topics[0]!.partitions[0]!.records;
    expect(Buffer.isBuffer(decoded)).toBe(true);
    expect(decoded.equals(records)).toBe(true);
    expect(decoded.buffer).toBe(frame.buffer);
    // From a plain Uint8Array too.
    const again = decodeRequest(new Uint8Array(frame));
    if (!again.ok || again.request.api !== 'Produce') throw new Error('not decoded');
    expect(Buffer.isBuffer(again.request.body.topics[0]!.partitions[0]!.records)).toBe(true);
  });

  it('leaves clientId out when absent, and takes nil for absent', () => {
    const anonymous = { ...produce };
    delete anonymous.clientId;
    expect(decodeRequest(encodeRequest(anonymous as Request))).toEqual({
      ok: true,
      request: anonymous,
    });
    expect(decodeRequest(raw({ ...anonymous, clientId: null }))).toEqual({
      ok: true,
      request: anonymous,
    });
  });

  it('reads 64-bit integers written as msgpack int64/uint64 by other writers', () => {
    const fetch = (fetchOffset: bigint) => ({
      api: 'Fetch',
      version: 0,
      correlationId: 2,
      body: {
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: 1024,
        topics: [
          { name: 't', partitions: [{ partitionIndex: 0, fetchOffset, partitionMaxBytes: 1024 }] },
        ],
      },
    });
    const ok = decodeRequest(raw(fetch(2n ** 53n - 1n)));
    expect(
      ok.ok && ok.request.api === 'Fetch' && ok.request.body.topics[0]!.partitions[0]!.fetchOffset,
    ).toBe(2 ** 53 - 1);
    const tooBig = refusal(decodeRequest(raw(fetch(2n ** 60n))));
    expect(tooBig.error.message).toContain(
      'body.topics[0].partitions[0].fetchOffset must be an int64',
    );
  });

  it('cannot address a frame that is not one msgpack map with an int32 correlationId: fatal', () => {
    const fatal = [
      Buffer.alloc(0),
      Buffer.from([0xc1]),
      Buffer.concat([encodeRequest(produce), Buffer.from([0])]), // trailing bytes
      raw([1, 2, 3]),
      raw('Produce'),
      raw({ api: 'Produce', version: 0, body: {} }),
      raw({ ...produce, correlationId: '1' }),
      raw({ ...produce, correlationId: 2 ** 31 }),
      raw({ ...produce, correlationId: 1.5 }),
    ];
    for (const bytes of fatal) {
      const result = refusal(decodeRequest(bytes));
      expect(result.fatal).toBe(true);
      expect(result.error).toMatchObject({ code: 42, name: 'INVALID_REQUEST', retriable: false });
    }
  });

  it('answers a bad envelope field, an unknown api and an unknown version, and stays open', () => {
    const cases: [unknown, number, string][] = [
      [{ ...produce, api: 5 }, 42, 'api must be a string, got the number 5'],
      [{ ...produce, version: -1 }, 42, 'version must be an int16 ≥ 0'],
      [{ ...produce, clientId: 7 }, 42, 'clientId must be a string'],
      [{ ...produce, body: [] }, 42, 'body must be a map, got an array'],
      [{ ...produce, body: undefined }, 42, 'body must be a map, got nothing'],
      [{ ...produce, api: 'InitProducerId' }, 35, "unknown api 'InitProducerId'"],
      [{ ...produce, api: 'toString' }, 35, "unknown api 'toString'"],
      [{ ...produce, api: '__proto__' }, 35, "unknown api '__proto__'"],
      [{ ...produce, version: 1 }, 35, 'Produce version 1 is not supported (0 to 0)'],
    ];
    for (const [request, code, message] of cases) {
      const result = refusal(decodeRequest(raw(request)));
      expect(result).toMatchObject({ fatal: false, correlationId: 1, error: { code } });
      expect(result.error.message).toContain(message);
    }
  });

  it('refuses trailing bytes after a large value quickly (msgpackr would stringify it)', () => {
    const big = { ...produce, body: { ...produce.body, records: Buffer.alloc(20_000_000) } };
    const started = Date.now();
    const result = refusal(
      decodeRequest(Buffer.concat([encodeRequest(big as Request), Buffer.from([0])])),
    );
    expect(result.fatal).toBe(true);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('never throws and never hangs on arbitrary bytes (property)', () => {
    const valid = encodeRequest(produce);
    const mutated = fc
      .array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 4 })
      .map((edits) => {
        const copy = Buffer.from(valid);
        for (const [at, byte] of edits) copy[at] = byte;
        return copy;
      });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), mutated), (bytes) => {
        const result = decodeRequest(bytes);
        if (!result.ok) expect(result.error).toBeInstanceOf(ProtocolError);
      }),
      { numRuns: 2_000 },
    );
  });

  it('never throws on arbitrary msgpack values, in or out of an envelope (property)', () => {
    const value = fc.anything({
      withBigInt: true,
      withTypedArray: true,
      withDate: true,
      withMap: true,
      withSet: true,
    });
    const envelope = fc.record(
      {
        api: fc.oneof(fc.constantFrom('Produce', 'Fetch', 'Metadata', 'ApiVersions'), value),
        version: fc.oneof(fc.constant(0), value),
        correlationId: fc.oneof(fc.integer(), value),
        body: value,
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(value, envelope), (v) => {
        let bytes: Buffer;
        try {
          bytes = raw(v);
        } catch {
          return; // not encodable by msgpackr: nothing to send
        }
        const result = decodeRequest(bytes);
        if (!result.ok) expect(result.error).toBeInstanceOf(ProtocolError);
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('the response envelope', () => {
  it('carries an error with its code, name, message and retriable flag', () => {
    const error = new ProtocolError('NOT_LEADER_OR_FOLLOWER', 'partition t-0 moved');
    const decoded = decodeResponse(encodeResponse({ correlationId: 9, error }), 'Produce');
    expect(decoded).toEqual({ ok: true, response: { correlationId: 9, error } });
    if (decoded.ok && decoded.response.error !== undefined) {
      expect(decoded.response.error).toBeInstanceOf(ProtocolError);
      expect(decoded.response.error.toWire()).toEqual({
        code: 6,
        name: 'NOT_LEADER_OR_FOLLOWER',
        message: 'partition t-0 moved',
        retriable: true,
      });
    }
  });

  it('is malformed without exactly one of body and error, or with a bad error or correlationId', () => {
    const cases: [unknown, string][] = [
      [{ correlationId: 1 }, 'exactly one of body and error'],
      [{ correlationId: 1, body: { apis: [], errorCode: 0 }, error: { code: 0 } }, 'exactly one'],
      [
        { correlationId: 1, error: { code: 6, name: 'X', message: 'm' } },
        'error.retriable must be a boolean',
      ],
      [{ body: {} }, 'correlationId must be an int32'],
      [[], 'a response must be a msgpack map'],
    ];
    for (const [response, message] of cases) {
      const decoded = decodeResponse(raw(response), 'ApiVersions');
      expect(decoded.ok).toBe(false);
      if (!decoded.ok) {
        expect(decoded.error).toMatchObject({ code: -1, name: 'UNKNOWN_SERVER_ERROR' });
        expect(decoded.error.message).toContain(message);
      }
    }
    const cut = decodeResponse(
      encodeResponse({ correlationId: 1, body: {} as never }).subarray(0, 3),
      'ApiVersions',
    );
    expect(cut).toMatchObject({ ok: false, correlationId: undefined });
  });
});
