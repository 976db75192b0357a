/**
 * Crash safety, tested: write a log, leave it as a killed process would, damage
 * one file (cut it at any byte, or flip any bit), reopen. What survives must be
 * exactly a prefix of what was written — every batch before the damage, none
 * after — the indexes must agree with a scan, and appends continue at the next
 * offset. Flipped bits in data that was already flushed are disk damage, not a
 * crash, and are not looked for at open (see log-loader.ts); they are left out.
 */
import { readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Log, decodeBatches } from '../src/log/index.js';
import { type Plain, plain, readAll } from './support/records.js';
import { tempDir } from './support/temp.js';

interface Laid {
  file: string;
  position: number;
  size: number;
  records: Plain[];
}

const batchArb = fc.array(
  fc.record({
    key: fc.uint8Array({ maxLength: 8 }).map((a) => Buffer.from(a)),
    value: fc.option(
      fc.uint8Array({ maxLength: 60 }).map((a) => Buffer.from(a)),
      { nil: null },
    ),
    timestamp: fc.integer({ min: 0, max: 10_000 }),
  }),
  { minLength: 1, maxLength: 5 },
);

const scenarioArb = fc.record({
  config: fc.record({
    'segment.bytes': fc.integer({ min: 150, max: 1500 }),
    'index.interval.bytes': fc.integer({ min: 0, max: 300 }),
  }),
  batches: fc.array(batchArb, { minLength: 1, maxLength: 30 }),
  flushAfter: fc.option(fc.nat(), { nil: undefined }),
  action: fc.constantFrom('cut', 'flip'),
  fileChoice: fc.nat(),
  byteChoice: fc.nat(),
});

/** Every batch on disk, in offset order, with the file and position it sits at. */
function layout(dir: string): Laid[] {
  const laid: Laid[] = [];
  for (const name of readdirSync(dir)
    .filter((n) => n.endsWith('.log'))
    .sort()) {
    for (const batch of decodeBatches(readFileSync(join(dir, name)))) {
      laid.push({
        file: name,
        position: batch.position,
        size: batch.size,
        records: batch.records.map(plain),
      });
    }
  }
  return laid;
}

describe('Recovery after a crash and damage', () => {
  it('keeps exactly the batches before the damage', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (s) => {
        const dir = tempDir('samsa-crash-');
        let log = await Log.open(dir, s.config);
        let flushedOffset = 0;
        for (let i = 0; i < s.batches.length; i++) {
          log.append(s.batches[i]!);
          if (s.flushAfter !== undefined && i === s.flushAfter % s.batches.length) {
            await log.flush();
            flushedOffset = log.logEndOffset;
          }
        }
        log.abandon();
        const laid = layout(dir);
        const written = laid.flatMap((b) => b.records);

        // Choose the damage. Flips in flushed batches are disk damage: skip them.
        const files = readdirSync(dir).sort();
        const file = files[s.fileChoice % files.length]!;
        const bytes = readFileSync(join(dir, file));
        if (bytes.length === 0) return;
        const at = s.byteChoice % bytes.length;
        const hit = laid.findIndex(
          (b) => b.file === file && b.position <= at && at < b.position + b.size,
        );
        if (s.action === 'flip' && hit >= 0 && laid[hit]!.records[0]!.offset < flushedOffset)
          return;

        let expected: { count: number; offsetsMayShift?: boolean } = { count: laid.length };
        if (file.endsWith('.log')) {
          const before = laid.findIndex((b) => b.file === file && b.position + b.size > at);
          if (s.action === 'cut') {
            truncateSync(join(dir, file), at);
            expected = { count: before };
          } else {
            bytes[at]! ^= 1 << (s.byteChoice % 8);
            writeFileSync(join(dir, file), bytes);
            const inBatch = at - laid[hit]!.position;
            if (inBatch >= 12 && inBatch < 16)
              expected = { count: laid.length }; // leader epoch: outside the CRC, harmless
            else if (inBatch < 8)
              expected = { count: hit, offsetsMayShift: true }; // base offset: outside the CRC
            else expected = { count: hit }; // length, magic, CRC, or bytes the CRC covers
          }
        } else if (s.action === 'cut') {
          truncateSync(join(dir, file), at);
        } else {
          bytes[at]! ^= 1 << (s.byteChoice % 8);
          writeFileSync(join(dir, file), bytes);
        }

        log = await Log.open(dir, s.config);
        try {
          const survivors = readAll(log, log.logStartOffset);
          const wantRecords = laid.slice(0, expected.count).flatMap((b) => b.records);
          if (expected.offsetsMayShift) {
            // The batch whose base offset was hit may survive with other offsets; nothing after it does.
            const strip = (r: Plain) => ({ ...r, offset: 0 });
            const shifted = laid.slice(0, expected.count + 1).flatMap((b) => b.records);
            expect(survivors.slice(0, wantRecords.length)).toEqual(wantRecords);
            expect([wantRecords.length, shifted.length]).toContain(survivors.length);
            expect(survivors.map(strip)).toEqual(shifted.slice(0, survivors.length).map(strip));
          } else {
            expect(survivors).toEqual(wantRecords);
          }
          expect(survivors.length).toBeLessThanOrEqual(written.length);
          expect(log.logStartOffset).toBe(0);
          expect(log.logEndOffset).toBe((survivors.at(-1)?.offset ?? -1) + 1);

          // Every index lookup agrees with a scan.
          for (const r of survivors) {
            const first = decodeBatches(log.read(r.offset, { maxBytes: 1 }))[0]!;
            expect(first.baseOffset <= r.offset && r.offset <= first.lastOffset).toBe(true);
          }
          for (const ts of new Set(survivors.map((r) => r.timestamp).concat([10_001]))) {
            expect(log.offsetForTimestamp(ts)).toBe(
              survivors.find((r) => r.timestamp >= ts)?.offset,
            );
          }

          // Appends continue at the next offset, and recovery is idempotent.
          const next = log.logEndOffset;
          expect(
            log.append([{ key: Buffer.from('after'), value: Buffer.from('crash') }]).baseOffset,
          ).toBe(next);
          const now = readAll(log, 0);
          await log.close();
          log = await Log.open(dir, s.config);
          expect(readAll(log, 0)).toEqual(now);
        } finally {
          await log.close();
        }
      }),
      { numRuns: 300 },
    );
  });
});
