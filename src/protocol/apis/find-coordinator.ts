/**
 * FindCoordinator: which broker coordinates a consumer group (the leader of
 * the `__consumer_offsets` partition the group id hashes to). A broker that
 * creates `__consumer_offsets` on first use answers COORDINATOR_NOT_AVAILABLE
 * until it is ready; clients retry.
 *
 * FindCoordinator Request (Version: 0) => key keyType
 *   key => string                 the group id
 *   keyType => int8               0: a consumer group (the only type samsa knows)
 *
 * FindCoordinator Response (Version: 0) => errorCode errorMessage nodeId host port
 *   errorCode => int16
 *   errorMessage => nullable string
 *   nodeId => int32               -1 on error
 *   host => string                "" on error
 *   port => int32                 -1 on error
 */
import { int16, int32, nullable, oneOf, string, struct, type Infer } from '../check.js';
import { defineApi } from './api.js';

const request = struct({ key: string, keyType: oneOf([0]) });

const response = struct({
  errorCode: int16,
  errorMessage: nullable(string),
  nodeId: int32,
  host: string,
  port: int32,
});

export type FindCoordinatorRequest = Infer<typeof request>;
export type FindCoordinatorResponse = Infer<typeof response>;
export const findCoordinatorApi = defineApi({ minVersion: 0, maxVersion: 0, request, response });
