/**
 * AlterConfigs: replace the configs of topics or brokers.
 *
 * AlterConfigs Request (Version: 0) => resources validateOnly
 *   resources => [resourceType resourceName configs]
 *     resourceType => int8             2: topic, 4: broker
 *     resourceName => string
 *     configs => [name value]          the whole set: keys left out return to their defaults
 *       name => string
 *       value => nullable string       nil: back to the default
 *   validateOnly => optional bool      check, but change nothing (default false)
 *
 * AlterConfigs Response (Version: 0) => resources
 *   resources => [errorCode errorMessage resourceType resourceName]
 *     errorCode => int16               INVALID_CONFIG for an unknown key or a bad value
 *     errorMessage => nullable string
 *     resourceType => int8
 *     resourceName => string
 *
 * Kafka answers in `responses`; here a response's list is named as its request's.
 */
import { array, bool, int16, nullable, optional, string, struct, type Infer } from '../check.js';
import { defineApi } from './api.js';
import { resourceType } from './config-resource.js';

const request = struct({
  resources: array(
    struct({
      resourceType,
      resourceName: string,
      configs: array(struct({ name: string, value: nullable(string) })),
    }),
  ),
  validateOnly: optional(bool),
});

const response = struct({
  resources: array(
    struct({
      errorCode: int16,
      errorMessage: nullable(string),
      resourceType,
      resourceName: string,
    }),
  ),
});

export type AlterConfigsRequest = Infer<typeof request>;
export type AlterConfigsResponse = Infer<typeof response>;
export const alterConfigsApi = defineApi({ minVersion: 0, maxVersion: 0, request, response });
