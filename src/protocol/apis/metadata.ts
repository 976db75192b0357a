/**
 * Metadata: the brokers, and who leads which partition of which topic.
 *
 * Metadata Request (Version: 0) => topics allowAutoTopicCreation
 *   topics => nullable [name]     nil: every topic; []: none (brokers and controller only)
 *     name => string
 *   allowAutoTopicCreation => optional bool   create missing topics if the broker allows it (default false)
 *
 * Metadata Response (Version: 0) => brokers clusterId controllerId topics
 *   brokers => [nodeId host port rack]
 *     nodeId => int32
 *     host => string
 *     port => int32
 *     rack => nullable string
 *   clusterId => nullable string
 *   controllerId => int32         -1 when there is none
 *   topics => [errorCode name isInternal partitions]
 *     errorCode => int16
 *     name => string
 *     isInternal => bool
 *     partitions => [errorCode partitionIndex leaderId leaderEpoch replicaNodes isrNodes offlineReplicas]
 *       errorCode => int16
 *       partitionIndex => int32 ≥ 0
 *       leaderId => int32         -1 when there is no leader
 *       leaderEpoch => int32      -1 when unknown
 *       replicaNodes => [int32]
 *       isrNodes => [int32]
 *       offlineReplicas => [int32]
 */
import {
  array,
  bool,
  int16,
  int32,
  nonNegativeInt32,
  nullable,
  optional,
  string,
  struct,
  type Infer,
} from '../check.js';
import { defineApi } from './api.js';

const request = struct({
  topics: nullable(array(struct({ name: string }))),
  allowAutoTopicCreation: optional(bool),
});

const response = struct({
  brokers: array(struct({ nodeId: int32, host: string, port: int32, rack: nullable(string) })),
  clusterId: nullable(string),
  controllerId: int32,
  topics: array(
    struct({
      errorCode: int16,
      name: string,
      isInternal: bool,
      partitions: array(
        struct({
          errorCode: int16,
          partitionIndex: nonNegativeInt32,
          leaderId: int32,
          leaderEpoch: int32,
          replicaNodes: array(int32),
          isrNodes: array(int32),
          offlineReplicas: array(int32),
        }),
      ),
    }),
  ),
});

export type MetadataRequest = Infer<typeof request>;
export type MetadataResponse = Infer<typeof response>;
export const metadataApi = defineApi({ minVersion: 0, maxVersion: 0, request, response });
