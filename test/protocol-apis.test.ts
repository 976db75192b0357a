import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import { EXAMPLES } from '../src/protocol/examples.js';
import {
  APIS,
  FrameDecoder,
  type ApiName,
  type Request,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeRequestFrame,
  encodeResponse,
  encodeResponseFrame,
  supportedApis,
} from '../src/protocol/index.js';

const names = Object.keys(APIS) as ApiName[];
const requestOf = (api: ApiName, body: unknown): Request =>
  ({ api, version: 0, correlationId: 7, clientId: 'test', body }) as Request;

/** Every field of a body, nested ones too, with its path as the checks name it (`body.topics[0].name`). */
function fields(value: unknown, path = 'body'): { path: string; value: unknown }[] {
  const here = path === 'body' ? [] : [{ path, value }];
  if (Array.isArray(value)) {
    return [...here, ...value.flatMap((v, i) => fields(v, `${path}[${i}]`))];
  }
  if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) {
    return [...here, ...Object.entries(value).flatMap(([k, v]) => fields(v, `${path}.${k}`))];
  }
  return here;
}

/** A copy of `body` with the leaf at `path` replaced (or removed, for `undefined`). */
function withLeaf(body: unknown, path: string, replacement: unknown): unknown {
  const copy = structuredClone(body) as Record<string, unknown>;
  const steps = path.replace(/^body\.?/, '').match(/[^.[\]]+/g) ?? [];
  let node: Record<string, unknown> = copy;
  for (const step of steps.slice(0, -1)) node = node[step] as Record<string, unknown>;
  const last = steps[steps.length - 1]!;
  if (replacement === undefined) delete node[last];
  else node[last] = replacement;
  return copy;
}

const wrongType = (v: unknown): unknown =>
  typeof v === 'number'
    ? 'five'
    : typeof v === 'boolean'
      ? 1
      : typeof v === 'string' || v === null
        ? 5
        : 'x';

describe('every API', () => {
  it('has an example, and ApiVersions lists them all at version 0', () => {
    expect(Object.keys(EXAMPLES).sort()).toEqual([...names].sort());
    expect(supportedApis()).toEqual(names.map((api) => ({ api, minVersion: 0, maxVersion: 0 })));
    const { request, response } = EXAMPLES.ApiVersions;
    expect(APIS.ApiVersions.request(request, 'body')).toEqual({});
    expect(APIS.ApiVersions.response(response, 'body')).toEqual(response);
  });

  for (const api of names) {
    const { request: body, response: responseBody } = EXAMPLES[api];

    it(`${api}: the example request and response round-trip, through a frame too`, () => {
      const request = requestOf(api, body);
      expect(decodeRequest(encodeRequest(request))).toEqual({ ok: true, request });
      const { frames } = new FrameDecoder().push(encodeRequestFrame(request));
      expect(frames).toHaveLength(1);
      expect(decodeRequest(frames[0]!)).toEqual({ ok: true, request });

      const response = { correlationId: 7, body: responseBody } as const;
      expect(decodeResponse(encodeResponse(response), api)).toEqual({ ok: true, response });
      const framed = new FrameDecoder().push(encodeResponseFrame(response)).frames[0]!;
      expect(decodeResponse(framed, api)).toEqual({ ok: true, response });
    });

    it(`${api}: a field of the wrong type is INVALID_REQUEST naming the field`, () => {
      for (const leaf of fields(body)) {
        const result = decodeRequest(
          encodeRequest(requestOf(api, withLeaf(body, leaf.path, wrongType(leaf.value)))),
        );
        expect(result.ok).toBe(false);
        if (result.ok || result.fatal) throw new Error(`${leaf.path} was not refused`);
        expect(result.correlationId).toBe(7);
        // acks and fetch sizes carry Kafka's more precise codes; every other field is INVALID_REQUEST.
        expect([42, 21, 4]).toContain(result.error.code);
        expect(result.error.message).toContain(`${leaf.path} must be`);
      }
    });

    it(`${api}: a response field of the wrong type is a malformed response naming the field`, () => {
      for (const leaf of fields(responseBody)) {
        const bad = {
          correlationId: 7,
          body: withLeaf(responseBody, leaf.path, wrongType(leaf.value)),
        };
        const result = decodeResponse(encodeResponse(bad as never), api);
        expect(result).toMatchObject({ ok: false, correlationId: 7 });
        if (!result.ok) expect(result.error.message).toContain(`${leaf.path} must be`);
      }
    });
  }

  it('names a missing required field; an optional one may be absent or nil', () => {
    const produce = EXAMPLES.Produce.request;
    const missing = decodeRequest(
      encodeRequest(
        requestOf('Produce', withLeaf(produce, 'body.topics[0].partitions[0].records', undefined)),
      ),
    );
    expect(missing).toMatchObject({ ok: false, fatal: false, error: { code: 42 } });
    if (!missing.ok)
      expect(missing.error.message).toContain('body.topics[0].partitions[0].records must be bytes');

    const fetch = EXAMPLES.Fetch.request;
    for (const absent of [undefined, null]) {
      const result = decodeRequest(
        encodeRequest(requestOf('Fetch', withLeaf(fetch, 'body.replicaId', absent))),
      );
      expect(result.ok).toBe(true);
      if (result.ok && result.request.api === 'Fetch') {
        expect('replicaId' in result.request.body).toBe(false);
      }
    }
  });

  it('checks ranges, with Kafka codes where Kafka has one', () => {
    const refused = (api: ApiName, body: unknown) => {
      const result = decodeRequest(encodeRequest(requestOf(api, body)));
      return result.ok ? undefined : result.error;
    };
    const produce = EXAMPLES.Produce.request;
    expect(refused('Produce', { ...produce, acks: 2 })).toMatchObject({
      code: 21,
      name: 'INVALID_REQUIRED_ACKS',
    });
    expect(refused('Produce', { ...produce, acks: 0 })).toBeUndefined();
    expect(refused('Produce', { ...produce, timeoutMs: -1 })?.code).toBe(42);
    expect(refused('Fetch', { ...EXAMPLES.Fetch.request, maxBytes: -1 })).toMatchObject({
      code: 4,
      name: 'INVALID_FETCH_SIZE',
    });
    const at = (timestamp: number) =>
      withLeaf(EXAMPLES.ListOffsets.request, 'body.topics[0].partitions[0].timestamp', timestamp);
    expect(refused('ListOffsets', at(-2))).toBeUndefined();
    expect(refused('ListOffsets', at(-3))?.message).toContain('timestamp must be an int64 ≥ -2');
    const deleteAt = (offset: number) =>
      withLeaf(EXAMPLES.DeleteRecords.request, 'body.topics[0].partitions[0].offset', offset);
    expect(refused('DeleteRecords', deleteAt(-1))).toBeUndefined();
    expect(refused('DeleteRecords', deleteAt(-2))?.code).toBe(42);
    const describeBroker = {
      resources: [{ resourceType: 8, resourceName: '0', configurationKeys: null }],
    };
    expect(refused('DescribeConfigs', describeBroker)?.message).toContain(
      'resourceType must be one of 2, 4',
    );
    const partition = withLeaf(produce, 'body.topics[0].partitions[0].partitionIndex', -1);
    expect(refused('Produce', partition)?.message).toContain('partitionIndex must be an int32 ≥ 0');
  });

  it('refuses 64-bit values beyond 2^53 and integers that are not integers', () => {
    const fetch = EXAMPLES.Fetch.request;
    const offsetPath = 'body.topics[0].partitions[0].fetchOffset';
    for (const bad of [2 ** 53, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2n ** 60n]) {
      const result = decodeRequest(
        encodeRequest(requestOf('Fetch', withLeaf(fetch, offsetPath, bad))),
      );
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error.message).toContain(`${offsetPath} must be an int64`);
    }
    const exact = decodeRequest(
      encodeRequest(requestOf('Fetch', withLeaf(fetch, offsetPath, 2 ** 53 - 1))),
    );
    expect(
      exact.ok &&
        exact.request.api === 'Fetch' &&
        exact.request.body.topics[0]?.partitions[0]?.fetchOffset,
    ).toBe(2 ** 53 - 1);
  });
});

describe("Fetch's follower fields", () => {
  const follower = withLeaf(
    EXAMPLES.Fetch.request,
    'body.topics[0].partitions[0].lastFetchedEpoch',
    3,
  );
  // Spread, not structuredClone: the records must stay a Buffer to compare with what decodes.
  const [topic] = EXAMPLES.Fetch.response.topics;
  const withDiverging = (divergingEpoch: unknown) => ({
    topics: [{ ...topic!, partitions: [{ ...topic!.partitions[0]!, divergingEpoch }] }],
  });
  const diverging = withDiverging({ epoch: 3, endOffset: 2 ** 40 - 6 });

  it('a lastFetchedEpoch and a divergingEpoch round-trip; a nil divergingEpoch is absent', () => {
    const request = requestOf('Fetch', follower);
    expect(decodeRequest(encodeRequest(request))).toEqual({ ok: true, request });
    const response = { correlationId: 7, body: diverging } as never;
    expect(decodeResponse(encodeResponse(response), 'Fetch')).toEqual({ ok: true, response });
    const nil = { correlationId: 7, body: withDiverging(null) } as never;
    const decoded = decodeResponse(encodeResponse(nil), 'Fetch');
    expect(decoded.ok && decoded.response.body).toEqual(EXAMPLES.Fetch.response);
  });

  it('a bad divergingEpoch or lastFetchedEpoch is refused, naming the field', () => {
    const at = 'body.topics[0].partitions[0].divergingEpoch';
    for (const [path, value] of [
      [at, 5],
      [`${at}.epoch`, 'x'],
      [`${at}.endOffset`, 2 ** 53],
      [`${at}.epoch`, undefined],
    ] as const) {
      const bad = { correlationId: 7, body: withLeaf(diverging, path, value) };
      const result = decodeResponse(encodeResponse(bad as never), 'Fetch');
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error.message).toContain(`${path} must be`);
    }
    const lfe = 'body.topics[0].partitions[0].lastFetchedEpoch';
    const result = decodeRequest(
      encodeRequest(requestOf('Fetch', withLeaf(follower, lfe, 2 ** 31))),
    );
    expect(result).toMatchObject({ ok: false, error: { code: 42 } });
  });
});

describe('docs/protocol.md', () => {
  const doc = readFileSync(new URL('../docs/protocol.md', import.meta.url), 'utf8');
  const file = (api: string) => api.replace(/(?<=[a-z])(?=[A-Z])/g, '-').toLowerCase();

  it("shows each API's grammar exactly as its module states it", () => {
    for (const api of names) {
      const source = readFileSync(
        new URL(`../src/protocol/apis/${file(api)}.ts`, import.meta.url),
        'utf8',
      );
      const comment = source.slice(source.indexOf('/**') + 3, source.indexOf('*/'));
      const lines = comment.split('\n').map((line) => line.replace(/^ \* ?/, ''));
      const grammars = lines
        .join('\n')
        .split('\n\n')
        .map((p) => p.trim())
        .filter((p) => /^\w+ (Request|Response) \(Version: \d+\)/.test(p));
      expect(grammars.length).toBeGreaterThanOrEqual(2);
      for (const grammar of grammars) expect(doc).toContain(grammar);
    }
  });
});
