/**
 * The example bodies of the consumer group APIs (see `examples.ts`): one
 * group, `billing`, with two members of a consumer using the range assignor.
 */
import type { ApiName, RequestBody, ResponseBody } from './apis/index.js';

type GroupApi =
  | 'FindCoordinator'
  | 'JoinGroup'
  | 'SyncGroup'
  | 'Heartbeat'
  | 'LeaveGroup'
  | 'OffsetCommit'
  | 'OffsetFetch'
  | 'ListGroups'
  | 'DescribeGroups'
  | 'DeleteGroups';

type GroupExamples = {
  [A in GroupApi & ApiName]: { request: RequestBody<A>; response: ResponseBody<A> };
};

const BIG = 2 ** 40 + 3;
const member = 'my-app-4f1c9e2a';
const other = 'my-app-7b02d6c1';
// Stand-ins for the consumer protocol's bytes: the broker never looks inside.
const subscription = Buffer.from('81a6746f70696373', 'hex');
const assignment = Buffer.from('81aa706172746974696f6e73', 'hex');

export const GROUP_EXAMPLES: GroupExamples = {
  FindCoordinator: {
    request: { key: 'billing', keyType: 0 },
    response: { errorCode: 0, errorMessage: null, nodeId: 0, host: 'localhost', port: 9092 },
  },
  JoinGroup: {
    request: {
      groupId: 'billing',
      sessionTimeoutMs: 45_000,
      rebalanceTimeoutMs: 300_000,
      memberId: member,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: subscription }],
    },
    response: {
      errorCode: 0,
      generationId: 4,
      protocolType: 'consumer',
      protocolName: 'range',
      leader: member,
      memberId: member,
      members: [
        { memberId: member, metadata: subscription },
        { memberId: other, metadata: subscription },
      ],
    },
  },
  SyncGroup: {
    request: {
      groupId: 'billing',
      generationId: 4,
      memberId: member,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [
        { memberId: member, assignment },
        { memberId: other, assignment },
      ],
    },
    response: { errorCode: 0, protocolType: 'consumer', protocolName: 'range', assignment },
  },
  Heartbeat: {
    request: { groupId: 'billing', generationId: 4, memberId: member },
    response: { errorCode: 27 },
  },
  LeaveGroup: {
    request: { groupId: 'billing', members: [{ memberId: member }] },
    response: { errorCode: 0, members: [{ memberId: member, errorCode: 0 }] },
  },
  OffsetCommit: {
    request: {
      groupId: 'billing',
      generationId: 4,
      memberId: member,
      topics: [
        {
          name: 'payments',
          partitions: [
            {
              partitionIndex: 0,
              committedOffset: BIG,
              committedLeaderEpoch: -1,
              committedMetadata: null,
            },
          ],
        },
      ],
    },
    response: { topics: [{ name: 'payments', partitions: [{ partitionIndex: 0, errorCode: 0 }] }] },
  },
  OffsetFetch: {
    request: { groupId: 'billing', topics: [{ name: 'payments', partitionIndexes: [0, 1] }] },
    response: {
      errorCode: 0,
      topics: [
        {
          name: 'payments',
          partitions: [
            {
              partitionIndex: 0,
              committedOffset: BIG,
              committedLeaderEpoch: -1,
              metadata: null,
              errorCode: 0,
            },
            {
              partitionIndex: 1,
              committedOffset: -1,
              committedLeaderEpoch: -1,
              metadata: null,
              errorCode: 0,
            },
          ],
        },
      ],
    },
  },
  ListGroups: {
    request: { statesFilter: ['Stable'] },
    response: {
      errorCode: 0,
      groups: [{ groupId: 'billing', protocolType: 'consumer', groupState: 'Stable' }],
    },
  },
  DescribeGroups: {
    request: { groups: ['billing'] },
    response: {
      groups: [
        {
          errorCode: 0,
          groupId: 'billing',
          groupState: 'Stable',
          generationId: 4,
          protocolType: 'consumer',
          protocolData: 'range',
          leader: member,
          members: [
            {
              memberId: member,
              clientId: 'my-app',
              clientHost: '/127.0.0.1',
              memberMetadata: subscription,
              memberAssignment: assignment,
            },
          ],
        },
      ],
    },
  },
  DeleteGroups: {
    request: { groupsNames: ['billing', 'shipping'] },
    response: {
      results: [
        { groupId: 'billing', errorCode: 68 },
        { groupId: 'shipping', errorCode: 0 },
      ],
    },
  },
};
