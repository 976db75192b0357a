/**
 * Auto-creation in a cluster: a topic is created by the controller, never
 * by one broker alone. A produce (or a Metadata request) naming a topic the
 * image lacks asks the controller to create it with the broker defaults
 * (`num.partitions`, `default.replication.factor`, no configs) when
 * `auto.create.topics.enable` is on; the call resolves once this broker has
 * applied the image that holds it. A topic another broker created meanwhile
 * is fine.
 */
import { ProtocolError } from '../../protocol/index.js';
import type { BrokerContext } from '../handlers/context.js';

/**
 * Resolves once the image has the topic (creating it when allowed); throws
 * UNKNOWN_TOPIC_OR_PARTITION when it does not exist and may not be created,
 * or the controller's error (INVALID_REPLICATION_FACTOR, REQUEST_TIMED_OUT, ...).
 */
export async function ensureTopicInCluster(broker: BrokerContext, name: string): Promise<void> {
  const view = broker.clusterView!;
  if (Object.hasOwn(view.image().topics, name)) return;
  const s = broker.config.settings;
  if (!s['auto.create.topics.enable'])
    throw new ProtocolError('UNKNOWN_TOPIC_OR_PARTITION', `no topic '${name}'`);
  try {
    await view.channel.createTopic({
      name,
      partitions: s['num.partitions'],
      replicationFactor: s['default.replication.factor'] ?? 1,
      configs: {},
    });
  } catch (err) {
    if (err instanceof ProtocolError && err.name === 'TOPIC_ALREADY_EXISTS') return;
    throw err;
  }
}
