/**
 * One example request and response body per API, as data: the examples
 * docs/protocol.md shows, round-tripped by the tests. Handy for the broker's
 * and the client's tests too (not exported from the public entry point).
 */
import type { ApiName, RequestBody, ResponseBody } from './apis/index.js';
import { GROUP_EXAMPLES } from './examples-groups.js';
import { REPLICATION_EXAMPLES } from './examples-replication.js';
import { CLUSTER_EXAMPLES } from './examples-cluster.js';

const NOW = 1_700_000_000_000; // > 2^32: crosses the wire as float64
const BIG = 2 ** 40 + 3; // an offset past 32 bits
// Stand-in bytes where a record batch goes: the protocol carries them and never looks inside.
const batch = Buffer.from('00000000000000000000003c00000000024f3a1c2e', 'hex');

export type Examples = { [A in ApiName]: { request: RequestBody<A>; response: ResponseBody<A> } };

export const EXAMPLES: Examples = {
  ApiVersions: {
    request: {},
    response: { errorCode: 0, apis: [{ api: 'Produce', minVersion: 0, maxVersion: 0 }] },
  },
  Metadata: {
    request: { topics: [{ name: 'page-views' }], allowAutoTopicCreation: false },
    response: {
      brokers: [{ nodeId: 0, host: 'localhost', port: 9092, rack: null }],
      clusterId: 'samsa-1',
      controllerId: 0,
      topics: [
        {
          errorCode: 0,
          name: 'page-views',
          isInternal: false,
          partitions: [
            {
              errorCode: 0,
              partitionIndex: 0,
              leaderId: 0,
              leaderEpoch: 3,
              replicaNodes: [0, 1, 2],
              isrNodes: [0, 1],
              offlineReplicas: [],
            },
          ],
        },
      ],
    },
  },
  CreateTopics: {
    request: {
      topics: [
        {
          name: 'page-views',
          numPartitions: 3,
          replicationFactor: -1,
          assignments: [],
          configs: [{ name: 'retention.ms', value: '86400000' }],
        },
      ],
      timeoutMs: 30_000,
      validateOnly: false,
    },
    response: {
      topics: [
        {
          name: 'page-views',
          errorCode: 0,
          errorMessage: null,
          numPartitions: 3,
          replicationFactor: 1,
        },
      ],
    },
  },
  DeleteTopics: {
    request: { topics: [{ name: 'page-views' }], timeoutMs: 30_000 },
    response: { topics: [{ name: 'page-views', errorCode: 3, errorMessage: 'no such topic' }] },
  },
  DescribeConfigs: {
    request: {
      resources: [{ resourceType: 2, resourceName: 'page-views', configurationKeys: null }],
    },
    response: {
      resources: [
        {
          errorCode: 0,
          errorMessage: null,
          resourceType: 2,
          resourceName: 'page-views',
          configs: [
            {
              name: 'cleanup.policy',
              value: 'delete',
              readOnly: false,
              isDefault: true,
              isSensitive: false,
            },
          ],
        },
      ],
    },
  },
  AlterConfigs: {
    request: {
      resources: [
        {
          resourceType: 2,
          resourceName: 'page-views',
          configs: [{ name: 'retention.ms', value: '3600000' }],
        },
      ],
      validateOnly: true,
    },
    response: {
      resources: [
        { errorCode: 0, errorMessage: null, resourceType: 2, resourceName: 'page-views' },
      ],
    },
  },
  Produce: {
    request: {
      acks: -1,
      timeoutMs: 30_000,
      topics: [{ name: 'page-views', partitions: [{ partitionIndex: 0, records: batch }] }],
    },
    response: {
      topics: [
        {
          name: 'page-views',
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 0,
              errorMessage: null,
              baseOffset: BIG,
              logAppendTimeMs: -1,
              logStartOffset: 0,
            },
          ],
        },
      ],
    },
  },
  Fetch: {
    request: {
      replicaId: -1,
      maxWaitMs: 500,
      minBytes: 1,
      maxBytes: 52_428_800,
      isolationLevel: 0,
      topics: [
        {
          name: 'page-views',
          partitions: [
            {
              partitionIndex: 0,
              currentLeaderEpoch: 3,
              fetchOffset: BIG,
              logStartOffset: -1,
              partitionMaxBytes: 1_048_576,
            },
          ],
        },
      ],
    },
    response: {
      topics: [
        {
          name: 'page-views',
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 0,
              highWatermark: BIG + 1,
              lastStableOffset: BIG + 1,
              logStartOffset: 0,
              records: batch,
            },
          ],
        },
      ],
    },
  },
  ListOffsets: {
    request: {
      replicaId: -1,
      isolationLevel: 0,
      topics: [
        {
          name: 'page-views',
          partitions: [{ partitionIndex: 0, currentLeaderEpoch: 3, timestamp: NOW }],
        },
      ],
    },
    response: {
      topics: [
        {
          name: 'page-views',
          partitions: [
            { partitionIndex: 0, errorCode: 0, timestamp: NOW + 5, offset: BIG, leaderEpoch: 3 },
          ],
        },
      ],
    },
  },
  DeleteRecords: {
    request: {
      topics: [{ name: 'page-views', partitions: [{ partitionIndex: 0, offset: BIG }] }],
      timeoutMs: 30_000,
    },
    response: {
      topics: [
        {
          name: 'page-views',
          partitions: [{ partitionIndex: 0, lowWatermark: BIG, errorCode: 0 }],
        },
      ],
    },
  },
  ...GROUP_EXAMPLES,
  ...REPLICATION_EXAMPLES,
  ...CLUSTER_EXAMPLES,
};
