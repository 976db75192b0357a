/**
 * FindCoordinator, ListGroups, DescribeGroups, DeleteGroups.
 *
 * FindCoordinator: with one broker, the coordinator of every group is this
 * broker (the leader of the group's `__consumer_offsets` partition), which it
 * creates on first use. Answered in process (no listener), it names this
 * broker with host "" and port -1.
 */
import { ErrorCode } from '../../protocol/index.js';
import type { Handler } from './context.js';
import { itemError } from './context.js';

export const findCoordinator: Handler<'FindCoordinator'> = async (broker, body) => {
  try {
    await broker.groups.ensureTopic();
  } catch (err) {
    const e = itemError(broker, `creating the offsets topic for group ${body.key}`, err);
    return {
      errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE,
      errorMessage: e.message,
      nodeId: -1,
      host: '',
      port: -1,
    };
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

export const listGroups: Handler<'ListGroups'> = (broker, body) => broker.groups.listGroups(body);

export const describeGroups: Handler<'DescribeGroups'> = (broker, body) =>
  broker.groups.describeGroups(body);

export const deleteGroups: Handler<'DeleteGroups'> = (broker, body) =>
  broker.groups.deleteGroups(body);
