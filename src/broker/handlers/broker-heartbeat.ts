/**
 * BrokerHeartbeat: a peer of this broker's cluster says it is alive. The
 * cluster node records it in its Liveness and answers with this broker's
 * id and controller epoch. A broker without `--cluster` has no peers: it
 * answers INVALID_REQUEST and records nothing.
 */
import { ErrorCode } from '../../protocol/index.js';
import type { Handler } from './context.js';

export const brokerHeartbeat: Handler<'BrokerHeartbeat'> = (broker, body) => {
  if (broker.cluster !== undefined) return broker.cluster.receiveHeartbeat(body);
  broker.logger.warn(
    `a heartbeat from broker ${body.brokerId}, but this broker was started without --cluster: refused`,
  );
  return {
    errorCode: ErrorCode.INVALID_REQUEST,
    brokerId: broker.meta.brokerId,
    controllerEpoch: 0,
    metadataOffset: 0,
  };
};
