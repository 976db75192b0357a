/**
 * CreateTopics: create topics, with their partition count, replication and configs.
 *
 * CreateTopics Request (Version: 0) => topics timeoutMs validateOnly
 *   topics => [name numPartitions replicationFactor assignments configs]
 *     name => string
 *     numPartitions => int32          -1: the broker's num.partitions
 *     replicationFactor => int16      -1: the broker's default.replication.factor
 *     assignments => [partitionIndex brokerIds]   empty: the broker places the replicas
 *       partitionIndex => int32 ≥ 0
 *       brokerIds => [int32]
 *     configs => [name value]         topic configs, Kafka's keys (retention.ms, ...)
 *       name => string
 *       value => nullable string
 *   timeoutMs => int32 ≥ 0
 *   validateOnly => optional bool     check, but create nothing (default false)
 *
 * CreateTopics Response (Version: 0) => topics
 *   topics => [name errorCode errorMessage numPartitions replicationFactor]
 *     name => string
 *     errorCode => int16               TOPIC_ALREADY_EXISTS, INVALID_PARTITIONS, INVALID_CONFIG, ...
 *     errorMessage => nullable string
 *     numPartitions => int32           as created; -1 on error
 *     replicationFactor => int16       as created; -1 on error
 *
 * A bad count, factor, name or config is an error of that topic (errorCode),
 * not of the request: the other topics are still created.
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
  topics: array(
    struct({
      name: string,
      numPartitions: int32,
      replicationFactor: int16,
      assignments: array(struct({ partitionIndex: nonNegativeInt32, brokerIds: array(int32) })),
      configs: array(struct({ name: string, value: nullable(string) })),
    }),
  ),
  timeoutMs: nonNegativeInt32,
  validateOnly: optional(bool),
});

const response = struct({
  topics: array(
    struct({
      name: string,
      errorCode: int16,
      errorMessage: nullable(string),
      numPartitions: int32,
      replicationFactor: int16,
    }),
  ),
});

export type CreateTopicsRequest = Infer<typeof request>;
export type CreateTopicsResponse = Infer<typeof response>;
export const createTopicsApi = defineApi({ minVersion: 0, maxVersion: 0, request, response });
