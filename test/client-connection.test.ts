/**
 * The client's connection against a fake broker: pipelining and response
 * order, correlation checks, timeouts, reconnect backoff, a broker that is
 * gone, error responses, and acks=0 writes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Connection } from '../src/client/connection.js';
import { ProtocolError } from '../src/protocol/index.js';
import { type FakeBroker, deadPort, garbageFrame, startFakeBroker } from './client-fake-broker.js';

/** Any small request serves; the ApiVersions handshake before it is the fake's (see client-api-versions tests). */
const PING_BODY = { errorCode: 0, groups: [] };

const open: (FakeBroker | Connection)[] = [];
afterEach(async () => {
  for (const thing of open.splice(0)) await thing.close();
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

async function rejection(promise: Promise<unknown>): Promise<ProtocolError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProtocolError);
  return error as ProtocolError;
}

describe('Connection', () => {
  it('pipelines requests and matches responses in order', async () => {
    let release!: () => void;
    const allArrived = new Promise<void>((resolve) => (release = resolve));
    const broker = await fake(async (request) => {
      if (broker.requests.length === 3) release();
      await allArrived; // nothing is answered until all three are in flight
      return { body: { ...PING_BODY, errorCode: request.correlationId } };
    });
    const c = connection(broker);
    const answers = await Promise.all([
      c.request('ListGroups', {}),
      c.request('ListGroups', {}),
      c.request('ListGroups', {}),
    ]);
    const ids = broker.requests.map((r) => r.correlationId);
    expect(answers.map((a) => a.errorCode)).toEqual(ids);
    expect(broker.handshakes.map((r) => r.correlationId)).toEqual([0]); // ApiVersions went first
    expect(ids).toEqual([1, 2, 3]);
    expect(broker.connectedAt).toHaveLength(1);
  });

  it('closes and fails everything in flight on a correlation id mismatch', async () => {
    const broker = await fake((request, { connection: n }) => {
      if (n > 0) return { body: PING_BODY };
      if (request.correlationId === 1) return null; // wait for the second
      return { body: PING_BODY }; // answers request 1 first: out of step
    });
    const c = connection(broker);
    const first = rejection(c.request('ListGroups', {}));
    const second = rejection(c.request('ListGroups', {}));
    for (const error of [await first, await second]) {
      expect(error.name).toBe('NETWORK_EXCEPTION');
      expect(error.retriable).toBe(true);
      expect(error.message).toMatch(/expected the response to correlation id 1/);
    }
    // The next request reconnects and works.
    await expect(c.request('ListGroups', {})).resolves.toEqual(PING_BODY);
    expect(broker.connectedAt).toHaveLength(2);
  });

  it('closes on a response that does not decode', async () => {
    const broker = await fake(() => ({ raw: garbageFrame() }));
    const c = connection(broker);
    const error = await rejection(c.request('ListGroups', {}));
    expect(error.name).toBe('NETWORK_EXCEPTION');
    expect(error.message).toMatch(/out of step.*msgpack/);
  });

  it('closes on a body that breaks the API grammar', async () => {
    const broker = await fake(() => ({ body: { errorCode: 'zero', groups: [] } }));
    const error = await rejection(connection(broker).request('ListGroups', {}));
    expect(error.name).toBe('NETWORK_EXCEPTION');
    expect(error.message).toMatch(/ListGroups response/);
  });

  it('passes an error response on as the broker sent it and stays open', async () => {
    const broker = await fake((request) =>
      request.correlationId === 1
        ? { error: new ProtocolError('INVALID_REQUEST', 'body.x is missing') }
        : { body: PING_BODY },
    );
    const c = connection(broker);
    const error = await rejection(c.request('ListGroups', {}));
    expect(error.name).toBe('INVALID_REQUEST');
    expect(error.code).toBe(42);
    expect(error.message).toBe('body.x is missing');
    await expect(c.request('ListGroups', {})).resolves.toEqual(PING_BODY);
    expect(broker.connectedAt).toHaveLength(1);
  });

  it('times a request out, and drops the connection it was on', async () => {
    const broker = await fake((_request, { connection: n }) =>
      n === 0 ? null : { body: PING_BODY },
    );
    const c = connection(broker, { requestTimeoutMs: 100, reconnectBackoffMs: 1 });
    const started = Date.now();
    const first = rejection(c.request('ListGroups', {}));
    const second = rejection(c.request('ListGroups', {}, { timeoutMs: 5000 }));
    const timedOut = await first;
    expect(timedOut.name).toBe('REQUEST_TIMED_OUT');
    expect(timedOut.retriable).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect((await second).name).toBe('NETWORK_EXCEPTION');
    await expect(c.request('ListGroups', {})).resolves.toEqual(PING_BODY);
  });

  it('says which broker is gone when nothing listens', async () => {
    const port = await deadPort();
    const c = connection({ host: '127.0.0.1', port });
    const error = await rejection(c.request('ListGroups', {}));
    expect(error.name).toBe('NETWORK_EXCEPTION');
    expect(error.retriable).toBe(true);
    expect(error.message).toContain(`cannot connect to broker 127.0.0.1:${port}`);
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('waits out a growing reconnect backoff', async () => {
    const broker = await fake(() => ({ destroy: true }));
    const c = connection(broker, { reconnectBackoffMs: 100, reconnectBackoffMaxMs: 150 });
    for (let i = 0; i < 3; i++) await rejection(c.request('ListGroups', {}));
    const [a, b, d] = broker.connectedAt as [number, number, number];
    expect(b - a).toBeGreaterThanOrEqual(75); // 100 ms ± 20%
    expect(d - b).toBeGreaterThanOrEqual(115); // 200 ms, capped at 150, ± 20%
    expect(d - b).toBeLessThan(400);
  });

  it('resolves an acks=0 style request once written and drops its response', async () => {
    const broker = await fake(() => ({ body: PING_BODY }));
    const c = connection(broker);
    await expect(c.request('ListGroups', {}, { noResponse: true })).resolves.toBeUndefined();
    await expect(c.request('ListGroups', {})).resolves.toEqual(PING_BODY);
  });

  it('refuses requests after close and fails those in flight', async () => {
    const broker = await fake(() => null);
    const c = connection(broker);
    const pending = c.request('ListGroups', {}).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await c.close();
    expect(await pending).toMatchObject({ code: 'CLIENT_CLOSED' });
    await expect(c.request('ListGroups', {})).rejects.toMatchObject({ code: 'CLIENT_CLOSED' });
  });
});
