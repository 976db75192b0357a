/**
 * The cluster.id every broker of a cluster writes in its meta.properties.
 * Kafka formats every broker's storage with one id chosen once
 * (`kafka-storage format --cluster-id`). samsa has no format step, so the id
 * is derived from what every broker of a cluster is started with: the
 * `--cluster` list, brokers sorted by id, each `id@host:port` (the string
 * `formatClusterBrokers` writes). Its SHA-256, first 16 bytes, in base64url:
 * 22 characters, the shape of Kafka's ids.
 *
 * So brokers started with the same list share one id, without talking, and a
 * data dir written for another list, or without one, is refused at start
 * (Kafka's InconsistentClusterIdException). The price: changing any address
 * in the list makes a new cluster, whose brokers refuse the old data dirs.
 */
import { createHash } from 'node:crypto';
import { type BrokerEndpoint, formatClusterBrokers } from '../cluster-config.js';

export function clusterIdFor(brokers: readonly BrokerEndpoint[]): string {
  const list = formatClusterBrokers([...brokers].sort((a, b) => a.id - b.id));
  return createHash('sha256')
    .update(`samsa cluster ${list}`)
    .digest()
    .subarray(0, 16)
    .toString('base64url');
}
