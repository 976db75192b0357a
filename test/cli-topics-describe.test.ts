/**
 * What `samsa topics describe` prints, from fabricated descriptions: Kafka's
 * kafka-topics --describe columns, then the leader epoch, the HW and each
 * replica's log end offset; offline replicas marked, unknowns said so; the
 * one-broker case reads plainly. The command itself runs in client-cli.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  describeTopicJson,
  describeTopicLines,
  partitionLine,
} from '../bin/commands/topics-describe.js';
import type { ConfigEntry, PartitionReplicas, TopicReplicas } from '../src/client/index.js';

const entry = (name: string, value: string, isDefault: boolean): ConfigEntry => ({
  name,
  value,
  isDefault,
  readOnly: false,
  isSensitive: false,
});

const CONFIGS = [
  entry('retention.ms', '60000', false),
  entry('cleanup.policy', 'delete', true),
  entry('min.insync.replicas', '2', false),
];

function partition(over: Partial<PartitionReplicas>): PartitionReplicas {
  const replicas = over.replicas ?? [1, 2, 3];
  return {
    partition: 0,
    leader: 1,
    leaderEpoch: 3,
    replicas,
    isr: replicas,
    offlineReplicas: [],
    highWatermark: 120,
    logEndOffsets: replicas.map((broker) => ({ broker, logEndOffset: 120 })),
    ...over,
  };
}

describe('samsa topics describe, plain', () => {
  it('prints a topic line with the factor and set configs, then one line per partition', () => {
    const topic: TopicReplicas = {
      name: 'orders',
      isInternal: false,
      partitions: [
        partition({
          isr: [1, 2],
          logEndOffsets: [
            { broker: 1, logEndOffset: 120 },
            { broker: 2, logEndOffset: 120 },
            { broker: 3, logEndOffset: 97 },
          ],
        }),
        partition({ partition: 1, leader: 2, leaderEpoch: 0, replicas: [2, 3, 1] }),
      ],
    };
    expect(describeTopicLines(topic, CONFIGS)).toEqual([
      'Topic: orders\tPartitionCount: 2\tReplicationFactor: 3\tConfigs: retention.ms=60000,min.insync.replicas=2',
      '\tTopic: orders\tPartition: 0\tLeader: 1\tReplicas: 1,2,3\tIsr: 1,2\tEpoch: 3\tHW: 120\tLEO: 1=120 2=120 3=97',
      '\tTopic: orders\tPartition: 1\tLeader: 2\tReplicas: 2,3,1\tIsr: 2,3,1\tEpoch: 0\tHW: 120\tLEO: 2=120 3=120 1=120',
    ]);
  });

  it('marks offline replicas, says unknown for what could not be asked, and none for no leader', () => {
    const line = partitionLine(
      't',
      partition({
        isr: [1],
        offlineReplicas: [3],
        logEndOffsets: [
          { broker: 1, logEndOffset: 120 },
          { broker: 2, logEndOffset: null },
          { broker: 3, logEndOffset: null },
        ],
      }),
    );
    expect(line).toBe(
      'Topic: t\tPartition: 0\tLeader: 1\tReplicas: 1,2,3\tIsr: 1\tOffline: 3\tEpoch: 3\tHW: 120\tLEO: 1=120 2=unknown 3=offline',
    );
    const leaderless = partitionLine(
      't',
      partition({
        leader: -1,
        leaderEpoch: 4,
        replicas: [3],
        isr: [3],
        offlineReplicas: [3],
        highWatermark: null,
        logEndOffsets: [{ broker: 3, logEndOffset: null }],
      }),
    );
    expect(leaderless).toBe(
      'Topic: t\tPartition: 0\tLeader: none\tReplicas: 3\tIsr: 3\tOffline: 3\tEpoch: 4\tHW: unknown\tLEO: 3=offline',
    );
  });

  it('reads plainly for one broker', () => {
    const topic: TopicReplicas = {
      name: 'solo',
      isInternal: false,
      partitions: [
        partition({
          leader: 0,
          leaderEpoch: 0,
          replicas: [0],
          highWatermark: 5,
          logEndOffsets: [{ broker: 0, logEndOffset: 5 }],
        }),
      ],
    };
    expect(describeTopicLines(topic, [])).toEqual([
      'Topic: solo\tPartitionCount: 1\tReplicationFactor: 1\tConfigs: ',
      '\tTopic: solo\tPartition: 0\tLeader: 0\tReplicas: 0\tIsr: 0\tEpoch: 0\tHW: 5\tLEO: 0=5',
    ]);
  });
});

describe('samsa topics describe --json', () => {
  it('is the description with every config by name, unknowns as null', () => {
    const p = partition({
      offlineReplicas: [3],
      logEndOffsets: [{ broker: 3, logEndOffset: null }],
    });
    const json = JSON.parse(
      JSON.stringify(describeTopicJson({ name: 't', isInternal: false, partitions: [p] }, CONFIGS)),
    );
    expect(json).toEqual({
      name: 't',
      isInternal: false,
      partitions: [p],
      configs: { 'retention.ms': '60000', 'cleanup.policy': 'delete', 'min.insync.replicas': '2' },
    });
  });
});
