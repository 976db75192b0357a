/**
 * AlterConfigs: replaces a topic's whole set of configs (a key left out, or
 * nil, returns to the broker's default), persists it, and reopens the
 * topic's logs with it. Broker configs are read-only here: they are set when
 * the broker starts.
 */
import { ConfigResourceType, ProtocolError } from '../../protocol/index.js';
import { type Handler, itemError } from './context.js';
import { checkBrokerName } from './describe-configs.js';

export const alterConfigs: Handler<'AlterConfigs'> = async (broker, body) => {
  const resources = [];
  for (const r of body.resources) {
    const { resourceType, resourceName } = r;
    try {
      if (resourceType === ConfigResourceType.BROKER) {
        checkBrokerName(broker, resourceName);
        throw new ProtocolError(
          'INVALID_REQUEST',
          'broker configs are read-only: set them when the broker starts',
        );
      }
      const configs: Record<string, string> = {};
      for (const c of r.configs) if (c.value !== null) configs[c.name] = c.value;
      await broker.topics.alterConfigs(resourceName, configs, body.validateOnly === true);
      resources.push({ errorCode: 0, errorMessage: null, resourceType, resourceName });
    } catch (err) {
      const e = itemError(broker, `altering configs of ${resourceName}`, err);
      resources.push({ errorCode: e.code, errorMessage: e.message, resourceType, resourceName });
    }
  }
  return { resources };
};
