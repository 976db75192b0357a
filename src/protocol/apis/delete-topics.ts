/**
 * DeleteTopics: delete topics and all their partitions.
 *
 * DeleteTopics Request (Version: 0) => topics timeoutMs
 *   topics => [name]
 *     name => string
 *   timeoutMs => int32 ≥ 0
 *
 * DeleteTopics Response (Version: 0) => topics
 *   topics => [name errorCode errorMessage]
 *     name => string
 *     errorCode => int16               UNKNOWN_TOPIC_OR_PARTITION when there is no such topic
 *     errorMessage => nullable string
 *
 * Kafka's version 0 sends `topicNames: [string]` and answers in `responses`;
 * its version 6 took the shape used here.
 */
import { array, int16, nonNegativeInt32, nullable, string, struct, type Infer } from '../check.js';
import { defineApi } from './api.js';

const request = struct({
  topics: array(struct({ name: string })),
  timeoutMs: nonNegativeInt32,
});

const response = struct({
  topics: array(struct({ name: string, errorCode: int16, errorMessage: nullable(string) })),
});

export type DeleteTopicsRequest = Infer<typeof request>;
export type DeleteTopicsResponse = Infer<typeof response>;
export const deleteTopicsApi = defineApi({ minVersion: 0, maxVersion: 0, request, response });
