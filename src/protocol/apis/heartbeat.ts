/**
 * Heartbeat: a member says it is alive. The answer also tells it when the
 * group is rebalancing (REBALANCE_IN_PROGRESS: rejoin) or when it has been
 * fenced (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID).
 *
 * Heartbeat Request (Version: 0) => groupId generationId memberId
 *   groupId => string
 *   generationId => int32
 *   memberId => string
 *
 * Heartbeat Response (Version: 0) => errorCode
 *   errorCode => int16
 */
import { int16, int32, string, struct, type Infer } from '../check.js';
import { defineApi } from './api.js';

const request = struct({ groupId: string, generationId: int32, memberId: string });

const response = struct({ errorCode: int16 });

export type HeartbeatRequest = Infer<typeof request>;
export type HeartbeatResponse = Infer<typeof response>;
export const heartbeatApi = defineApi({ minVersion: 0, maxVersion: 0, request, response });
