/**
 * `queued.max.request.bytes`: many connections pipelining large produces at
 * once; the broker stops reading while the bytes of requests read and not
 * yet handled are over the bound, answers everything, and never holds more
 * than the bound plus one frame.
 */
import { describe, expect, it } from 'vitest';
import { resolveBrokerConfig } from '../src/broker/config.js';
import { BrokerServer } from '../src/broker/server.js';
import { InvalidConfigError } from '../src/log/index.js';
import { encodeRequestFrame } from '../src/protocol/index.js';
import { RawClient, batch, openBroker, produceBody } from './broker-support.js';

const VALUE_BYTES = 200_000;

async function flood(bound: number, connections: number, perConnection: number) {
  const broker = await openBroker({ config: { 'queued.max.request.bytes': bound } });
  const server = await BrokerServer.listen(broker, { port: 0 });
  // Hold every answer until the pool is full, so the bound is reached however
  // fast this machine handles a produce; from then on, answer as usual.
  const memory = server.requestMemory;
  const respond = broker.respond.bind(broker);
  let full!: () => void;
  const filled = new Promise<void>((resolve) => (full = resolve));
  const watch = setInterval(() => {
    if (memory.exhausted) full();
  }, 2);
  broker.respond = (request, ctx) =>
    memory.exhausted ? respond(request, ctx) : filled.then(() => respond(request, ctx));
  try {
    const clients = await Promise.all(
      Array.from({ length: connections }, () => RawClient.connect(server.port)),
    );
    const body = (c: number, i: number) =>
      produceBody('big', 0, batch([`${c}:${i}:`.padEnd(VALUE_BYTES, 'x')]));
    const frameBytes = encodeRequestFrame({
      api: 'Produce',
      version: 0,
      correlationId: 1,
      clientId: 'test',
      body: body(0, 0),
    }).length;
    // Every request of every connection written at once: far more than the bound.
    const answers = await Promise.all(
      clients.flatMap((client, c) =>
        Array.from({ length: perConnection }, (_, i) => client.call('Produce', body(c, i))),
      ),
    );
    const offsets = answers.map((a) => a.topics[0]!.partitions[0]!);
    expect(offsets.every((p) => p.errorCode === 0)).toBe(true);
    expect(offsets.map((p) => p.baseOffset).sort((a, b) => a - b)).toEqual(
      Array.from({ length: connections * perConnection }, (_, i) => i),
    );
    for (const client of clients) client.close();
    return { memory, frameBytes };
  } finally {
    clearInterval(watch);
    await server.close();
  }
}

describe('queued.max.request.bytes', () => {
  it('stops reading past the bound, answers everything, holds at most the bound plus one frame', async () => {
    const bound = 500_000; // two and a half frames
    const { memory, frameBytes } = await flood(bound, 20, 5); // 100 frames, ~20 MB
    expect(memory.bound).toBe(bound);
    expect(memory.peak).toBeGreaterThanOrEqual(bound); // the bound was reached...
    expect(memory.peak).toBeLessThan(bound + frameBytes); // ...and held to, within one frame
    expect(memory.used).toBe(0); // everything handled was given back
  });

  it('makes progress with a bound smaller than one frame', async () => {
    const { memory, frameBytes } = await flood(10_000, 6, 3);
    expect(memory.peak).toBeLessThan(10_000 + frameBytes);
    expect(memory.used).toBe(0);
  });

  it('is 256 MiB by default, -1 (or 0) for no bound', () => {
    expect(resolveBrokerConfig().settings['queued.max.request.bytes']).toBe(256 * 1024 * 1024);
    const unbounded = resolveBrokerConfig({ 'queued.max.request.bytes': '-1' });
    expect(unbounded.settings['queued.max.request.bytes']).toBe(-1);
    expect(() => resolveBrokerConfig({ 'queued.max.request.bytes': -2 })).toThrow(
      InvalidConfigError,
    );
  });
});
