/**
 * Where each replica of some partitions stands: its log end offset, asked of
 * the replica's own broker (ListOffsets LATEST with replicaId -2, Kafka's
 * DEBUGGING_REPLICA_ID, which any replica answers with its log end offset),
 * and the partition's high watermark, asked of the leader as a consumer
 * asks (replicaId -1). One request per broker for each of the two, all at
 * once. For `Admin.describeReplicas` and `samsa topics describe`.
 *
 * Nothing here throws for a broker: a replica that cannot be reached (not
 * live in the metadata, the connection refused, a timeout) or that answers
 * with an error for a partition shows as unknown (null). It is a snapshot:
 * each broker answers at its own moment, so a follower may read ahead of a
 * HW read a moment earlier.
 */
import { ErrorCode, OffsetSpec, ProtocolError } from '../protocol/index.js';
import type { Cluster, PartitionMetadata, TopicMetadata } from './cluster.js';
import { ClientError } from './errors.js';
import { type TopicPartition, tpKey } from './list-offsets.js';

/** Kafka's ListOffsetsRequest.CONSUMER_REPLICA_ID and DEBUGGING_REPLICA_ID. */
const CONSUMER = -1;
const DEBUGGING = -2;

export interface ReplicaOffsets {
  /** By `topic-partition`: the HW, null when the leader could not tell. */
  highWatermarks: Map<string, number | null>;
  /** By `topic-partition`, then by broker id: that replica's log end offset, null when unknown. */
  logEndOffsets: Map<string, Map<number, number | null>>;
}

export interface ReplicaLogEndOffset {
  broker: number;
  /** null: unknown (the replica is offline, could not be reached, or answered an error). */
  logEndOffset: number | null;
}

/** A partition as Metadata describes it, and where its replicas stand. */
export interface PartitionReplicas extends PartitionMetadata {
  /** The leader's high watermark; null when there is no leader or it could not be asked. */
  highWatermark: number | null;
  /** One per assigned replica, in replica order. */
  logEndOffsets: ReplicaLogEndOffset[];
}

export interface TopicReplicas {
  name: string;
  isInternal: boolean;
  partitions: PartitionReplicas[];
}

/** `topics` with each partition's HW and each replica's log end offset added. */
export async function describeReplicas(
  cluster: Cluster,
  topics: readonly TopicMetadata[],
  timeoutMs: number,
): Promise<TopicReplicas[]> {
  const offsets = await replicaOffsets(cluster, topics, timeoutMs);
  return topics.map((t) => ({
    name: t.name,
    isInternal: t.isInternal,
    partitions: t.partitions.map((p) => {
      const key = tpKey({ topic: t.name, partition: p.partition });
      const ends = offsets.logEndOffsets.get(key);
      return {
        ...p,
        highWatermark: offsets.highWatermarks.get(key) ?? null,
        logEndOffsets: p.replicas.map((broker) => ({
          broker,
          logEndOffset: ends?.get(broker) ?? null,
        })),
      };
    }),
  }));
}

/** The log end offset of every replica and the HW of every partition of `topics`. */
export async function replicaOffsets(
  cluster: Cluster,
  topics: readonly TopicMetadata[],
  timeoutMs: number,
): Promise<ReplicaOffsets> {
  const byReplica = new Map<number, TopicPartition[]>();
  const byLeader = new Map<number, TopicPartition[]>();
  const out: ReplicaOffsets = { highWatermarks: new Map(), logEndOffsets: new Map() };
  for (const t of topics) {
    for (const p of t.partitions) {
      const tp = { topic: t.name, partition: p.partition };
      out.highWatermarks.set(tpKey(tp), null);
      out.logEndOffsets.set(tpKey(tp), new Map(p.replicas.map((r) => [r, null])));
      for (const r of p.replicas) if (!p.offlineReplicas.includes(r)) add(byReplica, r, tp);
      if (p.leader >= 0) add(byLeader, p.leader, tp);
    }
  }
  await Promise.all([
    ...[...byReplica].map(async ([broker, tps]) => {
      for (const [key, offset] of await latest(cluster, broker, tps, DEBUGGING, timeoutMs))
        out.logEndOffsets.get(key)!.set(broker, offset);
    }),
    ...[...byLeader].map(async ([broker, tps]) => {
      for (const [key, offset] of await latest(cluster, broker, tps, CONSUMER, timeoutMs))
        out.highWatermarks.set(key, offset);
    }),
  ]);
  return out;
}

function add(map: Map<number, TopicPartition[]>, broker: number, tp: TopicPartition): void {
  const list = map.get(broker);
  if (list === undefined) map.set(broker, [tp]);
  else list.push(tp);
}

/** LATEST of `tps` from one broker, by `topic-partition`; empty when the broker cannot be asked. */
async function latest(
  cluster: Cluster,
  broker: number,
  tps: readonly TopicPartition[],
  replicaId: number,
  timeoutMs: number,
): Promise<Map<string, number>> {
  const topics = new Map<string, { partitionIndex: number; timestamp: number }[]>();
  for (const tp of tps)
    topics.set(tp.topic, [
      ...(topics.get(tp.topic) ?? []),
      { partitionIndex: tp.partition, timestamp: OffsetSpec.LATEST },
    ]);
  const found = new Map<string, number>();
  try {
    const response = await cluster.connectionToNode(broker).request(
      'ListOffsets',
      {
        replicaId,
        isolationLevel: 0,
        topics: [...topics].map(([name, partitions]) => ({ name, partitions })),
      },
      { timeoutMs },
    );
    for (const t of response.topics)
      for (const p of t.partitions)
        if (p.errorCode === ErrorCode.NONE)
          found.set(tpKey({ topic: t.name, partition: p.partitionIndex }), p.offset);
  } catch (error) {
    // Unreachable, timed out, or not in the metadata: its replicas show as unknown.
    if (!(error instanceof ProtocolError || error instanceof ClientError)) throw error;
  }
  return found;
}
