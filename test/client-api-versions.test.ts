/**
 * The client's ApiVersions handshake: first on every new connection, the
 * requests made meanwhile waiting behind it; requests sent at the version
 * both sides speak; an API the broker does not speak failing alone; a
 * broker that refuses our ApiVersions asked again at version 0; and the
 * same against a real broker.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { negotiatedVersion } from '../src/client/api-versions.js';
import { Connection } from '../src/client/connection.js';
import { ClientError } from '../src/client/errors.js';
import { Producer } from '../src/client/producer.js';
import { startBroker } from '../src/broker/index.js';
import { ProtocolError, supportedApis } from '../src/protocol/index.js';
import { type FakeBroker, startFakeBroker } from './client-fake-broker.js';

const PING_BODY = { errorCode: 0, groups: [] };
const ALL_APIS = supportedApis();

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
});

async function fake(...args: Parameters<typeof startFakeBroker>): Promise<FakeBroker> {
  const broker = await startFakeBroker(...args);
  open.push(broker);
  return broker;
}

function connection(broker: { host: string; port: number }, options = {}): Connection {
  const c = new Connection({ host: broker.host, port: broker.port }, options);
  open.push(c);
  return c;
}

describe('the ApiVersions handshake', () => {
  it('goes first on a new connection; requests made meanwhile wait behind it', async () => {
    let answer!: () => void;
    const held = new Promise<void>((resolve) => (answer = resolve));
    const broker = await fake(
      async (request) => {
        if (request.api !== 'ApiVersions') return { body: PING_BODY };
        await held;
        return { body: { errorCode: 0, apis: ALL_APIS } };
      },
      { handshake: 'handler' },
    );
    const c = connection(broker);
    const pings = [c.request('ListGroups', {}), c.request('ListGroups', {})];
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Only the handshake is on the wire until it is answered.
    expect(broker.requests.map((r) => r.api)).toEqual(['ApiVersions']);
    expect(c.apiVersions).toBeUndefined();
    answer();
    await expect(Promise.all(pings)).resolves.toEqual([PING_BODY, PING_BODY]);
    expect(broker.requests.map((r) => [r.api, r.correlationId])).toEqual([
      ['ApiVersions', 0],
      ['ListGroups', 1],
      ['ListGroups', 2],
    ]);
    expect(c.apiVersions?.get('Produce')).toEqual({ minVersion: 0, maxVersion: 0 });
    // Once per connection: later requests go straight out.
    await c.request('ListGroups', {});
    expect(broker.requests.filter((r) => r.api === 'ApiVersions')).toHaveLength(1);
  });

  it('asks again on every new connection', async () => {
    const broker = await fake((_request, { connection: n }) =>
      n === 0 ? { destroy: true } : { body: PING_BODY },
    );
    const c = connection(broker, { reconnectBackoffMs: 1 });
    await expect(c.request('ListGroups', {})).rejects.toMatchObject({ name: 'NETWORK_EXCEPTION' });
    await expect(c.request('ListGroups', {})).resolves.toEqual(PING_BODY);
    expect(broker.connectedAt).toHaveLength(2);
    expect(broker.handshakes).toHaveLength(2);
  });

  it('sends each request at the highest version both sides speak', async () => {
    const apis = ALL_APIS.map((a) => (a.api === 'ListGroups' ? { ...a, maxVersion: 7 } : a));
    const broker = await fake(() => ({ body: PING_BODY }), { apis });
    const c = connection(broker);
    await c.request('ListGroups', {});
    expect(broker.requests[0]!.version).toBe(0); // this client speaks ListGroups 0 only
    const theirs = new Map([
      ['Metadata', { minVersion: 0, maxVersion: 9 }],
      ['Fetch', { minVersion: 3, maxVersion: 9 }],
    ]);
    expect(negotiatedVersion('Metadata', theirs)).toBe(0);
    expect(negotiatedVersion('Fetch', theirs)).toBe(-1); // no version in common
    expect(negotiatedVersion('Produce', theirs)).toBe(-1); // not spoken at all
  });

  it('fails a request for an API the broker does not speak, naming both, and stays open', async () => {
    const apis = ALL_APIS.filter((a) => a.api !== 'DeleteGroups').map((a) =>
      a.api === 'Fetch' ? { ...a, minVersion: 4, maxVersion: 12 } : a,
    );
    const broker = await fake(() => ({ body: PING_BODY }), { apis });
    const c = connection(broker);
    const queued = [
      c.request('DeleteGroups', { groupsNames: ['g'] }).catch((e: unknown) => e),
      c.request('ListGroups', {}),
    ];
    const [refused, ping] = await Promise.all(queued);
    expect(refused).toBeInstanceOf(ClientError);
    expect(refused).toMatchObject({ code: 'CLIENT_UNSUPPORTED_VERSION', retriable: false });
    expect((refused as Error).message).toBe(
      `broker ${broker.address} cannot take a DeleteGroups request: this client speaks ` +
        'DeleteGroups versions 0–0, the broker does not speak it at all',
    );
    expect(ping).toEqual(PING_BODY);
    // Refused on a ready connection too, with the broker's range.
    const fetch = c.request('Fetch', {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1,
      isolationLevel: 0,
      topics: [],
    });
    await expect(fetch).rejects.toThrow(/Fetch versions 0–0, the broker speaks versions 4–12/);
    await expect(c.request('ListGroups', {})).resolves.toEqual(PING_BODY);
    expect(broker.connectedAt).toHaveLength(1);
    expect(broker.requests.map((r) => r.api)).toEqual(['ListGroups', 'ListGroups']);
  });

  it('asks again at version 0 when the broker refuses its ApiVersions (a newer broker)', async () => {
    for (const refusal of ['error response', 'errorCode'] as const) {
      let handshakes = 0;
      const broker = await fake(
        (request) => {
          if (request.api !== 'ApiVersions') return { body: PING_BODY };
          handshakes += 1;
          if (handshakes > 1) return { body: { errorCode: 0, apis: ALL_APIS } };
          return refusal === 'errorCode'
            ? {
                body: {
                  errorCode: 35,
                  apis: [{ api: 'ApiVersions', minVersion: 0, maxVersion: 3 }],
                },
              }
            : {
                error: new ProtocolError(
                  'UNSUPPORTED_VERSION',
                  'ApiVersions version 0 is not supported',
                ),
              };
        },
        { handshake: 'handler' },
      );
      const c = connection(broker);
      await expect(c.request('ListGroups', {})).resolves.toEqual(PING_BODY);
      expect(broker.requests.map((r) => `${r.api} v${r.version}`)).toEqual([
        'ApiVersions v0',
        'ApiVersions v0',
        'ListGroups v0',
      ]);
      expect(broker.connectedAt).toHaveLength(1);
    }
  });

  it('gives up after a second refusal, failing what waited, and tries again on a new connection', async () => {
    const broker = await fake(
      (request, { connection: n }) => {
        if (request.api !== 'ApiVersions') return { body: PING_BODY };
        if (n > 0) return { body: { errorCode: 0, apis: ALL_APIS } };
        return { error: new ProtocolError('UNSUPPORTED_VERSION', 'no ApiVersions here') };
      },
      { handshake: 'handler' },
    );
    const c = connection(broker, { reconnectBackoffMs: 1 });
    const error = (await c.request('ListGroups', {}).catch((e: unknown) => e)) as ProtocolError;
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.name).toBe('UNSUPPORTED_VERSION');
    expect(error.message).toMatch(/the ApiVersions handshake \(version 0\) with broker .* failed/);
    await expect(c.request('ListGroups', {})).resolves.toEqual(PING_BODY);
    expect(broker.connectedAt).toHaveLength(2);
  });

  it('fails what waited when the handshake times out', async () => {
    const broker = await fake(
      (request) => (request.api === 'ApiVersions' ? null : { body: PING_BODY }),
      {
        handshake: 'handler',
      },
    );
    const c = connection(broker, { requestTimeoutMs: 100 });
    const error = (await c
      .request('ListGroups', {}, { timeoutMs: 5000 })
      .catch((e: unknown) => e)) as ProtocolError;
    expect(error.name).toBe('REQUEST_TIMED_OUT');
    expect(error.message).toMatch(/ApiVersions request .* got no response within 100 ms/);
  });

  it('works against a real broker', async () => {
    const broker = await startBroker({ logLevel: 'error' });
    open.push(broker);
    const c = connection(broker);
    const metadata = await c.request('Metadata', { topics: null });
    expect(metadata.brokers[0]!.port).toBe(broker.port);
    expect([...c.apiVersions!.keys()]).toEqual(ALL_APIS.map((a) => a.api));
    const producer = new Producer({ brokers: `${broker.host}:${broker.port}` });
    open.push(producer);
    const [sent] = await producer.send('t', [{ value: Buffer.from('hello') }]);
    expect(sent!.offset).toBe(0);
  });
});
