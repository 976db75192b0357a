/**
 * Throw arbitrary frames and bytes at a broker on several connections at once,
 * then check that it still serves a well-behaved client, that the data written
 * before is intact, and that it never failed in a way it did not expect.
 */
import { type Socket, connect } from 'node:net';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { startBroker } from '../src/broker/index.js';
import { APIS, encodeFrame, encodeRequestFrame } from '../src/protocol/index.js';
import {
  RawClient,
  batch,
  fetchBody,
  produceBody,
  recordingLogger,
  values,
} from './broker-support.js';

const foreign = new Packr({ useRecords: false });
const apiNames = Object.keys(APIS);

const validBodies = [
  produceBody('fuzz-keep', 0, batch(['evil'])),
  fetchBody('fuzz-keep', 0, 0, { maxWaitMs: 50, minBytes: 1 << 20 }),
  { topics: null },
  { resources: [{ resourceType: 2, resourceName: 'fuzz-keep', configurationKeys: null }] },
];

/** One chunk of hostile input: raw bytes, or a frame around garbage, a value, or a near-valid request. */
const hostile: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
  fc.uint8Array({ maxLength: 64 }).map((b) => encodeFrame(b)),
  fc.anything().map((v) => encodeFrame(foreign.pack(v))),
  fc
    .record({
      api: fc.oneof(fc.constantFrom(...apiNames), fc.string(), fc.integer()),
      version: fc.oneof(fc.constant(0), fc.integer({ min: -3, max: 70000 }), fc.string()),
      correlationId: fc.oneof(
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        fc.double(),
        fc.string(),
      ),
      body: fc.oneof(fc.constantFrom(...validBodies), fc.anything(), fc.object()),
    })
    .map((v) => encodeFrame(foreign.pack(v))),
  fc.integer({ min: 1, max: 0xffffffff }).map((n) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  }),
);

/** Writes `chunks` on a fresh connection, then waits a moment for the broker to answer or hang up. */
function assault(port: number, chunks: Buffer[]): Promise<void> {
  return new Promise((resolve) => {
    const socket: Socket = connect({ port, host: '127.0.0.1' });
    socket.on('error', () => {});
    socket.on('data', () => {});
    socket.once('connect', () => {
      for (const chunk of chunks) socket.write(chunk);
      const probe = { api: 'ApiVersions', version: 0, correlationId: 7, body: {} } as const;
      socket.write(encodeRequestFrame(probe));
      setTimeout(() => socket.destroy(), 60);
    });
    socket.once('close', () => resolve());
  });
}

describe('hostile input', () => {
  it('never takes the broker down nor harms stored data', async () => {
    const logger = recordingLogger();
    const running = await startBroker({ logger, config: { 'socket.request.max.bytes': 1 << 20 } });
    const good = await RawClient.connect(running.port);
    const kept = Array.from({ length: 20 }, (_, i) => `kept-${i}`);
    for (const v of kept) await good.call('Produce', produceBody('fuzz-keep', 0, batch([v])));

    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(hostile, { maxLength: 6 }), { minLength: 1, maxLength: 4 }),
        async (connections) => {
          await Promise.all(connections.map((chunks) => assault(running.port, chunks)));
        },
      ),
      { numRuns: 60 },
    );

    // The well-behaved connection opened before the storm still works, as does a new one.
    const after = await RawClient.connect(running.port);
    for (const client of [good, after]) {
      const f = await client.call('Fetch', fetchBody('fuzz-keep', 0, 0));
      const got = values(f.topics[0]!.partitions[0]!.records);
      expect(got.slice(0, kept.length)).toEqual(kept);
      expect(got.slice(kept.length).every((v) => v === 'evil')).toBe(true); // only valid produces got in
    }
    const p = await after.call('Produce', produceBody('fuzz-keep', 0, batch(['after the storm'])));
    const offset = p.topics[0]!.partitions[0]!.baseOffset;
    const f = await good.call('Fetch', fetchBody('fuzz-keep', 0, offset));
    expect(values(f.topics[0]!.partitions[0]!.records)).toEqual(['after the storm']);
    expect(logger.lines.filter((l) => l.startsWith('error'))).toEqual([]);
    expect(logger.lines.some((l) => l.includes('closing connection'))).toBe(true); // it did arrive
    good.close();
    after.close();
    await running.close();
  });
});
