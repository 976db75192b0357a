/**
 * What a new image asks of each broker. The controller pushes images; a
 * broker diffs the image it had against the new one and applies what
 * concerns its own replicas (Kafka's TopicsDelta.localChanges): become the
 * leader of a partition at leader epoch E with ISR S, or follow broker L at
 * epoch E. A diff rather than a list of commands makes the push idempotent
 * and lets a broker that missed pushes, or a new controller, catch up in
 * one step.
 */
import { type MetadataImage, NO_LEADER, type PartitionRegistration } from './metadata-image.js';

export interface PartitionChange {
  readonly topic: string;
  readonly partition: number;
  /** Undefined for a partition the new image creates. */
  readonly before: PartitionRegistration | undefined;
  readonly after: PartitionRegistration;
  readonly leaderChanged: boolean;
  /**
   * The new leader was not in the ISR before: records committed under the
   * old leader may be missing from it (an unclean election). A clean
   * election always takes the leader from the previous ISR.
   */
  readonly unclean: boolean;
}

// #region diff
/** Every partition whose registration differs between the two images, by topic then partition. */
export function diffImages(before: MetadataImage, after: MetadataImage): PartitionChange[] {
  const changes: PartitionChange[] = [];
  for (const name of Object.keys(after.topics).sort()) {
    const old = Object.hasOwn(before.topics, name) ? before.topics[name] : undefined;
    after.topics[name]!.partitions.forEach((p, i) => {
      const q = old?.partitions[i];
      if (q !== undefined && samePartition(q, p)) return;
      const leaderChanged = q === undefined || q.leader !== p.leader;
      changes.push({
        topic: name,
        partition: i,
        before: q,
        after: p,
        leaderChanged,
        unclean:
          q !== undefined && leaderChanged && p.leader !== NO_LEADER && !q.isr.includes(p.leader),
      });
    });
  }
  return changes;
}

function samePartition(a: PartitionRegistration, b: PartitionRegistration): boolean {
  return (
    a === b ||
    (a.leader === b.leader &&
      a.leaderEpoch === b.leaderEpoch &&
      a.partitionEpoch === b.partitionEpoch &&
      sameIds(a.isr, b.isr) &&
      sameIds(a.replicas, b.replicas))
  );
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
// #endregion diff

/** Kafka's LeaderAndIsr: one partition's state as a broker receives it. */
export interface LeaderAndIsr {
  readonly topic: string;
  readonly partition: number;
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly isr: readonly number[];
  readonly partitionEpoch: number;
  readonly replicas: readonly number[];
  /** False for an ISR-only change: the leader keeps its epoch and its followers' state. */
  readonly leaderEpochChanged: boolean;
}

/** Kafka's LocalReplicaChanges, without deletes. */
export interface LocalReplicaChanges {
  /** Partitions this broker now leads, or whose ISR changed while it leads them. */
  readonly leaders: readonly LeaderAndIsr[];
  /**
   * Partitions this broker now follows under a new leader epoch; `leader` may
   * be NO_LEADER (stop fetching, keep the log, wait).
   */
  readonly followers: readonly LeaderAndIsr[];
}

// #region local
/** What the changes ask of broker `brokerId`. */
export function localChanges(
  brokerId: number,
  changes: readonly PartitionChange[],
): LocalReplicaChanges {
  const leaders: LeaderAndIsr[] = [];
  const followers: LeaderAndIsr[] = [];
  for (const c of changes) {
    const { after, before } = c;
    if (!after.replicas.includes(brokerId)) continue;
    const leaderEpochChanged = before === undefined || before.leaderEpoch !== after.leaderEpoch;
    const state: LeaderAndIsr = {
      topic: c.topic,
      partition: c.partition,
      leader: after.leader,
      leaderEpoch: after.leaderEpoch,
      isr: after.isr,
      partitionEpoch: after.partitionEpoch,
      replicas: after.replicas,
      leaderEpochChanged,
    };
    if (after.leader === brokerId) leaders.push(state);
    else if (leaderEpochChanged) followers.push(state);
  }
  return { leaders, followers };
}
// #endregion local
