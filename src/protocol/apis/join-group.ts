/**
 * JoinGroup: become a member of a consumer group, or rejoin it for a
 * rebalance. The coordinator answers every member once all known members
 * have (re)joined or the rebalance timeout has passed; the leader's answer
 * lists the members and their protocol metadata (for a consumer: its
 * subscription), from which the leader computes the assignment it sends in
 * SyncGroup. A first join with memberId "" is answered MEMBER_ID_REQUIRED
 * with the member id the coordinator handed out: join again with it.
 *
 * JoinGroup Request (Version: 0) => groupId sessionTimeoutMs rebalanceTimeoutMs memberId protocolType protocols
 *   groupId => string
 *   sessionTimeoutMs => int32 ≥ 0     no heartbeat for this long: the member is removed
 *   rebalanceTimeoutMs => int32 ≥ 0   how long the coordinator waits for members to rejoin
 *   memberId => string                "" on a first join
 *   protocolType => string            "consumer" for consumer groups
 *   protocols => [name metadata]      the assignors the member supports, preferred first
 *     name => string                  "range", "roundrobin", ...
 *     metadata => bytes               opaque to the broker (a consumer's subscription)
 *
 * JoinGroup Response (Version: 0) => errorCode generationId protocolType protocolName leader memberId members
 *   errorCode => int16
 *   generationId => int32             -1 on error
 *   protocolType => nullable string
 *   protocolName => nullable string   the assignor every member supports, chosen by vote
 *   leader => string                  the leader's member id
 *   memberId => string                this member's id
 *   members => [memberId metadata]    every member, for the leader only; [] for the others
 *     memberId => string
 *     metadata => bytes
 */
import {
  array,
  bytes,
  int16,
  int32,
  nonNegativeInt32,
  nullable,
  string,
  struct,
  type Infer,
} from '../check.js';
import { defineApi } from './api.js';

const request = struct({
  groupId: string,
  sessionTimeoutMs: nonNegativeInt32,
  rebalanceTimeoutMs: nonNegativeInt32,
  memberId: string,
  protocolType: string,
  protocols: array(struct({ name: string, metadata: bytes })),
});

const response = struct({
  errorCode: int16,
  generationId: int32,
  protocolType: nullable(string),
  protocolName: nullable(string),
  leader: string,
  memberId: string,
  members: array(struct({ memberId: string, metadata: bytes })),
});

export type JoinGroupRequest = Infer<typeof request>;
export type JoinGroupResponse = Infer<typeof response>;
export const joinGroupApi = defineApi({ minVersion: 0, maxVersion: 0, request, response });
