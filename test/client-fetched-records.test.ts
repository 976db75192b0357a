/** The consumer's fetched records are read lazily, batch by batch, and give the same records as decoding all at once. */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { FetchedRecords, spanBatches } from '../src/client/fetched-records.js';
import { CRC_POS, computeBatchCrc, patchBaseOffset } from '../src/log/batch-header.js';
import { CorruptBatchError } from '../src/log/errors.js';
import { decodeRecords, encodeBatch } from '../src/log/record-batch.js';

/** Batches of `sizes` records each, at consecutive offsets from `base`. */
function batches(sizes: number[], base = 0, control: number[] = []): Buffer {
  const out: Buffer[] = [];
  let offset = base;
  sizes.forEach((n, b) => {
    const records = Array.from({ length: n }, (_, i) => ({ value: Buffer.from(`v${offset + i}`) }));
    const bytes = encodeBatch(records, { timestamp: 1_000, control: control.includes(b) });
    patchBaseOffset(bytes, offset);
    out.push(bytes);
    offset += n;
  });
  return Buffer.concat(out);
}

function readAll(fetched: FetchedRecords, min = 0): number[] {
  const offsets: number[] = [];
  while (fetched.advance(min)) offsets.push(fetched.reader.offset);
  return offsets;
}

function readOne(fetched: FetchedRecords): number | undefined {
  return fetched.advance(0) ? fetched.reader.offset : undefined;
}

function recomputeCrc(bytes: Buffer): void {
  bytes.writeUInt32BE(computeBatchCrc(bytes, 0, bytes.length), CRC_POS);
}

describe('FetchedRecords', () => {
  it('hands out the records at or after the fetch offset, as decodeRecords finds them', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 8 }),
        fc.nat(200),
        fc.nat(30),
        (sizes, from, cut) => {
          const whole = batches(sizes, 10);
          const bytes = whole.subarray(0, Math.max(0, whole.length - cut)); // maybe a cut-short last batch
          const span = spanBatches(bytes, from);
          const expected = decodeRecords(bytes)
            .map((r) => r.offset)
            .filter((o) => o >= from);
          expect(span.any).toBe(expected.length > 0);
          expect(readAll(new FetchedRecords(bytes, span.end, from))).toEqual(expected);
          const last = decodeRecords(bytes).at(-1)?.offset;
          expect(span.next).toBe(Math.max(from, last === undefined ? from : last + 1));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('skips control batches, and the records below the position it is given', () => {
    const bytes = batches([3, 2, 4], 0, [1]);
    expect(readAll(new FetchedRecords(bytes, spanBatches(bytes, 0).end, 0))).toEqual([
      0, 1, 2, 5, 6, 7, 8,
    ]);
    expect(readAll(new FetchedRecords(bytes, spanBatches(bytes, 0).end, 1), 6)).toEqual([6, 7, 8]);
    const fetched = new FetchedRecords(bytes, spanBatches(bytes, 0).end, 0);
    expect(fetched.advance(0)).toBe(true);
    expect(fetched.advance(2) && fetched.reader.offset).toBe(2); // a seek forward skips 1
    expect(fetched.advance(7) && fetched.reader.offset).toBe(7);
  });

  it('throws for a corrupt batch when the reader reaches it, after the records before it', () => {
    const bytes = batches([2, 2]);
    bytes[bytes.length - 1]! ^= 0xff; // the second batch's CRC fails
    const fetched = new FetchedRecords(bytes, spanBatches(bytes, 0).end, 0);
    expect(readOne(fetched)).toBe(0);
    expect(readOne(fetched)).toBe(1);
    expect(() => fetched.advance(0)).toThrow(CorruptBatchError);
    expect(() => fetched.advance(0)).toThrow(/fails its CRC/); // and again: nothing after it is read
  });

  it('fails a batch whose record layout is wrong under a good CRC, and stays failed', () => {
    const good = batches([3]);
    const bytes = Buffer.from(good);
    bytes[bytes.length - 1] = 0x02; // the last record claims a header it does not have
    recomputeCrc(bytes);
    const fetched = new FetchedRecords(bytes, spanBatches(bytes, 0).end, 0);
    expect(readOne(fetched)).toBe(0);
    expect(readOne(fetched)).toBe(1);
    expect(() => fetched.advance(0)).toThrow(CorruptBatchError);
    expect(() => fetched.advance(0)).toThrow(CorruptBatchError);
  });
});
