/**
 * Admin.describeReplicas: the HW from each leader (ListOffsets as a
 * consumer, replicaId -1) and each replica's log end offset from its own
 * broker (replicaId -2), one request per broker. Against fake brokers for a
 * three-replica picture with a dead and an offline replica (unknown, not an
 * error), and against an embedded broker alone (LEO = HW).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin, Producer, type RunningBroker, startBroker } from '../src/index.js';
import type { Request } from '../src/protocol/index.js';
import { type FakeBroker, deadPort, startFakeBroker } from './client-fake-broker.js';

type ListOffsetsBody = Extract<Request, { api: 'ListOffsets' }>['body'];

describe('describeReplicas against fake brokers', () => {
  let one: FakeBroker;
  let two: FakeBroker;
  let dead: number;

  /** What broker `id` says its LATEST is for replicaId -2 (LEO) and -1 (HW); undefined: an error. */
  const answers: Record<number, Record<number, Record<number, number | undefined>>> = {
    1: { [-2]: { 0: 120 }, [-1]: { 0: 110 } },
    2: { [-2]: { 0: 97, 1: undefined } },
  };

  const handler = (id: number) => (request: Request) => {
    if (request.api === 'Metadata') return { body: metadata() };
    if (request.api !== 'ListOffsets') return null;
    const body = request.body as ListOffsetsBody;
    const said = answers[id]![body.replicaId ?? -1] ?? {};
    return {
      body: {
        topics: body.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => {
            const offset = said[p.partitionIndex];
            return {
              partitionIndex: p.partitionIndex,
              errorCode: offset === undefined ? 6 : 0,
              timestamp: -1,
              offset: offset ?? -1,
              leaderEpoch: 3,
            };
          }),
        })),
      },
    };
  };

  /** Brokers 1 and 2 answer, 3 is listed live but nothing listens, 4 is not live. */
  function metadata() {
    const partition = (
      index: number,
      leaderId: number,
      replicas: number[],
      isr: number[],
      offline: number[],
    ) => ({
      errorCode: leaderId < 0 ? 5 : 0,
      partitionIndex: index,
      leaderId,
      leaderEpoch: 3,
      replicaNodes: replicas,
      isrNodes: isr,
      offlineReplicas: offline,
    });
    return {
      brokers: [
        { nodeId: 1, host: one.host, port: one.port, rack: null },
        { nodeId: 2, host: two.host, port: two.port, rack: null },
        { nodeId: 3, host: '127.0.0.1', port: dead, rack: null },
      ],
      clusterId: 'fake',
      controllerId: 1,
      topics: [
        {
          errorCode: 0,
          name: 't',
          isInternal: false,
          partitions: [partition(0, 1, [1, 2, 3, 4], [1, 2], [4]), partition(1, -1, [2], [2], [])],
        },
      ],
    };
  }

  beforeAll(async () => {
    dead = await deadPort();
    one = await startFakeBroker(handler(1));
    two = await startFakeBroker(handler(2));
  });

  afterAll(async () => {
    await Promise.all([one?.close(), two?.close()]);
  });

  it('asks each live replica its LEO and each leader the HW; the rest is unknown', async () => {
    const admin = new Admin({ brokers: one.address, reconnectBackoffMaxMs: 50 });
    try {
      const [t] = await admin.describeReplicas(['t']);
      expect(t!.partitions).toEqual([
        {
          partition: 0,
          leader: 1,
          leaderEpoch: 3,
          replicas: [1, 2, 3, 4],
          isr: [1, 2],
          offlineReplicas: [4],
          highWatermark: 110,
          logEndOffsets: [
            { broker: 1, logEndOffset: 120 },
            { broker: 2, logEndOffset: 97 },
            { broker: 3, logEndOffset: null }, // nothing listens
            { broker: 4, logEndOffset: null }, // offline: not asked
          ],
        },
        {
          partition: 1,
          leader: -1,
          leaderEpoch: 3,
          replicas: [2],
          isr: [2],
          offlineReplicas: [],
          highWatermark: null, // no leader to ask
          logEndOffsets: [{ broker: 2, logEndOffset: null }], // answered an error
        },
      ]);
    } finally {
      await admin.close();
    }
    const asked = (b: FakeBroker) =>
      b.requests
        .filter((r) => r.api === 'ListOffsets')
        .map((r) => {
          const body = r.body as ListOffsetsBody;
          return [
            body.replicaId,
            body.topics.flatMap((t) => t.partitions.map((p) => p.partitionIndex)),
          ];
        })
        .sort();
    // One request per broker and kind: broker 1 leads partition 0; broker 2 leads nothing.
    expect(asked(one)).toEqual([
      [-1, [0]],
      [-2, [0]],
    ]);
    expect(asked(two)).toEqual([[-2, [0, 1]]]);
  });
});

describe('describeReplicas against one broker', () => {
  let broker: RunningBroker;
  afterAll(async () => {
    await broker?.close();
  });

  it('shows the broker as the only replica, its log end offset the HW', async () => {
    broker = await startBroker({ port: 0 });
    const brokers = `${broker.host}:${broker.port}`;
    const admin = new Admin({ brokers });
    const producer = new Producer({ brokers });
    try {
      await admin.createTopic({ name: 'solo', numPartitions: 2 });
      await producer.send(
        'solo',
        Array.from({ length: 5 }, (_, i) => ({ partition: 0, value: Buffer.from(`v${i}`) })),
      );
      const [t] = await admin.describeReplicas(['solo']);
      expect(t!.partitions.map((p) => [p.replicas, p.highWatermark, p.logEndOffsets])).toEqual([
        [[0], 5, [{ broker: 0, logEndOffset: 5 }]],
        [[0], 0, [{ broker: 0, logEndOffset: 0 }]],
      ]);
    } finally {
      await Promise.all([producer.close(), admin.close()]);
    }
  });
});
