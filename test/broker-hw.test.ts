/**
 * The partition's high watermark and leader epoch in the broker, in process
 * (broker.call): the HW never moves back and never passes the log end offset
 * across produces, follower-style appends, DeleteRecords, restarts and
 * crashes; consumers never fetch a record at or above it; ListOffsets
 * answers it; the `replication-offset-checkpoint` file has Kafka's text
 * format, is restored bounded by each log, and a damaged one is logged and
 * ignored. Leader epochs are stamped into produced batches, fence requests,
 * and survive restarts.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Broker } from '../src/broker/index.js';
import { resolveBrokerConfig } from '../src/broker/config.js';
import { TopicManager } from '../src/broker/topics.js';
import { decodeBatches, encodeBatch, patchBaseOffset } from '../src/log/index.js';
import { ErrorCode } from '../src/protocol/index.js';
import { HIGH_WATERMARK_CHECKPOINT_FILE } from '../src/replication/high-watermark-checkpoint.js';
import { LEADER_EPOCH_CHECKPOINT_FILE } from '../src/replication/leader-epoch-checkpoint.js';
import { batch, fetchBody, produceBody, quiet, recordingLogger, values } from './broker-support.js';
import { tempDir } from './support/temp.js';

const open = (dataDir: string, logger = quiet) => Broker.open({ dataDir, logger });

async function createTopic(broker: Broker, name: string, partitions = 1): Promise<void> {
  await broker.topics.create(name, partitions, {});
}

/** A leader's batch as a follower gets it: offsets from `baseOffset`, stamped `epoch`. */
function copied(baseOffset: number, vals: string[], epoch = 0): Buffer {
  const bytes = encodeBatch(
    vals.map((v) => ({ key: null, value: Buffer.from(v) })),
    { timestamp: 1000, partitionLeaderEpoch: epoch },
  );
  patchBaseOffset(bytes, baseOffset);
  return bytes;
}

async function fetchAt(broker: Broker, topic: string, p: number, offset: number) {
  const res = await broker.call('Fetch', fetchBody(topic, p, offset));
  return res.topics[0]!.partitions[0]!;
}

async function listLatest(broker: Broker, topic: string, p: number) {
  const res = await broker.call('ListOffsets', {
    topics: [{ name: topic, partitions: [{ partitionIndex: p, timestamp: -1 }] }],
  });
  return res.topics[0]!.partitions[0]!;
}

type Op =
  | { kind: 'produce'; p: number; n: number }
  | { kind: 'follower'; p: number; n: number }
  | { kind: 'fetch'; p: number; at: number }
  | { kind: 'deleteRecords'; p: number; at: number }
  | { kind: 'restart' }
  | { kind: 'crash' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('produce' as const),
      p: fc.nat(1),
      n: fc.integer({ min: 1, max: 3 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('follower' as const),
      p: fc.nat(1),
      n: fc.integer({ min: 1, max: 3 }),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('fetch' as const),
      p: fc.nat(1),
      at: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('deleteRecords' as const),
      p: fc.nat(1),
      at: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'crash' as const }) },
);

describe('the high watermark', () => {
  it('never moves back nor passes the log end, and bounds what consumers fetch', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 25 }), async (ops) => {
        runs++;
        let dir = tempDir('samsa-hw-');
        let broker = await open(dir);
        await createTopic(broker, 't', 2);
        const seen = [0, 0];
        const lagging = [false, false]; // a follower-style append since the last leader append
        const leftOpen: Broker[] = [];
        try {
          for (const op of ops) {
            switch (op.kind) {
              case 'produce': {
                const res = await broker.call(
                  'Produce',
                  produceBody('t', op.p, batch(Array<string>(op.n).fill('v'))),
                );
                expect(res.topics[0]!.partitions[0]!.errorCode).toBe(0);
                break;
              }
              case 'follower': {
                const partition = broker.topics.partition('t', op.p)!;
                const vals = Array.from({ length: op.n }, (_, i) => `f${i}`);
                partition.appendAsFollower(copied(partition.logEndOffset, vals));
                break;
              }
              case 'fetch': {
                const partition = broker.topics.partition('t', op.p)!;
                const { logStartOffset: lso, logEndOffset: leo } = partition;
                const offset = lso + Math.floor((leo - lso) * op.at);
                const answer = await fetchAt(broker, 't', op.p, offset);
                expect(answer.errorCode).toBe(0);
                expect(answer.highWatermark).toBe(partition.highWatermark);
                const offsets = decodeBatches(answer.records).flatMap((b) =>
                  b.records.map((r) => r.offset),
                );
                for (const o of offsets) expect(o).toBeLessThan(answer.highWatermark);
                if (offset < answer.highWatermark) expect(offsets.length).toBeGreaterThan(0);
                expect((await listLatest(broker, 't', op.p)).offset).toBe(answer.highWatermark);
                break;
              }
              case 'deleteRecords': {
                const partition = broker.topics.partition('t', op.p)!;
                const target = Math.floor(partition.highWatermark * op.at);
                const res = await broker.call('DeleteRecords', {
                  topics: [{ name: 't', partitions: [{ partitionIndex: op.p, offset: target }] }],
                  timeoutMs: 1000,
                });
                expect(res.topics[0]!.partitions[0]!.errorCode).toBe(0);
                break;
              }
              case 'restart':
                await broker.close();
                broker = await open(dir);
                break;
              case 'crash': {
                // A process killed now leaves the files as they are (the page cache survives).
                const copy = tempDir('samsa-hw-crash-');
                cpSync(dir, copy, { recursive: true });
                leftOpen.push(broker);
                dir = copy;
                broker = await open(dir);
                break;
              }
            }
            for (const p of [0, 1]) {
              const partition = broker.topics.partition('t', p)!;
              const hw = partition.highWatermark;
              expect(hw).toBeGreaterThanOrEqual(seen[p]!);
              expect(hw).toBeLessThanOrEqual(partition.logEndOffset);
              expect(hw).toBeGreaterThanOrEqual(partition.logStartOffset);
              // The only in-sync replica: anything it appended as leader, or held at open, is committed.
              if (op.kind === 'follower' && op.p === p) lagging[p] = true;
              if (op.kind === 'produce' && op.p === p) lagging[p] = false;
              if (op.kind === 'restart' || op.kind === 'crash') lagging[p] = false;
              if (!lagging[p]) expect(hw).toBe(partition.logEndOffset);
              seen[p] = hw;
            }
          }
        } finally {
          await broker.close();
          await Promise.all(leftOpen.map((b) => b.close()));
        }
      }),
      { numRuns: 100 },
    );
    expect(runs).toBe(100);
  }, 120_000);

  it('hides what a follower-style append added until the HW passes it', async () => {
    const broker = await open(tempDir());
    await createTopic(broker, 't');
    await broker.call('Produce', produceBody('t', 0, batch(['a', 'b'], 1000)));
    const partition = broker.topics.partition('t', 0)!;
    partition.appendAsFollower(copied(2, ['c', 'd'], 0));
    expect([partition.highWatermark, partition.logEndOffset]).toEqual([2, 4]);
    const all = await fetchAt(broker, 't', 0, 0);
    expect(values(all.records)).toEqual(['a', 'b']);
    expect(all.highWatermark).toBe(2);
    expect((await fetchAt(broker, 't', 0, 3)).records.length).toBe(0); // in [HW, LEO]: empty, no error
    expect((await fetchAt(broker, 't', 0, 5)).errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
    expect((await listLatest(broker, 't', 0)).offset).toBe(2);
    const del = await broker.call('DeleteRecords', {
      topics: [{ name: 't', partitions: [{ partitionIndex: 0, offset: 3 }] }],
      timeoutMs: 1000,
    });
    expect(del.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
    // With the leader's HW from a fetch answer, a follower's HW is min(it, its log end).
    partition.appendAsFollower(copied(4, ['e'], 0), 3);
    expect(partition.highWatermark).toBe(3);
    // As leader and the only in-sync replica, the next append commits everything.
    await broker.call('Produce', produceBody('t', 0, batch(['f'], 1000))); // one segment: one read
    expect(partition.highWatermark).toBe(6);
    expect(values((await fetchAt(broker, 't', 0, 0)).records)).toEqual([
      'a',
      'b',
      'c',
      'd',
      'e',
      'f',
    ]);
    await broker.close();
  });

  it('writes replication-offset-checkpoint in Kafka’s format at close', async () => {
    const dir = tempDir();
    const broker = await open(dir);
    await createTopic(broker, 'a', 2);
    await createTopic(broker, 'b');
    await broker.call('Produce', produceBody('a', 0, batch(['1', '2', '3'])));
    await broker.call('Produce', produceBody('b', 0, batch(['1'])));
    await broker.close();
    expect(readFileSync(join(dir, HIGH_WATERMARK_CHECKPOINT_FILE), 'utf8')).toBe(
      '0\n3\na 0 3\na 1 0\nb 0 1\n',
    );
  });

  it('writes it on a schedule, atomically, and drops a deleted topic', async () => {
    const dir = tempDir();
    const topics = await TopicManager.open({
      dataDir: dir,
      config: resolveBrokerConfig({}),
      logger: quiet,
      clock: Date.now,
      highWatermarkCheckpointIntervalMs: 10,
    });
    await topics.create('x', 1, {});
    await topics.create('y', 1, {});
    topics.partition('x', 0)!.append(batch(['1', '2']));
    const path = join(dir, HIGH_WATERMARK_CHECKPOINT_FILE);
    await expect
      .poll(() => readFileSync(path, 'utf8'), { timeout: 2000 })
      .toBe('0\n2\nx 0 2\ny 0 0\n');
    await topics.delete('y');
    expect(readFileSync(path, 'utf8')).toBe('0\n1\nx 0 2\n');
    await topics.close();
  });

  it('restores it bounded by the log, and says so when the log holds more', async () => {
    const dir = tempDir();
    let broker = await open(dir);
    await createTopic(broker, 't', 2);
    await broker.call('Produce', produceBody('t', 0, batch(['1', '2', '3'])));
    await broker.call('Produce', produceBody('t', 1, batch(['1'])));
    await broker.close();
    // As if a crash came before the last checkpoint: one behind, one (impossibly) ahead.
    writeFileSync(join(dir, HIGH_WATERMARK_CHECKPOINT_FILE), '0\n2\nt 0 1\nt 1 99\n');
    const logger = recordingLogger();
    broker = await open(dir, logger);
    expect(logger.lines.join('\n')).toMatch(/t-0: high watermark 1 in the checkpoint, 3 now/);
    expect(logger.lines.join('\n')).toMatch(/t-1: high watermark 99 in the checkpoint, 1 now/);
    expect(broker.topics.partition('t', 0)!.highWatermark).toBe(3);
    expect(broker.topics.partition('t', 1)!.highWatermark).toBe(1);
    await broker.close();
  });

  it('ignores a damaged checkpoint with a warning, whatever the damage', async () => {
    const dir = tempDir();
    let broker = await open(dir);
    await createTopic(broker, 't');
    await broker.call('Produce', produceBody('t', 0, batch(['1', '2'])));
    await broker.close();
    const path = join(dir, HIGH_WATERMARK_CHECKPOINT_FILE);
    const full = readFileSync(path, 'utf8');
    const damaged = ['garbage', '1\n1\nt 0 2\n', '0\n2\nt 0 2\n', '0\n1\nt 0 x\n'];
    for (let cut = 0; cut < full.length - 1; cut++) damaged.push(full.slice(0, cut));
    for (const text of damaged) {
      writeFileSync(path, text);
      const logger = recordingLogger();
      broker = await open(dir, logger);
      const complete = text === full.slice(0, -1); // only the final newline is missing
      if (!complete)
        expect(logger.lines.join('\n')).toMatch(/warn .*offset checkpoint .* is corrupt/);
      expect(broker.topics.partition('t', 0)!.highWatermark).toBe(2);
      await broker.close();
      expect(readFileSync(path, 'utf8')).toBe(full);
    }
  });
});

describe('the leader epoch', () => {
  it('is stamped into produced batches, fences requests, and survives restarts', async () => {
    const dir = tempDir();
    let broker = await open(dir);
    await createTopic(broker, 't');
    const epochOf = async () => {
      const md = await broker.call('Metadata', { topics: [{ name: 't' }] });
      return md.topics[0]!.partitions[0]!.leaderEpoch;
    };
    expect(await epochOf()).toBe(0);
    await broker.call('Produce', produceBody('t', 0, batch(['a'])));
    await broker.topics.becomeLeader('t', 0, 3);
    await broker.call('Produce', produceBody('t', 0, batch(['b'])));
    expect(await epochOf()).toBe(3);
    const fetched = decodeBatches((await fetchAt(broker, 't', 0, 0)).records);
    expect(fetched.map((b) => b.partitionLeaderEpoch)).toEqual([0, 3]);
    expect((await listLatest(broker, 't', 0)).leaderEpoch).toBe(3);
    const withEpoch = async (currentLeaderEpoch: number) => {
      const body = fetchBody('t', 0, 0);
      body.topics[0]!.partitions[0]!.currentLeaderEpoch = currentLeaderEpoch;
      return (await broker.call('Fetch', body)).topics[0]!.partitions[0]!.errorCode;
    };
    expect(await withEpoch(3)).toBe(0);
    expect(await withEpoch(2)).toBe(ErrorCode.FENCED_LEADER_EPOCH);
    expect(await withEpoch(4)).toBe(ErrorCode.UNKNOWN_LEADER_EPOCH);
    await expect(broker.topics.becomeLeader('t', 0, 2)).rejects.toThrow(TypeError);
    expect(readFileSync(join(dir, 't-0', LEADER_EPOCH_CHECKPOINT_FILE), 'utf8')).toBe(
      '0\n2\n0 0\n3 1\n',
    );
    // An epoch that has not written yet is in no batch: topics.json keeps it.
    await broker.topics.becomeLeader('t', 0, 5);
    await broker.close();
    broker = await open(dir);
    expect(await epochOf()).toBe(5);
    expect(broker.topics.partition('t', 0)!.log.epochs.entries).toEqual([
      { epoch: 0, startOffset: 0 },
      { epoch: 3, startOffset: 1 },
      { epoch: 5, startOffset: 2 },
    ]);
    await broker.close();
  });
});
