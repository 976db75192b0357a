/**
 * OffsetsForLeaderEpoch in the broker, in process (broker.call): answered
 * from the partition's leader epoch cache as Kafka answers it, for a log
 * whose epochs changed (TopicManager.becomeLeader, produce between), also
 * after DeleteRecords and a restart; fenced by currentLeaderEpoch.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Broker } from '../src/broker/index.js';
import { ErrorCode } from '../src/protocol/index.js';
import { batch, produceBody, quiet } from './broker-support.js';
import { tempDir } from './support/temp.js';

const open = (dataDir: string) => Broker.open({ dataDir, logger: quiet });
let broker: Broker | undefined;
afterEach(async () => {
  await broker?.close();
  broker = undefined;
});

async function produce(b: Broker, n: number): Promise<void> {
  const vals = Array.from({ length: n }, (_, i) => `v${i}`);
  const res = await b.call('Produce', produceBody('t', 0, batch(vals)));
  expect(res.topics[0]!.partitions[0]!.errorCode).toBe(0);
}

/** Epoch 0 writes 0–1, epoch 2 writes 2–4, epoch 5 writes 5: the log end offset is 6. */
async function withEpochs(dataDir = tempDir('samsa-epochs-')): Promise<Broker> {
  const b = await open(dataDir);
  await b.topics.create('t', 1, {});
  await produce(b, 2);
  await b.topics.becomeLeader('t', 0, 2);
  await produce(b, 3);
  await b.topics.becomeLeader('t', 0, 5);
  await produce(b, 1);
  return b;
}

async function ask(
  b: Broker,
  leaderEpoch: number,
  o: { currentLeaderEpoch?: number; topic?: string; partitionIndex?: number } = {},
) {
  const res = await b.call('OffsetsForLeaderEpoch', {
    replicaId: 1,
    topics: [
      {
        name: o.topic ?? 't',
        partitions: [
          {
            partitionIndex: o.partitionIndex ?? 0,
            leaderEpoch,
            ...(o.currentLeaderEpoch === undefined
              ? {}
              : { currentLeaderEpoch: o.currentLeaderEpoch }),
          },
        ],
      },
    ],
  });
  expect(res.topics[0]!.name).toBe(o.topic ?? 't');
  return res.topics[0]!.partitions[0]!;
}

const answer = (leaderEpoch: number, endOffset: number, errorCode = 0) => ({
  errorCode,
  partitionIndex: 0,
  leaderEpoch,
  endOffset,
});

describe('OffsetsForLeaderEpoch', () => {
  it('answers the largest epoch ≤ the one asked and where it ends; UNDEFINED where Kafka does', async () => {
    broker = await withEpochs();
    expect(broker.topics.partition('t', 0)!.log.epochs.entries).toEqual([
      { epoch: 0, startOffset: 0 },
      { epoch: 2, startOffset: 2 },
      { epoch: 5, startOffset: 5 },
    ]);
    expect(await ask(broker, 0)).toEqual(answer(0, 2));
    expect(await ask(broker, 1)).toEqual(answer(0, 2)); // never led here: the largest below it
    expect(await ask(broker, 2)).toEqual(answer(2, 5));
    expect(await ask(broker, 4)).toEqual(answer(2, 5));
    expect(await ask(broker, 5)).toEqual(answer(5, 6)); // the latest ends at the log end offset
    expect(await ask(broker, 6)).toEqual(answer(-1, -1)); // above the latest: cannot say
    expect(await ask(broker, -1)).toEqual(answer(-1, -1));
  });

  it('places a leader epoch that has not written yet at the log end offset', async () => {
    broker = await withEpochs();
    await broker.topics.becomeLeader('t', 0, 7);
    expect(await ask(broker, 5)).toEqual(answer(5, 6));
    expect(await ask(broker, 6)).toEqual(answer(5, 6));
    expect(await ask(broker, 7)).toEqual(answer(7, 6));
    expect(await ask(broker, 8)).toEqual(answer(-1, -1));
  });

  it('a new topic answers its epoch 0, ending at offset 0', async () => {
    broker = await open(tempDir('samsa-epochs-'));
    await broker.topics.create('t', 1, {});
    expect(await ask(broker, 0)).toEqual(answer(0, 0));
    expect(await ask(broker, 1)).toEqual(answer(-1, -1));
  });

  it('an epoch older than every entry is answered as asked, ending at the first entry left', async () => {
    broker = await withEpochs();
    const res = await broker.call('DeleteRecords', {
      topics: [{ name: 't', partitions: [{ partitionIndex: 0, offset: 3 }] }],
      timeoutMs: 1000,
    });
    expect(res.topics[0]!.partitions[0]!).toMatchObject({ errorCode: 0, lowWatermark: 3 });
    // Epoch 0 is gone; epoch 2 now starts at the log start offset (KAFKA-7415).
    expect(await ask(broker, 0)).toEqual(answer(0, 3));
    expect(await ask(broker, 1)).toEqual(answer(1, 3));
    expect(await ask(broker, 2)).toEqual(answer(2, 5));
  });

  it('gives the same answers after a restart', async () => {
    const dataDir = tempDir('samsa-epochs-');
    const before = await withEpochs(dataDir);
    const asked = [0, 1, 2, 5, 6];
    const answers = [];
    for (const e of asked) answers.push(await ask(before, e));
    await before.close();
    broker = await open(dataDir);
    for (const [i, e] of asked.entries()) expect(await ask(broker, e)).toEqual(answers[i]);
  });

  it('fences on currentLeaderEpoch; -1 or absent is not checked', async () => {
    broker = await withEpochs();
    expect(await ask(broker, 2, { currentLeaderEpoch: 5 })).toEqual(answer(2, 5));
    expect(await ask(broker, 2, { currentLeaderEpoch: -1 })).toEqual(answer(2, 5));
    expect(await ask(broker, 2, { currentLeaderEpoch: 4 })).toEqual(
      answer(-1, -1, ErrorCode.FENCED_LEADER_EPOCH),
    );
    expect(await ask(broker, 2, { currentLeaderEpoch: 6 })).toEqual(
      answer(-1, -1, ErrorCode.UNKNOWN_LEADER_EPOCH),
    );
  });

  it('answers UNKNOWN_TOPIC_OR_PARTITION per partition, the others still answered', async () => {
    broker = await withEpochs();
    expect(await ask(broker, 2, { topic: 'nope' })).toEqual(
      answer(-1, -1, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION),
    );
    const res = await broker.call('OffsetsForLeaderEpoch', {
      topics: [
        {
          name: 't',
          partitions: [
            { partitionIndex: 1, leaderEpoch: 2 },
            { partitionIndex: 0, leaderEpoch: 2 },
          ],
        },
      ],
    });
    expect(res.topics[0]!.partitions).toEqual([
      { ...answer(-1, -1, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION), partitionIndex: 1 },
      answer(2, 5),
    ]);
  });

  it('is listed by ApiVersions', async () => {
    broker = await open(tempDir('samsa-epochs-'));
    const res = await broker.call('ApiVersions', {});
    expect(res.apis).toContainEqual({ api: 'OffsetsForLeaderEpoch', minVersion: 0, maxVersion: 0 });
  });
});
