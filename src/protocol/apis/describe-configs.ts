/**
 * DescribeConfigs: the configs of topics or brokers.
 *
 * DescribeConfigs Request (Version: 0) => resources
 *   resources => [resourceType resourceName configurationKeys]
 *     resourceType => int8             2: topic, 4: broker
 *     resourceName => string           a topic name, or a broker id in decimal
 *     configurationKeys => nullable [string]   nil: every key
 *
 * DescribeConfigs Response (Version: 0) => resources
 *   resources => [errorCode errorMessage resourceType resourceName configs]
 *     errorCode => int16
 *     errorMessage => nullable string
 *     resourceType => int8
 *     resourceName => string
 *     configs => [name value readOnly isDefault isSensitive]
 *       name => string
 *       value => nullable string       nil for a sensitive value
 *       readOnly => bool
 *       isDefault => bool              not set for this resource: the default applies
 *       isSensitive => bool
 *
 * Kafka answers in `results`; here a response's list is named as its
 * request's. An unknown key is left out, as in Kafka.
 */
import { array, bool, int16, nullable, string, struct, type Infer } from '../check.js';
import { defineApi } from './api.js';
import { resourceType } from './config-resource.js';

const request = struct({
  resources: array(
    struct({
      resourceType,
      resourceName: string,
      configurationKeys: nullable(array(string)),
    }),
  ),
});

const response = struct({
  resources: array(
    struct({
      errorCode: int16,
      errorMessage: nullable(string),
      resourceType,
      resourceName: string,
      configs: array(
        struct({
          name: string,
          value: nullable(string),
          readOnly: bool,
          isDefault: bool,
          isSensitive: bool,
        }),
      ),
    }),
  ),
});

export type DescribeConfigsRequest = Infer<typeof request>;
export type DescribeConfigsResponse = Infer<typeof response>;
export const describeConfigsApi = defineApi({ minVersion: 0, maxVersion: 0, request, response });
