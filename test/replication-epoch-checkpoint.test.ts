/**
 * The leader-epoch-checkpoint file: Kafka's text format, round trips, a
 * missing or empty file, corrupt files (each with its stable code), the
 * bounds the loader applies, and overlapping writes where the newest wins.
 * Crashes in the middle of a write are in replication-epoch-checkpoint-crash.test.ts.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReplicationError, ReplicationErrorCode } from '../src/replication/errors.js';
import {
  LEADER_EPOCH_CHECKPOINT_FILE,
  loadLeaderEpochCache,
  readLeaderEpochCheckpoint,
  writeLeaderEpochCheckpoint,
  writeLeaderEpochCheckpointSync,
} from '../src/replication/leader-epoch-checkpoint.js';
import type { EpochEntry } from '../src/replication/leader-epoch-cache.js';
import { tempDir } from './support/temp.js';

const entriesArb = fc
  .uniqueArray(fc.integer({ min: 0, max: 2 ** 31 - 1 }), { maxLength: 12 })
  .chain((epochs) =>
    fc
      .uniqueArray(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), {
        minLength: epochs.length,
        maxLength: epochs.length,
      })
      .map((offsets) => {
        const e = [...epochs].sort((a, b) => a - b);
        const o = [...offsets].sort((a, b) => a - b);
        return e.map((epoch, i) => ({ epoch, startOffset: o[i]! }));
      }),
  );

function expectCorrupt(text: string): void {
  const dir = tempDir('samsa-epoch-');
  writeFileSync(join(dir, LEADER_EPOCH_CHECKPOINT_FILE), text);
  let error: unknown;
  try {
    readLeaderEpochCheckpoint(dir);
  } catch (err) {
    error = err;
  }
  expect(error, JSON.stringify(text)).toBeInstanceOf(ReplicationError);
  expect((error as ReplicationError).code).toBe(ReplicationErrorCode.CORRUPT_EPOCH_CHECKPOINT);
  expect((error as ReplicationError).code).toBe('REPLICATION_CORRUPT_EPOCH_CHECKPOINT');
  expect((error as ReplicationError).retriable).toBe(false);
}

describe('leader-epoch-checkpoint', () => {
  it('writes Kafka’s format: version, count, then "epoch startOffset" lines', () => {
    const dir = tempDir('samsa-epoch-');
    writeLeaderEpochCheckpointSync(dir, [
      { epoch: 0, startOffset: 0 },
      { epoch: 3, startOffset: 1200 },
    ]);
    expect(readFileSync(join(dir, 'leader-epoch-checkpoint'), 'utf8')).toBe('0\n2\n0 0\n3 1200\n');
  });

  it('reads a file Kafka wrote', () => {
    const dir = tempDir('samsa-epoch-');
    writeFileSync(join(dir, 'leader-epoch-checkpoint'), '0\n2\n0 1\n1 2\n');
    expect(readLeaderEpochCheckpoint(dir)).toEqual([
      { epoch: 0, startOffset: 1 },
      { epoch: 1, startOffset: 2 },
    ]);
  });

  it('round-trips any valid list of entries, sync and async', async () => {
    const dir = tempDir('samsa-epoch-');
    await fc.assert(
      fc.asyncProperty(entriesArb, fc.boolean(), async (entries, sync) => {
        if (sync) writeLeaderEpochCheckpointSync(dir, entries);
        else await writeLeaderEpochCheckpoint(dir, entries);
        expect(readLeaderEpochCheckpoint(dir)).toEqual(entries);
      }),
      { numRuns: 60 },
    );
    expect(readdirSync(dir)).toEqual([LEADER_EPOCH_CHECKPOINT_FILE]); // no temporary file left
  });

  it('reads a missing, empty or version-only file as no entries (a new log)', () => {
    const dir = tempDir('samsa-epoch-');
    expect(readLeaderEpochCheckpoint(dir)).toEqual([]);
    for (const text of ['', '0\n', '0']) {
      writeFileSync(join(dir, LEADER_EPOCH_CHECKPOINT_FILE), text);
      expect(readLeaderEpochCheckpoint(dir)).toEqual([]);
    }
  });

  it('refuses a corrupt file with REPLICATION_CORRUPT_EPOCH_CHECKPOINT', () => {
    for (const text of [
      '1\n0\n', // unknown version
      'x\n0\n',
      '0\nthree\n',
      '0\n2\n0 1\n', // fewer entries than counted
      '0\n1\n0 1\n1 2\n', // more
      '0\n1\n0\n',
      '0\n1\n0 1 2\n',
      '0\n1\n-1 5\n',
      '0\n1\n0 -5\n',
      '0\n1\n2147483648 0\n', // epoch beyond int32
      '0\n1\n0 99999999999999999\n', // offset beyond 2^53
      '0\n2\n0 1\n\n', // a blank line is not an entry
      '0\n1\n0 0x1\n',
    ])
      expectCorrupt(text);
  });

  it('bounds the loaded cache by the log: nothing past its end, the first epoch moved to its start', () => {
    const dir = tempDir('samsa-epoch-');
    writeLeaderEpochCheckpointSync(dir, [
      { epoch: 1, startOffset: 0 },
      { epoch: 2, startOffset: 10 },
      { epoch: 4, startOffset: 20 },
      { epoch: 5, startOffset: 30 },
    ]);
    const cache = loadLeaderEpochCache(dir, { logStartOffset: 12, logEndOffset: 30 });
    expect(cache.entries).toEqual([
      { epoch: 2, startOffset: 12 },
      { epoch: 4, startOffset: 20 },
    ]);
  });

  it('lets the newest write win when writes overlap', async () => {
    const dir = tempDir('samsa-epoch-');
    const lists: EpochEntry[][] = Array.from({ length: 20 }, (_, n) =>
      Array.from({ length: n + 1 }, (_, i) => ({ epoch: i, startOffset: i * 10 })),
    );
    const pending = lists.slice(0, 19).map((list) => writeLeaderEpochCheckpoint(dir, list));
    writeLeaderEpochCheckpointSync(dir, lists[19]!); // newest, lands first
    await Promise.all(pending);
    expect(readLeaderEpochCheckpoint(dir)).toEqual(lists[19]);
    expect(readdirSync(dir)).toEqual([LEADER_EPOCH_CHECKPOINT_FILE]);

    const later = [{ epoch: 30, startOffset: 500 }];
    await writeLeaderEpochCheckpoint(dir, later);
    expect(readLeaderEpochCheckpoint(dir)).toEqual(later);
  });

  it('ignores a temporary file a crash left next to the checkpoint', () => {
    const dir = tempDir('samsa-epoch-');
    writeLeaderEpochCheckpointSync(dir, [{ epoch: 1, startOffset: 0 }]);
    writeFileSync(join(dir, `${LEADER_EPOCH_CHECKPOINT_FILE}.1.1.tmp`), '0\n3\n1 0\n2');
    expect(readLeaderEpochCheckpoint(dir)).toEqual([{ epoch: 1, startOffset: 0 }]);
  });
});
