/**
 * BrokerHeartbeat: one broker of a cluster tells another that it is alive,
 * and which controller epoch and metadata version it holds; the answer says
 * the same of the receiver. Every broker sends it to every other every
 * `broker.heartbeat.interval.ms` (docs/cluster.md, *Liveness*).
 *
 * BrokerHeartbeat Request (Version: 0) => brokerId controllerEpoch metadataOffset
 *   brokerId => int32 ≥ 0             the sender's id, as in the --cluster list
 *   controllerEpoch => int32 ≥ 0      the highest controller epoch the sender has seen (its own when it is the controller)
 *   metadataOffset => int64 ≥ 0       the offset of the metadata image the sender holds (0: none yet)
 *
 * BrokerHeartbeat Response (Version: 0) => errorCode brokerId controllerEpoch metadataOffset
 *   errorCode => int16                INVALID_REQUEST (42): the receiver is not in a cluster with that broker
 *   brokerId => int32 ≥ 0             the receiver's id: the sender checks it is the broker it meant
 *   controllerEpoch => int32 ≥ 0      the same, of the receiver
 *   metadataOffset => int64 ≥ 0       the same, of the receiver
 *
 * Kafka's BrokerHeartbeat (KRaft, api key 63) goes from each broker to the
 * active controller only, carries a broker epoch from registration and the
 * wish to be fenced or shut down, and is answered with isCaughtUp, isFenced
 * and shouldShutDown. Here membership is static and there is no quorum: every
 * broker heartbeats every other, each decides liveness for itself, and both
 * directions carry the same three facts.
 */
import { int16, nonNegativeInt32, nonNegativeInt64, struct, type Infer } from '../check.js';
import { defineApi } from './api.js';

const request = struct({
  brokerId: nonNegativeInt32,
  controllerEpoch: nonNegativeInt32,
  metadataOffset: nonNegativeInt64,
});

const response = struct({
  errorCode: int16,
  brokerId: nonNegativeInt32,
  controllerEpoch: nonNegativeInt32,
  metadataOffset: nonNegativeInt64,
});

export type BrokerHeartbeatRequest = Infer<typeof request>;
export type BrokerHeartbeatResponse = Infer<typeof response>;
export const brokerHeartbeatApi = defineApi({ minVersion: 0, maxVersion: 0, request, response });
