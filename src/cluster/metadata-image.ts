/**
 * The metadata image: everything the controller decides, as one immutable
 * value (Kafka's MetadataImage: the brokers, the topics and, per partition,
 * the PartitionRegistration). Each controller step takes an image and returns
 * a new one; nothing is changed in place, so an old image can be kept, diffed
 * against the new one, and persisted while the next step runs.
 *
 * Invariants (checked by `validateImage`, kept by every controller step):
 * - brokers are sorted by id and distinct;
 * - a partition's replicas are distinct known brokers, the same count for
 *   every partition of its topic; the first is the preferred leader;
 * - the ISR is a non-empty subset of the replicas, in replica order;
 * - the leader is NO_LEADER or a member of the ISR;
 * - epochs and the metadata offset are non-negative integers.
 * The controller keeps one more, which an image alone cannot show: a leader
 * is always a live broker.
 */
import { ClusterError, ClusterErrorCode } from './errors.js';

/** Kafka's LeaderConstants.NO_LEADER. */
export const NO_LEADER = -1;
export const NO_CONTROLLER = -1;

/** The version of the image format written by `imageToJson`. */
export const IMAGE_FORMAT_VERSION = 1;

export interface BrokerRegistration {
  readonly id: number;
  readonly host: string;
  readonly port: number;
  /** Heard from within a session timeout, as the controller sees it (Kafka: not fenced). */
  readonly live: boolean;
}

/** Kafka's PartitionRegistration, without reassignment and ELR fields. */
export interface PartitionRegistration {
  /** The assigned replicas (Kafka's AR), in order; the first is the preferred leader. */
  readonly replicas: readonly number[];
  /** The in-sync replicas, in replica order. Never empty: the last member stays (KRaft). */
  readonly isr: readonly number[];
  /** The leader's broker id, or NO_LEADER. */
  readonly leader: number;
  /** Bumped on every leader change (to NO_LEADER too). Stamped into every batch the leader writes. */
  readonly leaderEpoch: number;
  /** Bumped on every change of this partition: the version AlterPartition is checked against. */
  readonly partitionEpoch: number;
}

export interface TopicImage {
  readonly name: string;
  /** Topic configs with Kafka's names and string values, as CreateTopics carries them. */
  readonly configs: Readonly<Record<string, string>>;
  /** Indexed by partition number. */
  readonly partitions: readonly PartitionRegistration[];
}

export interface ImageVersion {
  /** Bumped by each new controller; a broker ignores pushes from a lower one (fencing). */
  readonly controllerEpoch: number;
  /** Bumped by every controller step that changed anything. */
  readonly metadataOffset: number;
}

export interface MetadataImage extends ImageVersion {
  /** The broker that made this image, or NO_CONTROLLER before the first one. */
  readonly controllerId: number;
  /** By ascending id. */
  readonly brokers: readonly BrokerRegistration[];
  /** By name. */
  readonly topics: Readonly<Record<string, TopicImage>>;
}

/** The image a cluster starts from: every broker known, none live, no controller yet. */
export function emptyImage(
  brokers: readonly { id: number; host: string; port: number }[],
): MetadataImage {
  return {
    controllerEpoch: 0,
    controllerId: NO_CONTROLLER,
    metadataOffset: 0,
    brokers: [...brokers]
      .sort((a, b) => a.id - b.id)
      .map(({ id, host, port }) => ({ id, host, port, live: false })),
    topics: {},
  };
}

// #region lookups
export function liveBrokerIds(image: MetadataImage): number[] {
  return image.brokers.filter((b) => b.live).map((b) => b.id);
}

export function isLiveBroker(image: MetadataImage, id: number): boolean {
  return image.brokers.some((b) => b.id === id && b.live);
}

export function partitionOf(
  image: MetadataImage,
  topic: string,
  partition: number,
): PartitionRegistration | undefined {
  return Object.hasOwn(image.topics, topic)
    ? image.topics[topic]!.partitions[partition]
    : undefined;
}

/** Every partition, topics by name then partitions by index. */
export function* allPartitions(
  image: MetadataImage,
): Generator<{ topic: string; partition: number; registration: PartitionRegistration }> {
  for (const name of Object.keys(image.topics).sort()) {
    const t = image.topics[name]!;
    for (let p = 0; p < t.partitions.length; p++) {
      yield { topic: name, partition: p, registration: t.partitions[p]! };
    }
  }
}

/** Kafka's `hasPreferredLeader`: the leader is the first assigned replica. */
export function hasPreferredLeader(p: PartitionRegistration): boolean {
  return p.leader !== NO_LEADER && p.leader === p.replicas[0];
}
// #endregion lookups

// #region versions
/** Orders images by (controllerEpoch, metadataOffset): the later controller wins, then the later change. */
export function compareImageVersions(a: ImageVersion, b: ImageVersion): number {
  return a.controllerEpoch - b.controllerEpoch || a.metadataOffset - b.metadataOffset;
}

/**
 * Whether a broker holding `current` takes a pushed image: only a newer one.
 * A push from a lower controller epoch comes from a controller that has been
 * replaced (it paused, or does not know yet): it is fenced off here.
 */
export function acceptsPush(current: ImageVersion, pushed: ImageVersion): boolean {
  return compareImageVersions(pushed, current) > 0;
}
// #endregion versions

// #region json
/** The image as JSON, for the broker to persist (a small file, written atomically by the caller). */
export function imageToJson(image: MetadataImage): string {
  return JSON.stringify({ version: IMAGE_FORMAT_VERSION, ...image });
}

/** Parses and validates what `imageToJson` wrote. Throws CLUSTER_CORRUPT_IMAGE. */
export function imageFromJson(text: string): MetadataImage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new ClusterError(ClusterErrorCode.CORRUPT_IMAGE, 'metadata image is not JSON', { cause });
  }
  if (!isObject(parsed) || parsed.version !== IMAGE_FORMAT_VERSION) {
    corrupt(`unknown format version ${isObject(parsed) ? String(parsed.version) : '?'}`);
  }
  return validateImage(Object.fromEntries(Object.entries(parsed).filter(([k]) => k !== 'version')));
}

/** Checks every invariant of the header comment; returns a clean copy or throws CLUSTER_CORRUPT_IMAGE. */
export function validateImage(value: unknown): MetadataImage {
  if (!isObject(value)) corrupt('not an object');
  const controllerEpoch = count(value.controllerEpoch, 'controllerEpoch');
  const metadataOffset = count(value.metadataOffset, 'metadataOffset');
  const controllerId = value.controllerId;
  if (controllerId !== NO_CONTROLLER) count(controllerId, 'controllerId');
  if (!Array.isArray(value.brokers)) corrupt('brokers is not an array');
  const brokers: BrokerRegistration[] = value.brokers.map((b: unknown, i: number) => {
    if (!isObject(b)) corrupt(`broker ${i} is not an object`);
    const id = count(b.id, `broker ${i} id`);
    if (typeof b.host !== 'string' || b.host === '') corrupt(`broker ${id} has no host`);
    const port = count(b.port, `broker ${id} port`);
    if (typeof b.live !== 'boolean') corrupt(`broker ${id} live is not a boolean`);
    return { id, host: b.host, port, live: b.live };
  });
  brokers.forEach((b, i) => {
    if (i > 0 && b.id <= brokers[i - 1]!.id) corrupt('brokers are not sorted by distinct id');
  });
  const known = new Set(brokers.map((b) => b.id));
  if (!isObject(value.topics)) corrupt('topics is not an object');
  const topics: Record<string, TopicImage> = {};
  for (const [name, t] of Object.entries(value.topics)) {
    if (!isObject(t) || t.name !== name) corrupt(`topic ${name} is malformed`);
    if (!isObject(t.configs) || !Object.values(t.configs).every((v) => typeof v === 'string')) {
      corrupt(`topic ${name} configs are not strings`);
    }
    if (!Array.isArray(t.partitions) || t.partitions.length === 0) {
      corrupt(`topic ${name} has no partitions`);
    }
    const partitions = t.partitions.map((p: unknown, i: number) =>
      validatePartition(p, `${name}-${i}`, known),
    );
    if (partitions.some((p) => p.replicas.length !== partitions[0]!.replicas.length)) {
      corrupt(`topic ${name} has partitions of different replication factors`);
    }
    define(topics, name, {
      name,
      configs: { ...(t.configs as Record<string, string>) },
      partitions,
    });
  }
  return {
    controllerEpoch,
    controllerId: controllerId as number,
    metadataOffset,
    brokers,
    topics,
  };
}

function validatePartition(p: unknown, where: string, known: Set<number>): PartitionRegistration {
  if (!isObject(p)) corrupt(`${where} is not an object`);
  const replicas = ids(p.replicas, `${where} replicas`);
  const isr = ids(p.isr, `${where} isr`);
  if (replicas.length === 0 || new Set(replicas).size !== replicas.length) {
    corrupt(`${where} replicas must be distinct and not empty`);
  }
  if (!replicas.every((r) => known.has(r))) corrupt(`${where} names an unknown broker`);
  if (isr.length === 0 || !isr.every((r) => replicas.includes(r))) {
    corrupt(`${where} isr must be a non-empty subset of the replicas`);
  }
  const inOrder = replicas.filter((r) => isr.includes(r));
  if (inOrder.length !== isr.length || inOrder.some((r, i) => r !== isr[i])) {
    corrupt(`${where} isr is not in replica order`);
  }
  const leader = p.leader;
  if (leader !== NO_LEADER && !(typeof leader === 'number' && isr.includes(leader))) {
    corrupt(`${where} leader is neither ${NO_LEADER} nor in the isr`);
  }
  return {
    replicas,
    isr,
    leader: leader as number,
    leaderEpoch: count(p.leaderEpoch, `${where} leaderEpoch`),
    partitionEpoch: count(p.partitionEpoch, `${where} partitionEpoch`),
  };
}
// #endregion json

/** Sets an own property, even one named `__proto__` (a legal topic name), which `o[k] = v` would not. */
function define<T>(o: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function count(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) corrupt(`${what} is not a count`);
  return v;
}

function ids(v: unknown, what: string): number[] {
  if (!Array.isArray(v)) corrupt(`${what} is not an array`);
  return v.map((x) => count(x, what));
}

function corrupt(reason: string): never {
  throw new ClusterError(ClusterErrorCode.CORRUPT_IMAGE, `metadata image is corrupt: ${reason}`);
}

// #region updates
/**
 * A copy of the image with each partition passed through `change`; the same
 * image object when `change` returned every partition unchanged, so a caller
 * can tell "nothing to do" by identity.
 */
export function mapPartitions(
  image: MetadataImage,
  change: (topic: TopicImage, partition: number, p: PartitionRegistration) => PartitionRegistration,
): MetadataImage {
  let changed = false;
  const topics: Record<string, TopicImage> = {};
  for (const [name, topic] of Object.entries(image.topics)) {
    const partitions = topic.partitions.map((p, i) => change(topic, i, p));
    if (partitions.some((p, i) => p !== topic.partitions[i])) {
      changed = true;
      define(topics, name, { ...topic, partitions });
    } else {
      define(topics, name, topic);
    }
  }
  return changed ? { ...image, topics } : image;
}

/** A copy with one broker's `live` flag set; the same image when it already was. */
export function withBrokerLive(image: MetadataImage, id: number, live: boolean): MetadataImage {
  if (!image.brokers.some((b) => b.id === id && b.live !== live)) return image;
  return { ...image, brokers: image.brokers.map((b) => (b.id === id ? { ...b, live } : b)) };
}
// #endregion updates
