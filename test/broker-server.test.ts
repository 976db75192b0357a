/** The broker over real TCP, with a raw client: pipelining, bad input, idleness, shutdown, start-up time. */
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { Broker, BrokerServer, startBroker } from '../src/broker/index.js';
import { Connection } from '../src/client/connection.js';
import { ErrorCode, encodeFrame } from '../src/protocol/index.js';
import { RawClient, batch, fetchBody, produceBody, quiet, values } from './broker-support.js';
import { tempDir } from './support/temp.js';

const foreign = new Packr({ useRecords: false });
const rawFrame = (value: unknown) => encodeFrame(foreign.pack(value));
const closed = (c: RawClient) =>
  new Promise<void>((r) => (c.closed ? r() : c.socket.once('close', () => r())));

describe('over TCP', () => {
  it('speaks the protocol end to end', async () => {
    const running = await startBroker({ logger: quiet });
    const client = await RawClient.connect(running.port);
    const versions = await client.call('ApiVersions', {});
    expect(versions.apis.map((a) => a.api)).toContain('Fetch');
    const md = await client.call('Metadata', { topics: null });
    expect(md.brokers).toEqual([{ nodeId: 0, host: '127.0.0.1', port: running.port, rack: null }]);
    const p = await client.call('Produce', produceBody('t', 0, batch(['hello', 'world'])));
    expect(p.topics[0]!.partitions[0]!.baseOffset).toBe(0);
    const f = await client.call('Fetch', fetchBody('t', 0, 0));
    expect(values(f.topics[0]!.partitions[0]!.records)).toEqual(['hello', 'world']);
    client.close();
    await running.close();
  });

  it('answers pipelined requests in order, a long poll not holding up the rest', async () => {
    const running = await startBroker({ logger: quiet });
    const client = await RawClient.connect(running.port);
    await client.call('Produce', produceBody('t', 0, batch(['first'])));
    const started = performance.now();
    const order: string[] = [];
    const note = <T>(name: string, p: Promise<T>) => p.then((r) => (order.push(name), r));
    const poll = note(
      'fetch',
      client.call('Fetch', fetchBody('t', 0, 1, { maxWaitMs: 10_000, minBytes: 1 })),
    );
    const versions = note('versions', client.call('ApiVersions', {}));
    const produces = Array.from({ length: 50 }, (_, i) =>
      note(`produce${i}`, client.call('Produce', produceBody('t', 0, batch([`v${i}`])))),
    );
    const results = await Promise.all(produces);
    expect(results.map((r) => r.topics[0]!.partitions[0]!.baseOffset)).toEqual(
      results.map((_, i) => i + 1),
    );
    const fetched = await poll;
    await versions;
    expect(performance.now() - started).toBeLessThan(5000);
    expect(order).toEqual(['fetch', 'versions', ...produces.map((_, i) => `produce${i}`)]);
    expect(values(fetched.topics[0]!.partitions[0]!.records)[0]).toBe('v0');
    client.close();
    await running.close();
  });

  it('answers bad requests it can address and keeps the connection; closes on the rest', async () => {
    const running = await startBroker({
      logger: quiet,
      config: { 'socket.request.max.bytes': 1 << 16 },
    });
    const client = await RawClient.connect(running.port);
    const expectError = async (frame: Buffer, id: number, code: number) => {
      const r = (await client.sendFrame('ApiVersions', id, frame)) as { error?: { code: number } };
      expect(r.error?.code).toBe(code);
    };
    await expectError(
      rawFrame({ api: 'Nope', version: 0, correlationId: 101, body: {} }),
      101,
      ErrorCode.UNSUPPORTED_VERSION,
    );
    await expectError(
      rawFrame({ api: 'ApiVersions', version: 7, correlationId: 102, body: {} }),
      102,
      ErrorCode.UNSUPPORTED_VERSION,
    );
    await expectError(
      rawFrame({ api: 5, version: 0, correlationId: 103, body: {} }),
      103,
      ErrorCode.INVALID_REQUEST,
    );
    const badAcks = {
      api: 'Produce',
      version: 0,
      correlationId: 104,
      body: { acks: 2, timeoutMs: 0, topics: [] },
    };
    await expectError(rawFrame(badAcks), 104, ErrorCode.INVALID_REQUIRED_ACKS);
    const badField = {
      api: 'Fetch',
      version: 0,
      correlationId: 105,
      body: { ...fetchBody('t', 0, 0), maxBytes: 'lots' },
    };
    await expectError(rawFrame(badField), 105, ErrorCode.INVALID_FETCH_SIZE);
    expect((await client.call('ApiVersions', {})).errorCode).toBe(0);
    client.close();

    for (const frame of [
      rawFrame([1, 2, 3]), // not a map
      rawFrame({ api: 'ApiVersions', version: 0, body: {} }), // no correlation id
      encodeFrame(Buffer.from([0xc1, 0xc1, 0xc1])), // not msgpack
      Buffer.from([0xff, 0xff, 0xff, 0xff]), // over socket.request.max.bytes
    ]) {
      const c = await RawClient.connect(running.port);
      c.socket.write(frame);
      await closed(c);
    }
    const after = await RawClient.connect(running.port);
    expect((await after.call('ApiVersions', {})).errorCode).toBe(0);
    after.close();
    await running.close();
  });

  it('closes a connection that stalls inside a frame, and one idle too long', async () => {
    const running = await startBroker({
      logger: quiet,
      config: { 'connections.max.idle.ms': 150 },
    });
    const stalled = await RawClient.connect(running.port);
    stalled.socket.write(Buffer.from([0, 0, 1, 0, 0x80])); // 256 bytes promised, 1 sent
    const idle = await RawClient.connect(running.port);
    const started = performance.now();
    await Promise.all([closed(stalled), closed(idle)]);
    expect(performance.now() - started).toBeLessThan(3000);
    // A long poll in flight is not idleness.
    const polling = await RawClient.connect(running.port);
    const res = await polling.call('Fetch', fetchBody('t', 0, 0, { maxWaitMs: 400, minBytes: 1 }));
    expect(res.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    polling.close();
    await running.close();
  });

  it('shuts down gracefully: in-flight requests answered, logs flushed and closed', async () => {
    const dataDir = tempDir('samsa-broker-');
    const running = await startBroker({ dataDir, logger: quiet });
    const client = await RawClient.connect(running.port);
    await client.call('Produce', produceBody('t', 0, batch(['kept'])));
    const poll = client.call('Fetch', fetchBody('t', 0, 1, { maxWaitMs: 60_000, minBytes: 1 }));
    await new Promise((r) => setTimeout(r, 20));
    const started = performance.now();
    await running.close();
    expect(performance.now() - started).toBeLessThan(2000);
    expect((await poll).topics[0]!.partitions[0]!.errorCode).toBe(0);
    await closed(client);
    const reopened = await Broker.open({ dataDir, logger: quiet });
    expect(reopened.topics.partition('t', 0)!.log.recoveryPoint).toBe(1);
    await reopened.close();
  });

  it('closes at once with client connections left open, not after the drain timeout', async () => {
    const broker = await Broker.open({ dataDir: tempDir('samsa-broker-'), logger: quiet });
    // A drain timeout longer than the test's: only the clients' own ends can finish the close.
    const server = await BrokerServer.listen(broker, { port: 0, drainTimeoutMs: 600_000 });
    const idle = [0, 1, 2].map(() => new Connection({ host: '127.0.0.1', port: server.port }));
    for (const c of idle) await c.request('Metadata', { topics: [] });
    // One waits in a long poll when the close begins: its connection stops reading
    // until the poll is answered, and must still see its client's end after that.
    await broker.topics.create('t', 1, {});
    const poll = idle[0]!.request(
      'Fetch',
      fetchBody('t', 0, 0, { maxWaitMs: 60_000, minBytes: 1 }),
    );
    // Another keeps asking, as a peer broker's heartbeats do, while the close runs.
    let asking = true;
    const chatter = (async () => {
      while (asking) {
        await idle[1]!.request('Metadata', { topics: [] }).catch(() => {});
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await new Promise((r) => setTimeout(r, 50));
    await server.close();
    asking = false;
    await chatter;
    expect((await poll).topics[0]!.partitions[0]!.errorCode).toBe(0);
    expect(broker.shuttingDown).toBe(true);
    await Promise.all(idle.map((c) => c.close()));
  });

  it('starts and stops in milliseconds', async () => {
    const times: { start: number; stop: number }[] = [];
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      const running = await startBroker({ logger: quiet });
      const t1 = performance.now();
      await running.close();
      times.push({ start: t1 - t0, stop: performance.now() - t1 });
    }
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1]!;
    const start = median(times.map((t) => t.start));
    const stop = median(times.map((t) => t.stop));
    console.log(
      `embedded broker: start ${start.toFixed(2)} ms, stop ${stop.toFixed(2)} ms (medians of 20)`,
    );
    expect(start).toBeLessThan(200);
    expect(stop).toBeLessThan(200);
  });
});
