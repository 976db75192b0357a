/**
 * The resources whose configs DescribeConfigs and AlterConfigs address, with
 * Kafka's numbers (Kafka's `ConfigResource.Type`). samsa has topic and broker
 * configs only; other types are refused as INVALID_REQUEST.
 */
import { oneOf } from '../check.js';

export const ConfigResourceType = { TOPIC: 2, BROKER: 4 } as const;
export type ConfigResourceType = (typeof ConfigResourceType)[keyof typeof ConfigResourceType];

export const resourceType = oneOf<ConfigResourceType>([
  ConfigResourceType.TOPIC,
  ConfigResourceType.BROKER,
]);
