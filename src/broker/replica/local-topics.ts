/**
 * The topics a broker of a cluster holds, made to match an image: a topic
 * with at least one partition this broker is a replica of is held (created
 * with every partition, all serving nothing until given a role), with the
 * image's log configs; a held topic the controller deleted is deleted.
 *
 * What is not the image's to decide is left alone: a topic on disk that no
 * image this broker has known names (made before the broker joined a
 * cluster, say) is kept, unserved, with a warning, and never deleted. A
 * held topic whose partition count differs from the image's is an older
 * topic of the same name: it is deleted and created again (without topic
 * ids, as Kafka has, that is the most this can tell).
 */
import type { MetadataImage, TopicImage } from '../../cluster/metadata-image.js';
import type { Logger } from '../../log/index.js';
import { TOPIC_DEFAULT_NAMES } from '../config.js';
import type { TopicManager } from '../topics.js';

const LOG_CONFIG_KEYS = new Set(Object.keys(TOPIC_DEFAULT_NAMES));

/** The image's configs that the log reads (min.insync.replicas and the like are the controller's). */
export function logConfigs(configs: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(configs).filter(([k]) => LOG_CONFIG_KEYS.has(k)));
}

export function holdsReplica(topic: TopicImage, brokerId: number): boolean {
  return topic.partitions.some((p) => p.replicas.includes(brokerId));
}

export interface TopicSync {
  /** Topics created here in this pass: each of their partitions needs its role, changed or not. */
  readonly created: Set<string>;
  /** Topics deleted here in this pass. */
  readonly deleted: Set<string>;
}

/**
 * Makes the held topics match `after`. `known` are images this broker has
 * applied (a topic in one of them is the cluster's, not a stray).
 * `beforeDelete` runs before a topic is deleted (stop fetching it).
 */
export async function syncTopics(
  topics: TopicManager,
  brokerId: number,
  known: readonly MetadataImage[],
  after: MetadataImage,
  logger: Logger,
  strays: Set<string>,
  beforeDelete: (name: string) => void,
): Promise<TopicSync> {
  const created = new Set<string>();
  const deleted = new Set<string>();
  const inImage = (image: MetadataImage, name: string) => Object.hasOwn(image.topics, name);
  for (const topic of topics.list()) {
    const name = topic.name;
    const wanted = inImage(after, name) && holdsReplica(after.topics[name]!, brokerId);
    if (wanted) continue;
    if (inImage(after, name) || known.some((image) => inImage(image, name))) {
      beforeDelete(name);
      await topics.delete(name);
      deleted.add(name);
    } else if (!strays.has(name)) {
      strays.add(name);
      logger.warn(
        `topic ${name} is on disk but in no metadata image of the cluster: kept, not served`,
      );
    }
  }
  for (const name of Object.keys(after.topics).sort()) {
    const image = after.topics[name]!;
    if (!holdsReplica(image, brokerId)) continue;
    const configs = logConfigs(image.configs);
    let local = topics.get(name);
    if (local !== undefined && local.partitions.length !== image.partitions.length) {
      logger.warn(
        `topic ${name} has ${local.partitions.length} partition(s) here and ` +
          `${image.partitions.length} in the cluster: an older topic of that name; replacing it`,
      );
      beforeDelete(name);
      await topics.delete(name);
      local = undefined;
    }
    if (local === undefined) {
      await topics.createReplica(name, image.partitions.length, configs);
      strays.delete(name);
      created.add(name);
    } else if (!sameConfigs(local.configs, configs)) {
      await topics.alterConfigs(name, configs);
    }
  }
  return { created, deleted };
}

function sameConfigs(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>) {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}
