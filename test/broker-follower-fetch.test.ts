/**
 * Fetch from a follower, in process (broker.call): a replicaId ≥ 0 reads up
 * to the log end offset, past the high watermark, while a consumer never
 * reads a record at or above it; a lastFetchedEpoch whose epoch ends earlier
 * in the leader's log is answered with divergingEpoch (KIP-595), after which
 * a follower that truncates as src/replication/divergence.ts says ends with
 * the leader's log; the leader remembers each follower's fetch state.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Broker } from '../src/broker/index.js';
import type { Partition } from '../src/broker/partition.js';
import { decodeRecords, encodeBatch, patchBaseOffset } from '../src/log/index.js';
import { ErrorCode, type RequestBody } from '../src/protocol/index.js';
import { offsetTruncationState } from '../src/replication/divergence.js';
import { LeaderEpochCache } from '../src/replication/leader-epoch-cache.js';
import { batch, fetchBody, produceBody, quiet, values } from './broker-support.js';
import { tempDir } from './support/temp.js';

let now = 1_000;
const opened: Broker[] = [];
async function open(): Promise<Broker> {
  const b = await Broker.open({
    dataDir: tempDir('samsa-follower-'),
    logger: quiet,
    clock: () => now,
  });
  opened.push(b);
  await b.topics.create('t', 1, {});
  return b;
}
afterEach(async () => {
  await Promise.all(opened.splice(0).map((b) => b.close()));
});

const partitionOf = (b: Broker): Partition => b.topics.partition('t', 0)!;

/** A leader's batch as a follower gets it: offsets from `baseOffset`, stamped `epoch`. */
function copied(baseOffset: number, vals: string[], epoch: number): Buffer {
  const bytes = encodeBatch(
    vals.map((v) => ({ key: null, value: Buffer.from(v) })),
    { timestamp: 1000, partitionLeaderEpoch: epoch },
  );
  patchBaseOffset(bytes, baseOffset);
  return bytes;
}

/** Every record value in the partition's log, read segment by segment. */
function allValues(p: Partition): string[] {
  const out: string[] = [];
  for (let offset = p.logStartOffset; offset < p.logEndOffset;) {
    const records = decodeRecords(p.log.read(offset)).filter((r) => r.offset >= offset);
    if (records.length === 0) break;
    out.push(...records.map((r) => r.value!.toString()));
    offset = records.at(-1)!.offset + 1;
  }
  return out;
}

type FetchPartition = RequestBody<'Fetch'>['topics'][number]['partitions'][number];

async function fetchAt(
  b: Broker,
  fetchOffset: number,
  o: { replicaId?: number; maxWaitMs?: number; minBytes?: number } & Partial<FetchPartition> = {},
) {
  const { replicaId, maxWaitMs, minBytes, ...partition } = o;
  const body = fetchBody('t', 0, fetchOffset, { maxWaitMs, minBytes });
  Object.assign(body.topics[0]!.partitions[0]!, partition);
  const res = await b.call('Fetch', replicaId === undefined ? body : { ...body, replicaId });
  return res.topics[0]!.partitions[0]!;
}

/** Epoch 0 writes 0–1, epoch 2 writes 2–4: the log end offset and the HW are 5. */
async function leaderWithEpochs(): Promise<Broker> {
  const leader = await open();
  await leader.call('Produce', produceBody('t', 0, batch(['a0', 'a1'])));
  await leader.topics.becomeLeader('t', 0, 2);
  await leader.call('Produce', produceBody('t', 0, batch(['a2', 'a3', 'a4'])));
  return leader;
}

describe('a follower reads to the log end offset, a consumer to the high watermark', () => {
  it('past the HW for replicaId ≥ 0 only', async () => {
    const b = await open();
    const p = partitionOf(b);
    p.appendAsFollower(copied(0, ['a', 'b', 'c'], 0)); // no leader HW: the HW stays 0
    expect([p.highWatermark, p.logEndOffset]).toEqual([0, 3]);

    for (const replicaId of [undefined, -1, -2]) {
      const consumer = await fetchAt(b, 0, { replicaId });
      expect(consumer).toMatchObject({ errorCode: 0, highWatermark: 0 });
      expect(consumer.records.length).toBe(0);
    }
    const follower = await fetchAt(b, 0, { replicaId: 1 });
    expect(follower).toMatchObject({ errorCode: 0, highWatermark: 0, lastStableOffset: 0 });
    expect(values(follower.records)).toEqual(['a', 'b', 'c']);
    expect((await fetchAt(b, 3, { replicaId: 1 })).records.length).toBe(0);
    expect((await fetchAt(b, 4, { replicaId: 1 })).errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);

    // The leader's HW arrives: a consumer reads the batches wholly below it, never more.
    p.appendAsFollower(copied(3, ['d'], 0), 3);
    expect(p.highWatermark).toBe(3);
    expect(values((await fetchAt(b, 0)).records)).toEqual(['a', 'b', 'c']);
    expect((await fetchAt(b, 3)).records.length).toBe(0);
    expect(values((await fetchAt(b, 3, { replicaId: 1 })).records)).toEqual(['d']);
  });

  it('a waiting follower fetch is woken by records the HW has not reached', async () => {
    const b = await open();
    const p = partitionOf(b);
    const waiting = fetchAt(b, 0, { replicaId: 1, maxWaitMs: 10_000, minBytes: 1 });
    const consumer = fetchAt(b, 0, { maxWaitMs: 50, minBytes: 1 });
    p.appendAsFollower(copied(0, ['z'], 0));
    const answer = await waiting;
    expect(values(answer.records)).toEqual(['z']);
    expect(answer.highWatermark).toBe(0);
    expect((await consumer).records.length).toBe(0);
  });
});

describe('lastFetchedEpoch and divergingEpoch', () => {
  it('answers divergingEpoch, and no records, when the epoch ended earlier in the leader', async () => {
    const leader = await leaderWithEpochs();
    const diverging = { epoch: 0, endOffset: 2 };
    // Epoch 1 never wrote here: the largest epoch ≤ 1 is 0, which ended at 2.
    const never = await fetchAt(leader, 4, { replicaId: 1, lastFetchedEpoch: 1 });
    expect(never).toMatchObject({ errorCode: 0, highWatermark: 5, divergingEpoch: diverging });
    expect(never.records.length).toBe(0);
    // The follower holds offset 2 from epoch 0: the leader's epoch 0 ended before it.
    const past = await fetchAt(leader, 3, { replicaId: 1, lastFetchedEpoch: 0 });
    expect(past).toMatchObject({ errorCode: 0, divergingEpoch: diverging });
    // A consumer's lastFetchedEpoch is checked too, as Kafka does.
    expect(await fetchAt(leader, 4, { lastFetchedEpoch: 1 })).toMatchObject({
      divergingEpoch: diverging,
    });
    // Answered at once, whatever minBytes and maxWaitMs ask.
    const started = Date.now();
    await fetchAt(leader, 4, { replicaId: 1, lastFetchedEpoch: 1, maxWaitMs: 10_000, minBytes: 1 });
    expect(Date.now() - started).toBeLessThan(5_000);
    // A diverging fetch says nothing of where the follower's log ends.
    expect(partitionOf(leader).followers.has(1)).toBe(false);
  });

  it('reads as usual when the epoch agrees; -1 or absent is not checked', async () => {
    const leader = await leaderWithEpochs();
    const same = await fetchAt(leader, 2, { replicaId: 1, lastFetchedEpoch: 0 });
    expect(same.divergingEpoch).toBeUndefined();
    expect(values(same.records)).toEqual(['a2', 'a3', 'a4']);
    const atEnd = await fetchAt(leader, 5, { replicaId: 1, lastFetchedEpoch: 2 });
    expect(atEnd).toMatchObject({ errorCode: 0, highWatermark: 5 });
    expect(atEnd.divergingEpoch).toBeUndefined();
    for (const lastFetchedEpoch of [-1, undefined]) {
      const unchecked = await fetchAt(leader, 4, { replicaId: 1, lastFetchedEpoch });
      expect(unchecked.errorCode).toBe(0);
      expect(unchecked.divergingEpoch).toBeUndefined();
      expect(unchecked.records.length).toBeGreaterThan(0);
    }
  });

  it('answers OFFSET_OUT_OF_RANGE for an epoch the leader cannot place', async () => {
    const leader = await leaderWithEpochs();
    const answer = await fetchAt(leader, 5, { replicaId: 1, lastFetchedEpoch: 3 });
    expect(answer).toMatchObject({ errorCode: ErrorCode.OFFSET_OUT_OF_RANGE, highWatermark: -1 });
    expect(answer.divergingEpoch).toBeUndefined();
  });

  it('a follower that truncates by the answer ends with the leader’s log', async () => {
    const leader = await leaderWithEpochs();
    const follower = await open();
    const f = partitionOf(follower);
    // It has epoch 0's records, then two of an epoch-1 leader that never got them committed.
    f.appendAsFollower(copied(0, ['a0', 'a1'], 0));
    f.appendAsFollower(copied(2, ['x2', 'x3'], 1));
    let fetchOffset = f.logEndOffset;
    let lastFetchedEpoch = f.log.epochs.latestEpoch!;
    expect([fetchOffset, lastFetchedEpoch]).toEqual([4, 1]);

    for (let round = 0; round < 5; round++) {
      const answer = await fetchAt(leader, fetchOffset, {
        replicaId: 1,
        currentLeaderEpoch: 2,
        lastFetchedEpoch,
      });
      expect(answer.errorCode).toBe(0);
      if (answer.divergingEpoch !== undefined) {
        const state = offsetTruncationState(answer.divergingEpoch, {
          epochCache: new LeaderEpochCache(f.log.epochs.entries),
          logEndOffset: f.logEndOffset,
          highWatermark: f.highWatermark,
        });
        f.truncateTo(state.offset);
      } else if (answer.records.length > 0) {
        f.appendAsFollower(answer.records, answer.highWatermark);
      } else break;
      fetchOffset = f.logEndOffset;
      lastFetchedEpoch = f.log.epochs.latestEpoch!;
    }
    expect(f.log.epochs.entries).toEqual(partitionOf(leader).log.epochs.entries);
    expect([f.logEndOffset, f.highWatermark]).toEqual([5, 5]);
    expect(allValues(f)).toEqual(allValues(partitionOf(leader)));
    expect(allValues(f)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
  });
});

describe('the follower fetch state', () => {
  it('is remembered from each follower fetch that does not diverge', async () => {
    const leader = await leaderWithEpochs();
    const p = partitionOf(leader);
    now = 2_000;
    await fetchAt(leader, 2, { replicaId: 1, logStartOffset: 0, lastFetchedEpoch: 0 });
    expect(p.followers.get(1)).toMatchObject({
      logStartOffset: 0,
      logEndOffset: 2,
      lastFetchLeaderLogEndOffset: 5,
      lastFetchTimeMs: 2_000,
    });
    now = 3_000;
    await fetchAt(leader, 5, { replicaId: 1, logStartOffset: 0 });
    expect(p.followers.get(1)).toMatchObject({ logEndOffset: 5, lastCaughtUpTimeMs: 3_000 });
    await fetchAt(leader, 0); // consumers are not followers
    await fetchAt(leader, 0, { replicaId: -2 });
    expect([...p.followers.keys()]).toEqual([1]);
  });
});
