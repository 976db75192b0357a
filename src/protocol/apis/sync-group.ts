/**
 * SyncGroup: the second half of a rebalance. Every member sends it after
 * JoinGroup; the leader's carries the assignment of every member. Each
 * member is answered with its own assignment once the leader's has arrived.
 *
 * SyncGroup Request (Version: 0) => groupId generationId memberId protocolType protocolName assignments
 *   groupId => string
 *   generationId => int32
 *   memberId => string
 *   protocolType => nullable string   checked against the group's when given
 *   protocolName => nullable string   checked against the group's when given
 *   assignments => [memberId assignment]   the leader's only; [] from the others
 *     memberId => string
 *     assignment => bytes             opaque to the broker (a consumer's partitions)
 *
 * SyncGroup Response (Version: 0) => errorCode protocolType protocolName assignment
 *   errorCode => int16
 *   protocolType => nullable string
 *   protocolName => nullable string
 *   assignment => bytes               this member's assignment; empty on error
 */
import { array, bytes, int16, int32, nullable, string, struct, type Infer } from '../check.js';
import { defineApi } from './api.js';

const request = struct({
  groupId: string,
  generationId: int32,
  memberId: string,
  protocolType: nullable(string),
  protocolName: nullable(string),
  assignments: array(struct({ memberId: string, assignment: bytes })),
});

const response = struct({
  errorCode: int16,
  protocolType: nullable(string),
  protocolName: nullable(string),
  assignment: bytes,
});

export type SyncGroupRequest = Infer<typeof request>;
export type SyncGroupResponse = Infer<typeof response>;
export const syncGroupApi = defineApi({ minVersion: 0, maxVersion: 0, request, response });
