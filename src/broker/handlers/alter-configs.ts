/**
 * AlterConfigs: replaces a topic's whole set of configs (a key left out, or
 * nil, returns to the broker's default), persists it, and reopens the
 * topic's logs with it. Broker configs are read-only here: they are set when
 * the broker starts.
 *
 * In a cluster the controller keeps topic configs in the image. The whole
 * set a client sends becomes a change against the topic's configs in this
 * broker's image (each key left out: removed), which the ControllerChannel
 * takes; the answer waits until this broker has applied the change. A
 * request another broker forwarded carries that change already, and is
 * read as one (Kafka's IncrementalAlterConfigs: a value sets the key, nil
 * removes it, a key left out stays).
 */
import type { ControllerChannel } from '../../cluster/runtime/index.js';
import {
  type AlterConfigsRequest,
  ConfigResourceType,
  ProtocolError,
} from '../../protocol/index.js';
import { isForwarded } from '../../cluster/runtime/index.js';
import { checkLogConfigs, controllerChannel } from './cluster-routing.js';
import { type BrokerContext, type Handler, itemError } from './context.js';
import { checkBrokerName } from './describe-configs.js';

type Resource = AlterConfigsRequest['resources'][number];

export const alterConfigs: Handler<'AlterConfigs'> = async (broker, body, ctx) => {
  const channel = controllerChannel(broker, ctx);
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
      const validateOnly = body.validateOnly === true;
      if (channel !== undefined) {
        await alterInCluster(broker, channel, r, isForwarded(ctx.clientId), validateOnly);
        resources.push({ errorCode: 0, errorMessage: null, resourceType, resourceName });
        continue;
      }
      const configs: Record<string, string> = {};
      for (const c of r.configs) if (c.value !== null) configs[c.name] = c.value;
      await broker.topics.alterConfigs(resourceName, configs, validateOnly);
      resources.push({ errorCode: 0, errorMessage: null, resourceType, resourceName });
    } catch (err) {
      const e = itemError(broker, `altering configs of ${resourceName}`, err);
      resources.push({ errorCode: e.code, errorMessage: e.message, resourceType, resourceName });
    }
  }
  return { resources };
};

async function alterInCluster(
  broker: BrokerContext,
  channel: ControllerChannel,
  r: Resource,
  forwarded: boolean,
  validateOnly: boolean,
): Promise<void> {
  const change: Record<string, string | null> = {};
  if (!forwarded) {
    const image = broker.clusterView!.image();
    const topic = Object.hasOwn(image.topics, r.resourceName)
      ? image.topics[r.resourceName]
      : undefined;
    for (const key of Object.keys(topic?.configs ?? {})) change[key] = null;
  }
  for (const c of r.configs) change[c.name] = c.value;
  const set: Record<string, string> = {};
  for (const [key, value] of Object.entries(change)) if (value !== null) set[key] = value;
  checkLogConfigs(broker, set);
  await channel.alterTopicConfigs(r.resourceName, change, validateOnly);
}
