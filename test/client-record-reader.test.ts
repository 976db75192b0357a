/**
 * The consumer's record reader and the records takeRecord builds from it
 * equal the log's eager decoding (decodeBatches), for any batches: headers,
 * null keys and values, tombstones, gzip, log-append time, control batches.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { FetchedRecords, spanBatches } from '../src/client/fetched-records.js';
import { type CompletedFetch, type PartitionState, takeRecord } from '../src/client/fetcher.js';
import { RecordReader, bytesView } from '../src/client/record-reader.js';
import { stringSerde } from '../src/client/serde.js';
import { batchSizeAt, patchBaseOffset } from '../src/log/batch-header.js';
import { CorruptBatchError } from '../src/log/errors.js';
import { type AppendRecord, decodeBatches, encodeBatch } from '../src/log/record-batch.js';

const NOW = 1_700_000_000_000;
const hex = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b).toString('hex'));

const bytes = fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a));
const nullableBytes = fc.option(bytes, { nil: null, freq: 4 });
const recordHeader = fc.record({
  key: fc.string({ unit: 'grapheme', maxLength: 12 }),
  value: nullableBytes,
});
const appendRecord: fc.Arbitrary<AppendRecord> = fc.record(
  {
    key: nullableBytes,
    value: nullableBytes,
    headers: fc.array(recordHeader, { maxLength: 3 }),
    timestamp: fc.integer({ min: NOW - 100_000, max: NOW + 100_000 }),
  },
  { requiredKeys: ['value'] },
);
const batchSpec = fc.record({
  records: fc.array(appendRecord, { minLength: 1, maxLength: 12 }),
  compression: fc.constantFrom('none' as const, 'gzip' as const),
  logAppendTime: fc.boolean(),
  control: fc.boolean(),
});

/** The batches, one after the other at consecutive offsets from `base`. */
function encodeAll(specs: BatchSpec[], base: number): Buffer {
  const out: Buffer[] = [];
  let offset = base;
  for (const spec of specs) {
    const { records, ...options } = spec;
    const encoded = encodeBatch(records, { ...options, timestamp: NOW });
    patchBaseOffset(encoded, offset);
    offset += records.length;
    out.push(encoded);
  }
  return Buffer.concat(out);
}
type BatchSpec = typeof batchSpec extends fc.Arbitrary<infer T> ? T : never;

/** A record as plain data (views compared by content). */
function plain(r: {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: { key: string; value: Buffer | null }[];
}) {
  const headers = r.headers.map((h) => ({ key: h.key, value: hex(h.value) }));
  return {
    offset: r.offset,
    timestamp: r.timestamp,
    key: hex(r.key),
    value: hex(r.value),
    headers,
  };
}

/** The non-control records decodeBatches finds, as plain data. */
function eager(buf: Buffer) {
  return decodeBatches(buf)
    .filter((b) => !b.isControl)
    .flatMap((b) => b.records.map(plain));
}

function state(position: number | null = null): PartitionState {
  return {
    tp: { topic: 't', partition: 3 },
    position,
    fetchPosition: null,
    reset: null,
    paused: false,
    epoch: 0,
    highWatermark: -1,
  };
}

function completed(buf: Buffer, s: PartitionState, from = 0): CompletedFetch {
  return Object.assign(new FetchedRecords(buf, spanBatches(buf, from).end, from), {
    state: s,
    epoch: 0,
  });
}

describe('RecordReader', () => {
  it('reads every batch as decodeBatches does', () => {
    fc.assert(
      fc.property(fc.array(batchSpec, { minLength: 1, maxLength: 4 }), (specs) => {
        const buf = encodeAll(specs, 5);
        const reader = new RecordReader();
        const read: ReturnType<typeof plain>[] = [];
        for (let pos = 0; pos < buf.length;) {
          const size = batchSizeAt(buf, pos);
          if (reader.open(buf, pos, size))
            while (reader.next()) {
              const { offset, timestamp, headers } = reader;
              read.push(
                plain({
                  offset,
                  timestamp,
                  headers,
                  key: reader.keyBytes(),
                  value: reader.valueBytes(),
                }),
              );
            }
          pos += size;
        }
        expect(read).toEqual(eager(buf));
      }),
      { numRuns: 300 },
    );
  });

  it('gives takeRecord the same records, deserialized as before, from any position', () => {
    fc.assert(
      fc.property(
        fc.array(batchSpec, { minLength: 1, maxLength: 4 }),
        fc.nat(30),
        (specs, position) => {
          const buf = encodeAll(specs, 5);
          const s = state(position);
          const buffer = [completed(buf, s)];
          const identity = (b: Buffer | null) => b;
          const out = [];
          let started = 0;
          for (;;) {
            const r = takeRecord(buffer, identity, identity, () => (started += 1));
            if (r === undefined) break;
            expect(Object.keys(r)).toEqual([
              'topic',
              'partition',
              'offset',
              'timestamp',
              'key',
              'value',
              'headers',
            ]);
            expect([r.topic, r.partition]).toEqual(['t', 3]);
            expect(Buffer.isBuffer(r.value) || r.value === null).toBe(true);
            out.push(plain(r));
          }
          const expected = eager(buf).filter((r) => r.offset >= position);
          expect(out).toEqual(expected);
          expect(started).toBe(expected.length > 0 ? 1 : 0);
          if (expected.length > 0) expect(s.position).toBe(expected.at(-1)!.offset + 1);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('applies the deserializers to the key and value bytes, once per record', () => {
    const buf = encodeBatch([
      { key: Buffer.from('k'), value: Buffer.from('v') },
      { key: null, value: null },
    ]);
    const seen: (Buffer | null)[] = [];
    const deserialize = (b: Buffer | null) => (seen.push(b), stringSerde.deserialize(b));
    const buffer = [completed(buf, state())];
    const first = takeRecord(buffer, deserialize, deserialize, () => {});
    const second = takeRecord(buffer, deserialize, deserialize, () => {});
    expect([first?.key, first?.value, second?.key, second?.value]).toEqual(['k', 'v', null, null]);
    expect(seen.map(hex)).toEqual([hex(Buffer.from('k')), hex(Buffer.from('v')), null, null]);
    expect(takeRecord(buffer, deserialize, deserialize, () => {})).toBeUndefined();
  });

  it('fails a record that overruns its batch, under a good CRC', () => {
    const buf = encodeBatch([{ value: Buffer.from('abc') }]);
    const reader = new RecordReader();
    // Skip the CRC (the bytes are patched after it) to reach the record checks.
    buf[61] = 0x7e; // the record's length: 63, past the batch's end
    expect(reader.open(buf, 0, buf.length, { verifyCrc: false })).toBe(true);
    expect(() => reader.next()).toThrow(CorruptBatchError);
    expect(reader.next()).toBe(false); // nothing more is read from it
  });

  it('makes views that are Buffers over the batch bytes', () => {
    const memory = Buffer.from('hello world');
    const view = bytesView(memory.buffer, memory.byteOffset + 6, 5);
    expect(Buffer.isBuffer(view)).toBe(true);
    expect(view.toString()).toBe('world');
    expect(view.subarray(1).toString()).toBe('orld');
    expect(view.constructor).toBe(Buffer);
    memory[6] = 0x57;
    expect(view.toString()).toBe('World'); // a view, not a copy
  });
});
