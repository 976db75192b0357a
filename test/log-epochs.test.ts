/**
 * A log's leader epochs (src/log/leader-epochs.ts) against a model: random
 * sequences of appends as leader (epochs stamped, sometimes bumped, an epoch
 * that starts before it writes), appends as follower (the batches' own
 * offsets and epochs), truncation, DeleteRecords, retention, close and
 * reopen, crash and reopen, and a lost or garbled checkpoint file. After
 * every step the cache equals the model derived from the surviving batches
 * and the `leader-epoch-checkpoint` file says exactly what the cache says.
 */
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Log,
  type Logger,
  decodeBatches,
  encodeBatch,
  patchBaseOffset,
  verifyBatch,
} from '../src/log/index.js';
import { type EpochEntry, LeaderEpochCache } from '../src/replication/leader-epoch-cache.js';
import {
  LEADER_EPOCH_CHECKPOINT_FILE,
  readLeaderEpochCheckpoint,
} from '../src/replication/leader-epoch-checkpoint.js';
import { tempDir } from './support/temp.js';

const CONFIG = { 'segment.bytes': 400, 'retention.bytes': 900 };

function recording(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (m: string) => void lines.push(`${level} ${m}`);
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

function records(n: number, tag: string) {
  return Array.from({ length: n }, (_, i) => ({
    key: Buffer.from(`k${i}`),
    value: Buffer.from(`${tag}-${i}`),
  }));
}

/** A leader's batch as a follower receives it: offsets from `baseOffset`, stamped `epoch`. */
function leaderBatch(baseOffset: number, n: number, epoch: number): Buffer {
  const bytes = encodeBatch(records(n, 'f'), { timestamp: 1000, partitionLeaderEpoch: epoch });
  patchBaseOffset(bytes, baseOffset); // outside the CRC, like the epoch
  return bytes;
}

/**
 * The oracle. `events` are the epoch starts in append order: one per
 * appended batch, and one per epoch started before it wrote (`mark`).
 * Epochs never decrease, as in a real log.
 */
class Model {
  events: { epoch: number; offset: number; mark: boolean }[] = [];
  logStartOffset = 0;

  cutFromEnd(logEndOffset: number): void {
    this.events = this.events.filter((e) => e.offset < logEndOffset);
  }

  /**
   * A rebuild from the batch headers knows only the batches still on disk
   * (from the first segment on), and nothing of epochs that did not write.
   */
  rebuilt(firstSegmentBase: number): void {
    this.events = this.events.filter((e) => !e.mark && e.offset >= firstSegmentBase);
  }

  expected(): EpochEntry[] {
    const entries: EpochEntry[] = [];
    for (const { epoch, offset } of this.events) {
      if (entries.at(-1)?.epoch === epoch) continue;
      while (entries.length > 0 && entries.at(-1)!.startOffset >= offset) entries.pop();
      entries.push({ epoch, startOffset: offset });
    }
    const covered = entries.filter((e) => e.startOffset <= this.logStartOffset).length;
    if (covered === 0) return entries;
    return [
      { epoch: entries[covered - 1]!.epoch, startOffset: this.logStartOffset },
      ...entries.slice(covered),
    ];
  }
}

type Op =
  | { kind: 'leader'; bump: number; count: number }
  | { kind: 'mark'; bump: number }
  | { kind: 'follower'; bump: number; gap: number; count: number }
  | { kind: 'truncate'; back: number }
  | { kind: 'deleteRecords'; fraction: number }
  | { kind: 'retention' }
  | { kind: 'reopen' }
  | { kind: 'crash' }
  | { kind: 'damage'; how: 'missing' | 'garbage' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('leader' as const),
      bump: fc.nat(1),
      count: fc.integer({ min: 1, max: 4 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('mark' as const), bump: fc.nat(2) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('follower' as const),
      bump: fc.nat(2),
      gap: fc.nat(2),
      count: fc.integer({ min: 1, max: 4 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('truncate' as const),
      back: fc.integer({ min: -1, max: 6 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('deleteRecords' as const),
      fraction: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'retention' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'crash' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('damage' as const),
      how: fc.constantFrom('missing' as const, 'garbage' as const),
    }),
  },
);

/**
 * The cache equals the model, and the file, read as the loader reads it,
 * gives the cache (an epoch at the log end that has not written may wait
 * for the next append: the loader would cut it anyway).
 */
async function check(log: Log, model: Model): Promise<void> {
  model.logStartOffset = log.logStartOffset;
  expect(log.epochs.entries).toEqual(model.expected());
  const loaded = new LeaderEpochCache(readLeaderEpochCheckpoint(log.dir));
  loaded.truncateFromEnd(log.logEndOffset);
  loaded.truncateFromStart(log.logStartOffset);
  expect(loaded.entries).toEqual(
    log.epochs.entries.filter((e) => e.startOffset < log.logEndOffset),
  );
}

describe('leader epochs in the log', () => {
  it('follow appends, truncation, retention, reopen, crash and a lost file, as the model says', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40 }), async (ops) => {
        runs++;
        const dir = tempDir('samsa-epochs-');
        const logger = recording();
        let log = await Log.open(dir, CONFIG, { logger });
        const model = new Model();
        let epoch = 0;
        // Where each batch ends: truncations land there or past the log end, never
        // inside a gap a follower's batch left (see the note on truncation below).
        let ends: number[] = [];
        try {
          for (const op of ops) {
            switch (op.kind) {
              case 'leader': {
                epoch += op.bump;
                const { baseOffset } = log.append(records(op.count, 'l'), {
                  partitionLeaderEpoch: epoch,
                });
                model.events.push({ epoch, offset: baseOffset, mark: false });
                ends.push(log.logEndOffset);
                break;
              }
              case 'mark':
                epoch += op.bump;
                model.events.push({ epoch, offset: log.logEndOffset, mark: true });
                log.epochs.assign(epoch, log.logEndOffset);
                break;
              case 'follower': {
                epoch += op.bump;
                const baseOffset = log.logEndOffset + op.gap;
                log.appendBatch(leaderBatch(baseOffset, op.count, epoch), { assignOffsets: false });
                model.events.push({ epoch, offset: baseOffset, mark: false });
                ends.push(log.logEndOffset);
                break;
              }
              case 'truncate': {
                // Not into a gap: the log then keeps a log end offset past its last batch, and a
                // roll there leaves segments that do not touch, which the loader drops as damage
                // (a limit of log.ts/log-loader.ts, reported, not of the epochs).
                const target = op.back < 0 ? log.logEndOffset + 1 : (ends.at(-1 - op.back) ?? 0);
                // At or below the log start the log is emptied, and so is the cache (Kafka's truncateFullyAndStartAt).
                const emptied = target < log.logEndOffset && target <= log.logStartOffset;
                log.truncateTo(target);
                if (emptied) model.events = [];
                else model.cutFromEnd(log.logEndOffset);
                ends = ends.filter((end) => end <= log.logEndOffset);
                break;
              }
              case 'deleteRecords': {
                const span = log.logEndOffset - log.logStartOffset;
                await log.deleteRecordsBefore(log.logStartOffset + Math.floor(span * op.fraction));
                break;
              }
              case 'retention':
                await log.enforceRetention();
                break;
              case 'reopen':
                await log.close();
                log = await Log.open(dir, CONFIG, { logger });
                model.cutFromEnd(log.logEndOffset); // an epoch that has not written goes, as in Kafka's loader
                break;
              case 'crash':
                log.abandon();
                log = await Log.open(dir, CONFIG, { logger });
                model.cutFromEnd(log.logEndOffset);
                break;
              case 'damage': {
                await log.close();
                const path = join(dir, LEADER_EPOCH_CHECKPOINT_FILE);
                if (op.how === 'missing') rmSync(path, { force: true });
                else writeFileSync(path, '0\n2\n1 x\n');
                const before = logger.lines.length;
                log = await Log.open(dir, CONFIG, { logger });
                model.rebuilt(log.segments[0]!.baseOffset);
                const said = logger.lines.slice(before).join('\n');
                if (op.how === 'garbage')
                  expect(said).toMatch(/warn .*corrupt.*rebuilt the leader epoch cache/);
                else if (log.size > 0) expect(said).toMatch(/missing: rebuilt/);
                break;
              }
            }
            await check(log, model);
          }
        } finally {
          await log.close();
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: 200 },
    );
    expect(runs).toBe(200);
  }, 120_000);
});

describe('stamping and keeping epochs', () => {
  it('stamps the epoch into the header of a leader append; the CRC still holds', async () => {
    const log = await Log.open(tempDir());
    const batch = encodeBatch(records(2, 'a'), { timestamp: 5 });
    expect(batch.readInt32BE(12)).toBe(-1); // a producer's batch carries no epoch
    log.appendBatch(batch, { leaderEpoch: 7 });
    const [read] = decodeBatches(log.read(0));
    expect(read!.partitionLeaderEpoch).toBe(7);
    const bytes = log.read(0);
    expect(() => verifyBatch(bytes, 0, bytes.length)).not.toThrow();
    expect(log.epochs.entries).toEqual([{ epoch: 7, startOffset: 0 }]);
    await log.close();
  });

  it('keeps a follower batch exactly as the leader sent it, offsets and epoch', async () => {
    const log = await Log.open(tempDir());
    const sent = leaderBatch(10, 3, 4);
    log.appendBatch(Buffer.from(sent), { assignOffsets: false });
    expect(log.read(10).equals(sent)).toBe(true);
    expect(log.logEndOffset).toBe(13);
    expect(log.epochs.entries).toEqual([{ epoch: 4, startOffset: 10 }]);
    await log.close();
  });

  it('does not enter unstamped batches (a producer epoch of -1)', async () => {
    const log = await Log.open(tempDir());
    log.append(records(3, 'x'));
    expect(log.epochs.entries).toEqual([]);
    await log.close();
  });

  it('cuts an epoch that led without writing when truncating to or past the end (Kafka does too)', async () => {
    const log = await Log.open(tempDir());
    log.append(records(2, 'a'), { partitionLeaderEpoch: 0 });
    log.epochs.assign(1, log.logEndOffset); // became leader of epoch 1, then lost it before writing
    expect(log.epochs.latestEpoch).toBe(1);
    log.truncateTo(100);
    expect(log.epochs.entries).toEqual([{ epoch: 0, startOffset: 0 }]);
    expect(readLeaderEpochCheckpoint(log.dir)).toEqual([{ epoch: 0, startOffset: 0 }]);
    await log.close();
  });

  it('writes the entry before the first batch of its epoch (the file never lags the log)', async () => {
    const dir = tempDir();
    const log = await Log.open(dir);
    log.append(records(1, 'a'), { partitionLeaderEpoch: 3 });
    log.append(records(1, 'b'), { partitionLeaderEpoch: 3 });
    log.append(records(1, 'c'), { partitionLeaderEpoch: 5 });
    expect(readFileSync(join(dir, LEADER_EPOCH_CHECKPOINT_FILE), 'utf8')).toBe('0\n2\n3 0\n5 2\n');
    log.abandon();
    const again = await Log.open(dir);
    expect(again.epochs.entries).toEqual([
      { epoch: 3, startOffset: 0 },
      { epoch: 5, startOffset: 2 },
    ]);
    expect(again.epochs.endOffsetFor(3, again.logEndOffset)).toEqual({ epoch: 3, endOffset: 2 });
    await again.close();
  });
});

describe('the leader-epoch-checkpoint file when damaged', () => {
  it('opens whatever a cut leaves: rebuilt with a warning, or the entries the cut text still holds', async () => {
    const dir = tempDir();
    let log = await Log.open(dir, { 'segment.bytes': 300 });
    for (const epoch of [0, 0, 2, 2, 5, 7, 7])
      log.append(records(2, 'x'), { partitionLeaderEpoch: epoch });
    const entries = log.epochs.entries;
    await log.close();
    const path = join(dir, LEADER_EPOCH_CHECKPOINT_FILE);
    const full = readFileSync(path, 'utf8');
    expect(full).toBe('0\n4\n0 0\n2 4\n5 8\n7 10\n');
    for (let cut = 0; cut < full.length; cut++) {
      writeFileSync(path, full.slice(0, cut));
      const logger = recording();
      log = await Log.open(dir, { 'segment.bytes': 300 }, { logger });
      const warned = logger.lines.some((l) => /warn .*rebuilt the leader epoch cache/.test(l));
      if (warned) expect(log.epochs.entries).toEqual(entries);
      else {
        // Kafka's format has no checksum: a cut inside the last number still parses.
        expect(log.epochs.entries.slice(0, -1)).toEqual(entries.slice(0, -1));
        expect(log.epochs.latestEpoch).toBe(entries.at(-1)!.epoch);
      }
      expect(readLeaderEpochCheckpoint(dir)).toEqual(log.epochs.entries);
      await log.close();
      writeFileSync(path, full);
    }
  });

  it('cuts entries past the log end that a crash left (the file ran ahead), and rewrites the file before the next append', async () => {
    const dir = tempDir();
    const log = await Log.open(dir);
    log.append(records(3, 'x'), { partitionLeaderEpoch: 1 });
    await log.close();
    const path = join(dir, LEADER_EPOCH_CHECKPOINT_FILE);
    writeFileSync(path, '0\n3\n1 0\n2 3\n4 9\n');
    const again = await Log.open(dir);
    expect(again.epochs.entries).toEqual([{ epoch: 1, startOffset: 0 }]);
    again.append(records(1, 'y')); // unstamped: still, (2, 3) must not come to lie inside the log
    expect(readFileSync(path, 'utf8')).toBe('0\n1\n1 0\n');
    await again.close();
  });

  it('writes nothing for an epoch that has not written yet, and nothing on a plain reopen', async () => {
    const dir = tempDir();
    let log = await Log.open(dir);
    log.epochs.assign(0, 0);
    const path = join(dir, LEADER_EPOCH_CHECKPOINT_FILE);
    expect(existsSync(path)).toBe(false);
    log.append(records(1, 'x'), { partitionLeaderEpoch: 0 });
    expect(readFileSync(path, 'utf8')).toBe('0\n1\n0 0\n');
    await log.close();
    const before = statSync(path).mtimeMs;
    log = await Log.open(dir);
    log.epochs.assign(0, log.logEndOffset);
    log.append(records(1, 'y'), { partitionLeaderEpoch: 0 });
    await log.close();
    expect(statSync(path).mtimeMs).toBe(before);
  });
});
