/**
 * The example bodies of the APIs between the brokers of a cluster (see
 * `examples.ts`): broker 2 tells broker 1 it is alive; broker 1, the
 * controller in epoch 4, answers the same of itself, pushes its image (one
 * topic, `page-views`, on brokers 1 to 3, broker 3 fenced), hands it to
 * broker 3 on its way to taking over, and answers broker 2's request, as
 * leader of `page-views` partition 0, to drop broker 3 from the ISR.
 */
import type { ApiName, RequestBody, ResponseBody } from './apis/index.js';
import type { WireMetadataImage } from './apis/metadata-image.js';

type ClusterApi = 'BrokerHeartbeat' | 'UpdateMetadata' | 'FetchSnapshot' | 'AlterPartition';

type ClusterExamples = {
  [A in ClusterApi & ApiName]: { request: RequestBody<A>; response: ResponseBody<A> };
};

const IMAGE: WireMetadataImage = {
  controllerEpoch: 4,
  controllerId: 1,
  metadataOffset: 17,
  brokers: [
    { id: 1, host: '127.0.0.1', port: 9101, live: true },
    { id: 2, host: '127.0.0.1', port: 9102, live: true },
    { id: 3, host: '127.0.0.1', port: 9103, live: false },
  ],
  topics: [
    {
      name: 'page-views',
      configs: [{ name: 'min.insync.replicas', value: '2' }],
      partitions: [
        { replicas: [2, 3, 1], isr: [2, 1], leader: 2, leaderEpoch: 5, partitionEpoch: 9 },
      ],
    },
  ],
};

export const CLUSTER_EXAMPLES: ClusterExamples = {
  BrokerHeartbeat: {
    request: { brokerId: 2, controllerEpoch: 4, metadataOffset: 17 },
    response: { errorCode: 0, brokerId: 1, controllerEpoch: 4, metadataOffset: 17 },
  },
  UpdateMetadata: {
    request: { controllerId: 1, controllerEpoch: 4, image: IMAGE },
    response: { errorCode: 0, controllerEpoch: 4, metadataOffset: 17 },
  },
  FetchSnapshot: {
    request: { brokerId: 3 },
    response: { errorCode: 0, image: IMAGE },
  },
  AlterPartition: {
    request: {
      brokerId: 2,
      topics: [
        {
          name: 'page-views',
          partitions: [{ partitionIndex: 0, leaderEpoch: 5, partitionEpoch: 8, newIsr: [2, 1] }],
        },
      ],
    },
    response: {
      errorCode: 0,
      topics: [
        {
          name: 'page-views',
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 0,
              leaderId: 2,
              leaderEpoch: 5,
              isr: [2, 1],
              partitionEpoch: 9,
            },
          ],
        },
      ],
    },
  },
};
