/**
 * The example bodies of the APIs between replicas (see `examples.ts`): a
 * follower, broker 1, of `page-views` partition 0, led by broker 0 in
 * epoch 4, whose last records are of epoch 3.
 */
import type { ApiName, RequestBody, ResponseBody } from './apis/index.js';

type ReplicationApi = 'OffsetsForLeaderEpoch';

type ReplicationExamples = {
  [A in ReplicationApi & ApiName]: { request: RequestBody<A>; response: ResponseBody<A> };
};

const EPOCH_3_END = 2 ** 40 - 6; // an offset past 32 bits

export const REPLICATION_EXAMPLES: ReplicationExamples = {
  OffsetsForLeaderEpoch: {
    request: {
      replicaId: 1,
      topics: [
        {
          name: 'page-views',
          partitions: [{ partitionIndex: 0, currentLeaderEpoch: 4, leaderEpoch: 3 }],
        },
      ],
    },
    response: {
      topics: [
        {
          name: 'page-views',
          partitions: [{ errorCode: 0, partitionIndex: 0, leaderEpoch: 3, endOffset: EPOCH_3_END }],
        },
      ],
    },
  },
};
