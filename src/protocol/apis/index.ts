/**
 * The table of APIs: name → versions and body checks. The broker dispatches
 * by this table (a handler per name, no switch) and ApiVersions answers from
 * it. Adding an API is a module and a line here.
 */
import type { ApiSpec } from './api.js';
import { alterConfigsApi } from './alter-configs.js';
import { apiVersionsApi } from './api-versions.js';
import { createTopicsApi } from './create-topics.js';
import { deleteRecordsApi } from './delete-records.js';
import { deleteTopicsApi } from './delete-topics.js';
import { describeConfigsApi } from './describe-configs.js';
import { fetchApi } from './fetch.js';
import { listOffsetsApi } from './list-offsets.js';
import { metadataApi } from './metadata.js';
import { produceApi } from './produce.js';
import { findCoordinatorApi } from './find-coordinator.js';
import { joinGroupApi } from './join-group.js';
import { syncGroupApi } from './sync-group.js';
import { heartbeatApi } from './heartbeat.js';
import { leaveGroupApi } from './leave-group.js';
import { offsetCommitApi } from './offset-commit.js';
import { offsetFetchApi } from './offset-fetch.js';
import { listGroupsApi } from './list-groups.js';
import { describeGroupsApi } from './describe-groups.js';
import { deleteGroupsApi } from './delete-groups.js';
import { offsetsForLeaderEpochApi } from './offsets-for-leader-epoch.js';
import { brokerHeartbeatApi } from './broker-heartbeat.js';
import { updateMetadataApi } from './update-metadata.js';
import { fetchSnapshotApi } from './fetch-snapshot.js';
import { alterPartitionApi } from './alter-partition.js';

// #region table
export const APIS = {
  ApiVersions: apiVersionsApi,
  Metadata: metadataApi,
  CreateTopics: createTopicsApi,
  DeleteTopics: deleteTopicsApi,
  DescribeConfigs: describeConfigsApi,
  AlterConfigs: alterConfigsApi,
  Produce: produceApi,
  Fetch: fetchApi,
  ListOffsets: listOffsetsApi,
  DeleteRecords: deleteRecordsApi,
  FindCoordinator: findCoordinatorApi,
  JoinGroup: joinGroupApi,
  SyncGroup: syncGroupApi,
  Heartbeat: heartbeatApi,
  LeaveGroup: leaveGroupApi,
  OffsetCommit: offsetCommitApi,
  OffsetFetch: offsetFetchApi,
  ListGroups: listGroupsApi,
  DescribeGroups: describeGroupsApi,
  DeleteGroups: deleteGroupsApi,
  OffsetsForLeaderEpoch: offsetsForLeaderEpochApi,
  BrokerHeartbeat: brokerHeartbeatApi,
  UpdateMetadata: updateMetadataApi,
  FetchSnapshot: fetchSnapshotApi,
  AlterPartition: alterPartitionApi,
} as const;
// #endregion table

export type ApiName = keyof typeof APIS;
export type RequestBody<A extends ApiName> =
  (typeof APIS)[A] extends ApiSpec<infer Req, unknown> ? Req : never;
export type ResponseBody<A extends ApiName> =
  (typeof APIS)[A] extends ApiSpec<unknown, infer Res> ? Res : never;

/** The spec of an API by name, or `undefined` (never one inherited from `Object.prototype`). */
export function apiSpec(name: string): ApiSpec<unknown, unknown> | undefined {
  return Object.hasOwn(APIS, name)
    ? (APIS[name as ApiName] as ApiSpec<unknown, unknown>)
    : undefined;
}

/** What ApiVersions answers: every API with its version range, in table order. */
export function supportedApis(): { api: ApiName; minVersion: number; maxVersion: number }[] {
  return (Object.keys(APIS) as ApiName[]).map((api) => ({
    api,
    minVersion: APIS[api].minVersion,
    maxVersion: APIS[api].maxVersion,
  }));
}

export type { ApiSpec } from './api.js';
export type { AlterConfigsRequest, AlterConfigsResponse } from './alter-configs.js';
export type { ApiVersionsRequest, ApiVersionsResponse } from './api-versions.js';
export { ConfigResourceType } from './config-resource.js';
export type { CreateTopicsRequest, CreateTopicsResponse } from './create-topics.js';
export type { DeleteRecordsRequest, DeleteRecordsResponse } from './delete-records.js';
export type { DeleteTopicsRequest, DeleteTopicsResponse } from './delete-topics.js';
export type { DescribeConfigsRequest, DescribeConfigsResponse } from './describe-configs.js';
export type { FetchRequest, FetchResponse } from './fetch.js';
export { OffsetSpec } from './list-offsets.js';
export type { ListOffsetsRequest, ListOffsetsResponse } from './list-offsets.js';
export type { MetadataRequest, MetadataResponse } from './metadata.js';
export type { ProduceRequest, ProduceResponse } from './produce.js';
export type { FindCoordinatorRequest, FindCoordinatorResponse } from './find-coordinator.js';
export type { JoinGroupRequest, JoinGroupResponse } from './join-group.js';
export type { SyncGroupRequest, SyncGroupResponse } from './sync-group.js';
export type { HeartbeatRequest, HeartbeatResponse } from './heartbeat.js';
export type { LeaveGroupRequest, LeaveGroupResponse } from './leave-group.js';
export type { OffsetCommitRequest, OffsetCommitResponse } from './offset-commit.js';
export type { OffsetFetchRequest, OffsetFetchResponse } from './offset-fetch.js';
export type { ListGroupsRequest, ListGroupsResponse } from './list-groups.js';
export type { DescribeGroupsRequest, DescribeGroupsResponse } from './describe-groups.js';
export type { DeleteGroupsRequest, DeleteGroupsResponse } from './delete-groups.js';
export type {
  OffsetsForLeaderEpochRequest,
  OffsetsForLeaderEpochResponse,
} from './offsets-for-leader-epoch.js';
export type { BrokerHeartbeatRequest, BrokerHeartbeatResponse } from './broker-heartbeat.js';
export type { UpdateMetadataRequest, UpdateMetadataResponse } from './update-metadata.js';
export type { FetchSnapshotRequest, FetchSnapshotResponse } from './fetch-snapshot.js';
export type { AlterPartitionRequest, AlterPartitionResponse } from './alter-partition.js';
export type { WireMetadataImage } from './metadata-image.js';
