/**
 * The controller: one broker at a time (the live one with the lowest id)
 * decides leaders and in-sync sets for the whole cluster, where ZooKeeper's
 * controller or the KRaft quorum decides them in Kafka. This file is its
 * core, a pure step function:
 *
 *   applyEvent(image, event) → { image', changes, error?, ... }
 *
 * Events are what the controller learns (a broker fenced or back, it became
 * the controller) and what it is asked (CreateTopics, DeleteTopics,
 * AlterPartition, ElectLeaders, AlterConfigs). The result is the next image and the
 * per-partition changes to push. A step that changes anything bumps
 * `metadataOffset` by one; a step that changes nothing returns the same
 * image object and no changes. A refused request returns the same image and
 * an error named as Kafka names it.
 *
 * Not here (the broker's side, src/cluster/runtime/): the heartbeats,
 * pushing images, persisting them, and waiting for acknowledgements.
 */
import { type PartitionChange, diffImages } from './changes.js';
import {
  type PreferredElectionOutcome,
  electLeaderless,
  electPreferredLeader,
  fenceBroker,
  fenceBrokers,
  unfenceBroker,
  unfenceBrokers,
} from './elections.js';
import { type AlterPartitionRequest, alterPartition } from './alter-partition.js';
import { type ControllerError, ControllerErrorName, controllerError } from './errors.js';
import {
  type ImageVersion,
  type MetadataImage,
  type PartitionRegistration,
  type TopicImage,
  allPartitions,
  compareImageVersions,
  liveBrokerIds,
} from './metadata-image.js';
import { type PlacementOptions, placeReplicas, placementOptionsFor } from './placement.js';
import { checkTopicConfigs, uncleanLeaderElectionEnabled } from './topic-configs.js';

export type ControllerEvent =
  /** This broker became the controller with a new epoch; `liveBrokerIds` is what its Liveness says. */
  | {
      readonly type: 'BecomeController';
      readonly brokerId: number;
      readonly controllerEpoch: number;
      readonly liveBrokerIds: readonly number[];
    }
  /** A broker's session expired (Kafka: fenced). */
  | { readonly type: 'BrokerFenced'; readonly brokerId: number }
  /** A broker was heard from after being dead, or for the first time (Kafka: unfenced). */
  | { readonly type: 'BrokerUnfenced'; readonly brokerId: number }
  /** CreateTopics, one topic. Placement options default to a hash of the name. */
  | {
      readonly type: 'CreateTopic';
      readonly name: string;
      readonly partitions: number;
      readonly replicationFactor: number;
      readonly configs?: Readonly<Record<string, string>>;
      readonly placement?: PlacementOptions;
    }
  /** DeleteTopics, one topic: it leaves the image, partitions and configs with it. */
  | { readonly type: 'DeleteTopic'; readonly name: string }
  | ({ readonly type: 'AlterPartition' } & AlterPartitionRequest)
  /** ElectLeaders(PREFERRED); every partition when `partitions` is absent. */
  | {
      readonly type: 'ElectPreferredLeaders';
      readonly partitions?: readonly { readonly topic: string; readonly partition: number }[];
    }
  /** AlterConfigs of one topic: a null value removes the key (back to the default). */
  | {
      readonly type: 'AlterTopicConfigs';
      readonly topic: string;
      readonly configs: Readonly<Record<string, string | null>>;
    };

export interface ControllerResult {
  readonly image: MetadataImage;
  /** The partitions this step changed, to push (each broker takes its share with localChanges). */
  readonly changes: readonly PartitionChange[];
  /** Why a request was refused; the image is then unchanged. */
  readonly error?: ControllerError;
  /** AlterPartition: the partition's state after the request, for the answer. */
  readonly partition?: PartitionRegistration;
  /** ElectPreferredLeaders: one outcome per partition. */
  readonly elections?: readonly {
    readonly topic: string;
    readonly partition: number;
    readonly outcome: PreferredElectionOutcome;
  }[];
}

// #region apply
export function applyEvent(image: MetadataImage, event: ControllerEvent): ControllerResult {
  switch (event.type) {
    case 'BecomeController':
      return becomeController(image, event);
    case 'BrokerFenced':
      return finish(image, fenceBroker(image, event.brokerId));
    case 'BrokerUnfenced':
      return finish(image, unfenceBroker(image, event.brokerId));
    case 'CreateTopic':
      return createTopic(image, event);
    case 'DeleteTopic':
      return deleteTopic(image, event.name);
    case 'AlterPartition': {
      const result = alterPartition(image, event);
      if (result.error !== undefined) return { image, changes: [], error: result.error };
      return { ...finish(image, result.image), partition: result.partition };
    }
    case 'ElectPreferredLeaders':
      return electPreferred(image, event.partitions);
    case 'AlterTopicConfigs':
      return alterTopicConfigs(image, event.topic, event.configs);
  }
}

/** The result of a step from `before` to `after`: the offset bumped once if anything changed. */
function finish(before: MetadataImage, after: MetadataImage): ControllerResult {
  if (after === before) return { image: before, changes: [] };
  const image = { ...after, metadataOffset: before.metadataOffset + 1 };
  return { image, changes: diffImages(before, image) };
}
// #endregion apply

// #region become-controller
/**
 * A broker takes over with a controller epoch above every one before (else
 * STALE_CONTROLLER_EPOCH). It starts from the newest image it could get (its
 * own, or a fresher peer's: see `Liveness.fresherPeer`) and makes it agree
 * with what it sees. The brokers it does not hear from are fenced first, all
 * at once, which moves the leadership of every partition they led (the old
 * controller's included) to brokers known live; then the brokers it hears
 * from are unfenced, and may take leaderless partitions. In that order no
 * dead broker is ever elected on the way.
 */
function becomeController(
  image: MetadataImage,
  event: Extract<ControllerEvent, { type: 'BecomeController' }>,
): ControllerResult {
  if (!(event.controllerEpoch > image.controllerEpoch)) {
    return {
      image,
      changes: [],
      error: controllerError(
        ControllerErrorName.STALE_CONTROLLER_EPOCH,
        `controller epoch ${event.controllerEpoch} is not above ${image.controllerEpoch}`,
      ),
    };
  }
  const live = new Set([...event.liveBrokerIds, event.brokerId]);
  let next: MetadataImage = {
    ...image,
    controllerEpoch: event.controllerEpoch,
    controllerId: event.brokerId,
  };
  const ids = next.brokers.map((b) => b.id);
  next = fenceBrokers(
    next,
    ids.filter((id) => !live.has(id)),
  );
  next = unfenceBrokers(
    next,
    ids.filter((id) => live.has(id)),
  );
  return finish(image, next);
}

/** The epoch a new controller takes: one above the highest it has seen (Liveness.highestControllerEpochSeen). */
export function nextControllerEpoch(highestSeen: number): number {
  return highestSeen + 1;
}

/** The newer of two images, by (controllerEpoch, metadataOffset): what a new controller starts from. */
export function newerImage(a: MetadataImage, b: MetadataImage): MetadataImage {
  return compareImageVersions(b, a) > 0 ? b : a;
}
// #endregion become-controller

// #region create-topic
/** Kafka's legal topic names: 1 to 249 of [a-zA-Z0-9._-], not "." nor "..". */
const LEGAL_TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

function createTopic(
  image: MetadataImage,
  event: Extract<ControllerEvent, { type: 'CreateTopic' }>,
): ControllerResult {
  const refuse = (error: ControllerError): ControllerResult => ({ image, changes: [], error });
  const { name, partitions, replicationFactor } = event;
  const configs = { ...(event.configs ?? {}) };
  if (!LEGAL_TOPIC_NAME.test(name) || name === '.' || name === '..') {
    return refuse(
      controllerError(ControllerErrorName.INVALID_TOPIC_EXCEPTION, `illegal topic name "${name}"`),
    );
  }
  if (Object.hasOwn(image.topics, name)) {
    return refuse(
      controllerError(ControllerErrorName.TOPIC_ALREADY_EXISTS, `topic ${name} exists already`),
    );
  }
  const configError = checkTopicConfigs(configs);
  if (configError !== undefined) return refuse(configError);
  const live = liveBrokerIds(image);
  const placement = placeReplicas(
    live,
    partitions,
    replicationFactor,
    event.placement ?? placementOptionsFor(name, live.length),
  );
  if (placement.error !== undefined) return refuse(placement.error);
  // Every replica is live, so the ISR is all of them and the preferred replica leads.
  const topic: TopicImage = {
    name,
    configs,
    partitions: placement.assignments.map((replicas) => ({
      replicas,
      isr: replicas,
      leader: replicas[0]!,
      leaderEpoch: 0,
      partitionEpoch: 0,
    })),
  };
  return finish(image, { ...image, topics: { ...image.topics, [name]: topic } });
}
// #endregion create-topic

// #region delete-topic
/**
 * The topic leaves the image; each broker that held a replica of it deletes
 * its log when it applies the image (its ImageListener sees the topic gone).
 * The step's `changes` are empty: diffImages lists the partitions an image
 * has, not the ones it lost. Without topic ids (Kafka's KIP-516), a topic
 * created again under the same name starts again at epoch 0: a broker that
 * missed the deletion sees only that the epochs went back.
 */
function deleteTopic(image: MetadataImage, name: string): ControllerResult {
  if (!Object.hasOwn(image.topics, name)) {
    return {
      image,
      changes: [],
      error: controllerError(ControllerErrorName.UNKNOWN_TOPIC_OR_PARTITION, `no topic ${name}`),
    };
  }
  const topics = Object.fromEntries(Object.entries(image.topics).filter(([n]) => n !== name));
  return finish(image, { ...image, topics });
}
// #endregion delete-topic

function electPreferred(
  image: MetadataImage,
  which: readonly { topic: string; partition: number }[] | undefined,
): ControllerResult {
  const targets =
    which ?? [...allPartitions(image)].map(({ topic, partition }) => ({ topic, partition }));
  let next = image;
  const elections = targets.map(({ topic, partition }) => {
    const step = electPreferredLeader(next, topic, partition);
    next = step.image;
    return { topic, partition, outcome: step.outcome };
  });
  return { ...finish(image, next), elections };
}

function alterTopicConfigs(
  image: MetadataImage,
  name: string,
  changes: Readonly<Record<string, string | null>>,
): ControllerResult {
  if (!Object.hasOwn(image.topics, name)) {
    return {
      image,
      changes: [],
      error: controllerError(ControllerErrorName.UNKNOWN_TOPIC_OR_PARTITION, `no topic ${name}`),
    };
  }
  const topic = image.topics[name]!;
  const configs: Record<string, string> = { ...topic.configs };
  for (const [key, value] of Object.entries(changes)) {
    if (value === null) delete configs[key];
    else configs[key] = value;
  }
  const error = checkTopicConfigs(configs);
  if (error !== undefined) return { image, changes: [], error };
  const same =
    Object.keys(configs).length === Object.keys(topic.configs).length &&
    Object.entries(configs).every(([k, v]) => topic.configs[k] === v);
  if (same) return { image, changes: [] };
  let next: MetadataImage = {
    ...image,
    topics: { ...image.topics, [name]: { ...topic, configs } },
  };
  // Turning unclean election on brings leaderless partitions back at once, as Kafka does.
  if (uncleanLeaderElectionEnabled(next.topics[name]!)) {
    next = electLeaderless(next, (t) => t.name === name);
  }
  return finish(image, next);
}

// #region commit
/**
 * The highest metadata offset every live broker has acknowledged (persisted):
 * a change up to it is committed, and survives the controller's death,
 * because the next controller is one of those brokers. Brokers act on a
 * pushed image only up to this offset, which the controller sends with each
 * push and heartbeat. This is the high watermark of src/replication with
 * the live brokers as the ISR.
 */
export function committedMetadataOffset(
  controller: ImageVersion & { readonly controllerId: number },
  acknowledged: ReadonlyMap<number, number>,
  liveIds: Iterable<number>,
): number {
  let committed = controller.metadataOffset;
  for (const id of liveIds) {
    if (id === controller.controllerId) continue;
    committed = Math.min(committed, acknowledged.get(id) ?? 0);
  }
  return committed;
}
// #endregion commit
