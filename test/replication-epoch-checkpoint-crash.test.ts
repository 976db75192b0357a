/**
 * A crash in the middle of writing the leader-epoch-checkpoint: the real
 * write runs with node:fs wrapped so that its k-th file-system call "crashes"
 * (throws, and a write that crashes leaves only the first half of its bytes),
 * for every k. Whatever step it stopped at, the file reads as the old list or
 * the new one, never a mix and never an error.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import {
  LEADER_EPOCH_CHECKPOINT_FILE,
  readLeaderEpochCheckpoint,
  writeLeaderEpochCheckpointSync,
} from '../src/replication/leader-epoch-checkpoint.js';
import { tempDir } from './support/temp.js';

const crash = vi.hoisted(() => ({ afterCalls: Infinity, calls: 0 }));

class Crash extends Error {}

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const step =
    <A extends unknown[], R>(name: string, real: (...args: A) => R, torn?: (...args: A) => void) =>
    (...args: A): R => {
      if (crash.calls++ >= crash.afterCalls) {
        torn?.(...args);
        throw new Crash(`crashed at ${name}`);
      }
      return real(...args);
    };
  const writeSync = step(
    'writeSync',
    fs.writeSync as (fd: number, text: string) => number,
    (fd, text) => {
      fs.writeSync(fd, text.slice(0, Math.floor(text.length / 2)));
    },
  );
  const wrapped = {
    ...fs,
    openSync: step('openSync', fs.openSync),
    writeSync,
    fsyncSync: step('fsyncSync', fs.fsyncSync),
    closeSync: step('closeSync', fs.closeSync),
    renameSync: step('renameSync', fs.renameSync),
  };
  return { ...wrapped, default: wrapped };
});

const oldList = [
  { epoch: 0, startOffset: 0 },
  { epoch: 2, startOffset: 40 },
];
const newList = [...oldList, { epoch: 5, startOffset: 97 }, { epoch: 6, startOffset: 1000 }];

describe('leader-epoch-checkpoint: a crash at any step of a write', () => {
  it('leaves the old file or the new one', () => {
    const seen = new Set<string>();
    for (let k = 0; ; k++) {
      const dir = tempDir('samsa-epoch-crash-');
      crash.afterCalls = Infinity;
      writeLeaderEpochCheckpointSync(dir, oldList);
      crash.calls = 0;
      crash.afterCalls = k;
      let crashed = false;
      try {
        writeLeaderEpochCheckpointSync(dir, newList);
      } catch (err) {
        if (!(err instanceof Crash)) throw err;
        crashed = true;
      }
      crash.afterCalls = Infinity;
      const read = readLeaderEpochCheckpoint(dir);
      expect([oldList, newList], `crash after ${k} calls`).toContainEqual(read);
      seen.add(read.length === oldList.length ? 'old' : 'new');
      // A leftover is only ever a .tmp file, which the log loader removes on open.
      for (const name of readdirSync(dir))
        expect(name === LEADER_EPOCH_CHECKPOINT_FILE || name.endsWith('.tmp')).toBe(true);
      if (!crashed) break;
    }
    expect(seen).toEqual(new Set(['old', 'new']));
  });
});
