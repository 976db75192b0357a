/**
 * The example bodies of the APIs between the brokers of a cluster (see
 * `examples.ts`): broker 2 tells broker 1 it is alive; broker 1, the
 * controller in epoch 4, answers the same of itself.
 */
import type { ApiName, RequestBody, ResponseBody } from './apis/index.js';

type ClusterApi = 'BrokerHeartbeat';

type ClusterExamples = {
  [A in ClusterApi & ApiName]: { request: RequestBody<A>; response: ResponseBody<A> };
};

export const CLUSTER_EXAMPLES: ClusterExamples = {
  BrokerHeartbeat: {
    request: { brokerId: 2, controllerEpoch: 4, metadataOffset: 17 },
    response: { errorCode: 0, brokerId: 1, controllerEpoch: 4, metadataOffset: 17 },
  },
};
