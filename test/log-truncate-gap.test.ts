/**
 * A follower copies a compacted leader: its log has offset gaps between
 * batches. Truncating into such a gap must leave the log end at the data it
 * keeps, or a segment rolled there would not start where the previous one
 * ends, and the loader (which drops such a segment as a sign of a lost one)
 * would drop acknowledged data on the next open.
 */
import { expect, it } from 'vitest';
import { Log, encodeBatch } from '../src/log/index.js';
import { tempDir } from './support/temp.js';
import { readAll, rec } from './support/records.js';

it('truncating into an offset gap keeps the log end at the kept data, and a roll there survives reopen', async () => {
  const dir = tempDir();
  let log = await Log.open(dir, { 'segment.bytes': 100_000 });
  const asLeaderSent = (baseOffset: number, keys: string[]) =>
    log.appendBatch(
      encodeBatch(
        keys.map((k) => rec(k, `v${k}`)),
        { baseOffset, timestamp: 1000 },
      ),
      { assignOffsets: false },
    );
  asLeaderSent(0, ['a', 'b', 'c']); // offsets 0..2
  asLeaderSent(10, ['d', 'e']); // offsets 10..11: 3..9 were compacted away on the leader
  expect(log.logEndOffset).toBe(12);

  log.truncateTo(6); // into the gap: offsets 10 and 11 go
  expect(log.logEndOffset).toBe(3);
  log.roll();
  asLeaderSent(3, ['f']); // the follower fetches from its log end again
  expect(log.segments.map((s) => s.baseOffset)).toEqual([0, 3]);
  await log.close();

  log = await Log.open(dir);
  expect(log.logEndOffset).toBe(4);
  expect(readAll(log, 0).map((r) => [r.offset, r.value])).toEqual([
    [0, '7661'],
    [1, '7662'],
    [2, '7663'],
    [3, '7666'], // the values 'va', 'vb', 'vc', 'vf', in hex
  ]);
  await log.close();
});
