/**
 * DescribeConfigs: a topic's effective configs (isDefault: not set on the
 * topic itself), or this broker's (read-only: they are set at start). The
 * resource name of a broker is its id in decimal. Unknown keys are left out.
 */
import {
  ConfigResourceType,
  type DescribeConfigsRequest,
  type DescribeConfigsResponse,
  ProtocolError,
} from '../../protocol/index.js';
import { describeBrokerConfig } from '../config.js';
import { type BrokerContext, type Handler, itemError } from './context.js';

type Resource = DescribeConfigsRequest['resources'][number];
type Entry = DescribeConfigsResponse['resources'][number]['configs'][number];

export const describeConfigs: Handler<'DescribeConfigs'> = (broker, body) => ({
  resources: body.resources.map((r) => {
    const { resourceType, resourceName } = r;
    try {
      const all =
        resourceType === ConfigResourceType.TOPIC
          ? topicConfigs(broker, r)
          : brokerConfigs(broker, r);
      const wanted = r.configurationKeys === null ? undefined : new Set(r.configurationKeys);
      const configs = wanted === undefined ? all : all.filter((c) => wanted.has(c.name));
      return { errorCode: 0, errorMessage: null, resourceType, resourceName, configs };
    } catch (err) {
      const e = itemError(broker, `describing configs of ${resourceName}`, err);
      return {
        errorCode: e.code,
        errorMessage: e.message,
        resourceType,
        resourceName,
        configs: [],
      };
    }
  }),
});

function topicConfigs(broker: BrokerContext, r: Resource): Entry[] {
  const topic = broker.topics.get(r.resourceName);
  if (topic === undefined)
    throw new ProtocolError('UNKNOWN_TOPIC_OR_PARTITION', `no topic '${r.resourceName}'`);
  const config = broker.topics.effectiveConfig(topic.configs);
  return Object.entries(config).map(([name, value]) => ({
    name,
    value: String(value),
    readOnly: false,
    isDefault: !Object.hasOwn(topic.configs, name),
    isSensitive: false,
  }));
}

function brokerConfigs(broker: BrokerContext, r: Resource): Entry[] {
  checkBrokerName(broker, r.resourceName);
  const defaults = broker.topics.effectiveConfig({});
  return describeBrokerConfig(broker.config, defaults).map((c) => ({
    ...c,
    readOnly: true,
    isSensitive: false,
  }));
}

/** A broker resource names this broker's id in decimal (or is empty: the cluster's defaults). */
export function checkBrokerName(broker: BrokerContext, name: string): void {
  if (name !== '' && name !== String(broker.meta.brokerId))
    throw new ProtocolError(
      'INVALID_REQUEST',
      `broker '${name}' is not this broker (${broker.meta.brokerId})`,
    );
}
