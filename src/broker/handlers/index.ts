/**
 * The table from API name to handler: the broker dispatches by it, with no
 * switch. Typed by the protocol's table, so an API without a handler does not
 * compile. Adding an API: a module here and a line in the table.
 */
import type { ApiName } from '../../protocol/index.js';
import { alterConfigs } from './alter-configs.js';
import { apiVersions } from './api-versions.js';
import type { Handler } from './context.js';
import { createTopics } from './create-topics.js';
import { deleteRecords } from './delete-records.js';
import { deleteTopics } from './delete-topics.js';
import { describeConfigs } from './describe-configs.js';
import { fetch } from './fetch.js';
import { listOffsets } from './list-offsets.js';
import { metadata } from './metadata.js';
import { produce } from './produce.js';
import { heartbeat, joinGroup, leaveGroup, syncGroup } from './groups.js';
import { deleteGroups, describeGroups, findCoordinator, listGroups } from './groups-admin.js';
import { offsetCommit, offsetFetch } from './groups-offsets.js';
import { offsetsForLeaderEpoch } from './offsets-for-leader-epoch.js';
import { brokerHeartbeat } from './broker-heartbeat.js';
import { fetchSnapshot, updateMetadata } from './update-metadata.js';
import { alterPartition } from './alter-partition.js';

// #region table
export const HANDLERS: { readonly [A in ApiName]: Handler<A> } = {
  ApiVersions: apiVersions,
  Metadata: metadata,
  CreateTopics: createTopics,
  DeleteTopics: deleteTopics,
  DescribeConfigs: describeConfigs,
  AlterConfigs: alterConfigs,
  Produce: produce,
  Fetch: fetch,
  ListOffsets: listOffsets,
  DeleteRecords: deleteRecords,
  FindCoordinator: findCoordinator,
  JoinGroup: joinGroup,
  SyncGroup: syncGroup,
  Heartbeat: heartbeat,
  LeaveGroup: leaveGroup,
  OffsetCommit: offsetCommit,
  OffsetFetch: offsetFetch,
  ListGroups: listGroups,
  DescribeGroups: describeGroups,
  DeleteGroups: deleteGroups,
  OffsetsForLeaderEpoch: offsetsForLeaderEpoch,
  BrokerHeartbeat: brokerHeartbeat,
  UpdateMetadata: updateMetadata,
  FetchSnapshot: fetchSnapshot,
  AlterPartition: alterPartition,
};
// #endregion table

export type { BrokerContext, Handler, RequestContext } from './context.js';
