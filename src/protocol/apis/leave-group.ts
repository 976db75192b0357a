/**
 * LeaveGroup: members leave a group at once, without waiting for their
 * session to expire; the group rebalances.
 *
 * LeaveGroup Request (Version: 0) => groupId members
 *   groupId => string
 *   members => [memberId]
 *     memberId => string
 *
 * LeaveGroup Response (Version: 0) => errorCode members
 *   errorCode => int16                a group-level error (NOT_COORDINATOR, ...)
 *   members => [memberId errorCode]
 *     memberId => string
 *     errorCode => int16              UNKNOWN_MEMBER_ID for a member the group does not have
 */
import { array, int16, string, struct, type Infer } from '../check.js';
import { defineApi } from './api.js';

const request = struct({ groupId: string, members: array(struct({ memberId: string })) });

const response = struct({
  errorCode: int16,
  members: array(struct({ memberId: string, errorCode: int16 })),
});

export type LeaveGroupRequest = Infer<typeof request>;
export type LeaveGroupResponse = Infer<typeof response>;
export const leaveGroupApi = defineApi({ minVersion: 0, maxVersion: 0, request, response });
