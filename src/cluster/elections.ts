/**
 * Leader election and ISR changes: how one partition's registration moves,
 * Kafka's PartitionChangeBuilder (KRaft) without reassignments and without
 * eligible leader replicas (KIP-966), and the image-wide steps built on it:
 * a broker fenced (dead), a broker unfenced (back), a preferred leader
 * election, unclean elections for leaderless partitions.
 *
 * Rules of one change:
 * - a leader must be acceptable (a live broker);
 * - a clean leader also comes from the (target) ISR. The current leader
 *   stays if it still qualifies; otherwise the first replica, in replica
 *   order, that does. A preferred election tries the first replica first;
 * - an unclean election (only when the topic enables it, and only when no
 *   clean leader exists) takes the first live replica, and the ISR becomes
 *   that replica alone;
 * - the ISR is never written empty: when the last member goes, it stays in
 *   the ISR and the partition has no leader (KRaft's behaviour; the member
 *   that holds every committed record is then the one to wait for);
 * - any change bumps the partition epoch; a leader change (to NO_LEADER too)
 *   also bumps the leader epoch; an ISR-only change does not (Kafka ≥ 3.6).
 *
 * Why a clean leader comes from the ISR: a record is committed once every ISR
 * member has it (the high watermark of src/replication/high-watermark.ts),
 * and the controller removes a replica from the ISR only with the leader's
 * consent (AlterPartition) or when the replica dies. So every ISR member holds
 * every committed record, and a new leader taken from the ISR loses none: the
 * followers then truncate to it by leader epoch (src/replication/divergence.ts).
 * An unclean leader may hold less; what it lacks is lost, and the replicas
 * then agree on its log (docs/replication.md measures how much).
 */
import {
  type MetadataImage,
  NO_LEADER,
  type PartitionRegistration,
  type TopicImage,
  hasPreferredLeader,
  isLiveBroker,
  mapPartitions,
  withBrokerLive,
} from './metadata-image.js';
import { ControllerErrorName } from './errors.js';
import { uncleanLeaderElectionEnabled } from './topic-configs.js';

/** Kafka's PartitionChangeBuilder.Election. */
export const Election = {
  /** Keep the partition online: a leader from the ISR. */
  ONLINE: 'ONLINE',
  /** Like ONLINE, but try the preferred replica (the first) before the current leader. */
  PREFERRED: 'PREFERRED',
  /** Like ONLINE, and if the ISR has no live member, any live replica. */
  UNCLEAN: 'UNCLEAN',
} as const;
export type Election = (typeof Election)[keyof typeof Election];

export interface PartitionChangeSpec {
  /** The ISR wanted; the current one by default. Put in replica order; empty means keep the last member. */
  readonly targetIsr?: readonly number[];
  readonly election: Election;
  readonly isAcceptableLeader: (brokerId: number) => boolean;
}

// #region elect
/** Kafka's PartitionChangeBuilder.electLeader: the new leader, and whether it is unclean. */
export function electLeader(
  p: PartitionRegistration,
  targetIsr: readonly number[],
  election: Election,
  isAcceptableLeader: (brokerId: number) => boolean,
): { leader: number; unclean: boolean } {
  const valid = (id: number): boolean => targetIsr.includes(id) && isAcceptableLeader(id);
  const preferred = p.replicas[0]!;
  if (election === Election.PREFERRED && valid(preferred))
    return { leader: preferred, unclean: false };
  if (p.leader !== NO_LEADER && valid(p.leader)) return { leader: p.leader, unclean: false };
  const clean = p.replicas.find(valid);
  if (clean !== undefined) return { leader: clean, unclean: false };
  if (election === Election.UNCLEAN) {
    const any = p.replicas.find(isAcceptableLeader);
    if (any !== undefined) return { leader: any, unclean: true };
  }
  return { leader: NO_LEADER, unclean: false };
}
// #endregion elect

// #region change
/**
 * The partition after a change: the same object when nothing changed, so
 * that no epoch moves for nothing.
 */
export function changePartition(
  p: PartitionRegistration,
  spec: PartitionChangeSpec,
): PartitionRegistration {
  const wanted = spec.targetIsr ?? p.isr;
  const targetIsr = p.replicas.filter((r) => wanted.includes(r));
  const { leader, unclean } = electLeader(p, targetIsr, spec.election, spec.isAcceptableLeader);
  // KRaft without ELR never writes an empty ISR: the last member stays.
  let isr: readonly number[] = targetIsr.length > 0 ? targetIsr : p.isr;
  if (unclean) isr = [leader]; // forced: whatever the others hold is no longer known to be there
  const leaderChanged = leader !== p.leader;
  const isrChanged = isr.length !== p.isr.length || isr.some((r, i) => r !== p.isr[i]);
  if (!leaderChanged && !isrChanged) return p;
  return {
    replicas: p.replicas,
    isr,
    leader,
    leaderEpoch: leaderChanged ? p.leaderEpoch + 1 : p.leaderEpoch,
    partitionEpoch: p.partitionEpoch + 1,
  };
}
// #endregion change

/** The election a topic allows when a partition must move: UNCLEAN if the topic enables it. */
export function onlineElectionFor(topic: TopicImage): Election {
  return uncleanLeaderElectionEnabled(topic) ? Election.UNCLEAN : Election.ONLINE;
}

// #region fence
/**
 * Brokers whose sessions expired (Kafka: handleBrokerFenced). They are marked
 * dead, removed from every ISR where they are not the last members, and
 * every partition they led gets a new leader (or none), in one change per
 * partition however many brokers go at once.
 */
export function fenceBrokers(image: MetadataImage, brokerIds: readonly number[]): MetadataImage {
  const gone = brokerIds.filter((id) => image.brokers.some((b) => b.id === id && b.live));
  if (gone.length === 0) return image;
  const fenced = gone.reduce((img, id) => withBrokerLive(img, id, false), image);
  const acceptable = (id: number): boolean => isLiveBroker(fenced, id);
  return mapPartitions(fenced, (topic, _i, p) =>
    p.isr.some((r) => gone.includes(r))
      ? changePartition(p, {
          targetIsr: p.isr.filter((r) => !gone.includes(r)),
          election: onlineElectionFor(topic),
          isAcceptableLeader: acceptable,
        })
      : p,
  );
}

export function fenceBroker(image: MetadataImage, brokerId: number): MetadataImage {
  return fenceBrokers(image, [brokerId]);
}

/**
 * Brokers heard from again (Kafka: handleBrokerUnfenced). They are marked
 * live and rejoin their partitions as followers: none is put back into an
 * ISR here (its leader asks, with AlterPartition, once it has caught up).
 * The only partitions they may lead at once are leaderless ones: where one
 * is the last ISR member, or, if the topic allows it, any replica (unclean).
 */
export function unfenceBrokers(image: MetadataImage, brokerIds: readonly number[]): MetadataImage {
  const unfenced = brokerIds.reduce((img, id) => withBrokerLive(img, id, true), image);
  if (unfenced === image) return image;
  return electLeaderless(unfenced, () => true);
}

export function unfenceBroker(image: MetadataImage, brokerId: number): MetadataImage {
  return unfenceBrokers(image, [brokerId]);
}
// #endregion fence

/**
 * Elects a leader, with each topic's own election, for every leaderless
 * partition of the topics `which` selects (Kafka's
 * maybeTriggerUncleanLeaderElectionForLeaderlessPartitions when a topic turns
 * unclean election on).
 */
export function electLeaderless(
  image: MetadataImage,
  which: (topic: TopicImage) => boolean,
): MetadataImage {
  const acceptable = (id: number): boolean => isLiveBroker(image, id);
  return mapPartitions(image, (topic, _i, p) =>
    p.leader === NO_LEADER && which(topic)
      ? changePartition(p, { election: onlineElectionFor(topic), isAcceptableLeader: acceptable })
      : p,
  );
}

// #region preferred
export type PreferredElectionOutcome =
  | 'NONE'
  | typeof ControllerErrorName.ELECTION_NOT_NEEDED
  | typeof ControllerErrorName.PREFERRED_LEADER_NOT_AVAILABLE
  | typeof ControllerErrorName.UNKNOWN_TOPIC_OR_PARTITION;

/**
 * Kafka's ElectLeaders with ElectionType.PREFERRED for one partition (what
 * auto.leader.rebalance.enable runs on a timer; here an explicit call):
 * leadership goes back to the first replica if it is live and in the ISR.
 * ELECTION_NOT_NEEDED when it leads already; PREFERRED_LEADER_NOT_AVAILABLE
 * when nothing could change.
 */
export function electPreferredLeader(
  image: MetadataImage,
  topic: string,
  partition: number,
): { image: MetadataImage; outcome: PreferredElectionOutcome } {
  const t = Object.hasOwn(image.topics, topic) ? image.topics[topic]! : undefined;
  const p = t?.partitions[partition];
  if (t === undefined || p === undefined) {
    return { image, outcome: ControllerErrorName.UNKNOWN_TOPIC_OR_PARTITION };
  }
  if (hasPreferredLeader(p)) return { image, outcome: ControllerErrorName.ELECTION_NOT_NEEDED };
  const next = changePartition(p, {
    election: Election.PREFERRED,
    isAcceptableLeader: (id) => isLiveBroker(image, id),
  });
  if (next === p) return { image, outcome: ControllerErrorName.PREFERRED_LEADER_NOT_AVAILABLE };
  const partitions = t.partitions.map((q, i) => (i === partition ? next : q));
  return {
    image: { ...image, topics: { ...image.topics, [topic]: { ...t, partitions } } },
    outcome: 'NONE',
  };
}
// #endregion preferred
