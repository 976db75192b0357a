/**
 * DescribeGroups: a group's state, generation, assignor and members with
 * their metadata and assignments (bytes the broker does not read; for a
 * consumer group, the client decodes them). An unknown group is answered
 * with state Dead and no members, as Kafka does.
 *
 * DescribeGroups Request (Version: 0) => groups
 *   groups => [string]
 *
 * DescribeGroups Response (Version: 0) => groups
 *   groups => [errorCode groupId groupState generationId protocolType protocolData leader members]
 *     errorCode => int16
 *     groupId => string
 *     groupState => string
 *     generationId => int32             -1 before the first rebalance
 *     protocolType => string
 *     protocolData => string            the chosen assignor; "" when none
 *     leader => string                  the leader's member id; "" when none
 *     members => [memberId clientId clientHost memberMetadata memberAssignment]
 *       memberId => string
 *       clientId => string
 *       clientHost => string
 *       memberMetadata => bytes
 *       memberAssignment => bytes
 */
import { array, bytes, int16, int32, string, struct, type Infer } from '../check.js';
import { defineApi } from './api.js';

const request = struct({ groups: array(string) });

const response = struct({
  groups: array(
    struct({
      errorCode: int16,
      groupId: string,
      groupState: string,
      generationId: int32,
      protocolType: string,
      protocolData: string,
      leader: string,
      members: array(
        struct({
          memberId: string,
          clientId: string,
          clientHost: string,
          memberMetadata: bytes,
          memberAssignment: bytes,
        }),
      ),
    }),
  ),
});

export type DescribeGroupsRequest = Infer<typeof request>;
export type DescribeGroupsResponse = Infer<typeof response>;
export const describeGroupsApi = defineApi({ minVersion: 0, maxVersion: 0, request, response });
