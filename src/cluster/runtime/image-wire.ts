/**
 * The metadata image to and from its wire form (src/protocol/apis/metadata-image.ts):
 * topics by name and configs by key become lists, and back. Coming back, the
 * image is checked against every invariant of `validateImage`, so a broker
 * never takes an image it could not have made itself; a bad one throws
 * CLUSTER_CORRUPT_IMAGE.
 */
import type { WireMetadataImage } from '../../protocol/index.js';
import { ClusterError, ClusterErrorCode } from '../errors.js';
import { type MetadataImage, validateImage } from '../metadata-image.js';

export function imageToWire(image: MetadataImage): WireMetadataImage {
  return {
    controllerEpoch: image.controllerEpoch,
    controllerId: image.controllerId,
    metadataOffset: image.metadataOffset,
    brokers: image.brokers.map(({ id, host, port, live }) => ({ id, host, port, live })),
    topics: Object.keys(image.topics)
      .sort()
      .map((name) => {
        const topic = image.topics[name]!;
        return {
          name,
          configs: Object.entries(topic.configs).map(([key, value]) => ({ name: key, value })),
          partitions: topic.partitions.map((p) => ({
            replicas: [...p.replicas],
            isr: [...p.isr],
            leader: p.leader,
            leaderEpoch: p.leaderEpoch,
            partitionEpoch: p.partitionEpoch,
          })),
        };
      }),
  };
}

/** Throws CLUSTER_CORRUPT_IMAGE when the image breaks an invariant (a topic or key named twice, too). */
export function imageFromWire(wire: WireMetadataImage): MetadataImage {
  // Maps, then fromEntries: a topic or key named `__proto__` stays an own property.
  const topics = new Map<string, unknown>();
  for (const t of wire.topics) {
    if (topics.has(t.name)) corrupt(`topic ${t.name} appears twice`);
    const configs = new Map<string, string>();
    for (const c of t.configs) {
      if (configs.has(c.name)) corrupt(`config ${c.name} of ${t.name} appears twice`);
      configs.set(c.name, c.value);
    }
    topics.set(t.name, {
      name: t.name,
      configs: Object.fromEntries(configs),
      partitions: t.partitions,
    });
  }
  return validateImage({ ...wire, topics: Object.fromEntries(topics) });
}

function corrupt(reason: string): never {
  throw new ClusterError(ClusterErrorCode.CORRUPT_IMAGE, `metadata image is corrupt: ${reason}`);
}
