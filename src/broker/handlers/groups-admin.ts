/**
 * FindCoordinator, ListGroups, DescribeGroups, DeleteGroups.
 *
 * FindCoordinator: the coordinator of a group is the leader of the group's
 * `__consumer_offsets` partition. A broker alone is that leader for every
 * group; it creates the topic on first use and names itself (answered in
 * process, with no listener: host "" and port -1). In a cluster the answer
 * comes from the metadata image this broker applied
 * (src/broker/group/cluster.ts): the partition's leader, or
 * COORDINATOR_NOT_AVAILABLE while there is none, and while the topic does
 * not exist, when the controller is asked to create it.
 */
import { lookUpCoordinator } from '../group/cluster.js';
import { ErrorCode } from '../../protocol/index.js';
import type { BrokerContext, Handler } from './context.js';
import { itemError } from './context.js';

export const findCoordinator: Handler<'FindCoordinator'> = async (broker, body) => {
  if (broker.clusterView !== undefined) return findInCluster(broker, body.key);
  try {
    await broker.groups.ensureTopic();
  } catch (err) {
    const e = itemError(broker, `creating the offsets topic for group ${body.key}`, err);
    return notAvailable(e.message);
  }
  const listener = broker.listener;
  return {
    errorCode: 0,
    errorMessage: null,
    nodeId: broker.meta.brokerId,
    host: listener?.host ?? '',
    port: listener?.port ?? -1,
  };
};

function findInCluster(broker: BrokerContext, groupId: string) {
  const view = broker.clusterView!;
  const found = lookUpCoordinator(view.image(), groupId);
  if (found.found)
    return {
      errorCode: 0,
      errorMessage: null,
      nodeId: found.nodeId,
      host: found.host,
      port: found.port,
    };
  // Not awaited: the client asks again after its backoff, by when the topic may exist (Kafka's way).
  if (found.createTopic) void broker.groups.requestOffsetsTopic(view);
  return notAvailable(found.message, found.errorCode);
}

function notAvailable(message: string, errorCode: number = ErrorCode.COORDINATOR_NOT_AVAILABLE) {
  return { errorCode, errorMessage: message, nodeId: -1, host: '', port: -1 };
}

export const listGroups: Handler<'ListGroups'> = (broker, body) => broker.groups.listGroups(body);

export const describeGroups: Handler<'DescribeGroups'> = (broker, body) =>
  broker.groups.describeGroups(body);

export const deleteGroups: Handler<'DeleteGroups'> = (broker, body) =>
  broker.groups.deleteGroups(body);
