/**
 * ListOffsets for any set of partitions: grouped by leader, one request per
 * leader, answers per partition. Shared by the consumer (seekToBeginning,
 * seekToEnd, auto.offset.reset) and the admin client.
 */
import { OffsetSpec, ProtocolError } from '../protocol/index.js';
import type { Cluster } from './cluster.js';
import type { Connection } from './connection.js';

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** What to look up: the earliest or latest offset, or the first offset at or after a time (ms). */
export type OffsetQuery = 'earliest' | 'latest' | { timestamp: number };

export interface ListedOffset extends TopicPartition {
  /** -1 when no record is that recent (a timestamp query). */
  offset: number;
  /** The found record's timestamp; -1 for earliest and latest. */
  timestamp: number;
}

export function tpKey(tp: TopicPartition): string {
  return `${tp.topic}-${tp.partition}`;
}

function specOf(query: OffsetQuery): number {
  if (query === 'earliest') return OffsetSpec.EARLIEST;
  if (query === 'latest') return OffsetSpec.LATEST;
  if (!Number.isSafeInteger(query.timestamp) || query.timestamp < 0)
    throw new TypeError(`a timestamp must be an integer ≥ 0, not ${query.timestamp}`);
  return query.timestamp;
}

/**
 * The offsets of `partitions`, in their order; throws the first partition's
 * error (a ProtocolError). With `retryForMs`, a retriable error (a leader
 * that moved, an election under way) refreshes the metadata and asks again
 * every `retryBackoffMs` until that much time has passed, as Kafka's admin
 * client does within `default.api.timeout.ms`.
 */
export async function listOffsets(
  cluster: Cluster,
  partitions: readonly TopicPartition[],
  query: OffsetQuery,
  retry: { retryForMs?: number; retryBackoffMs?: number } = {},
): Promise<ListedOffset[]> {
  const deadline = Date.now() + (retry.retryForMs ?? 0);
  for (;;) {
    try {
      return await listOffsetsOnce(cluster, partitions, query);
    } catch (err) {
      const retriable = err instanceof ProtocolError && err.retriable;
      if (!retriable || Date.now() >= deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, retry.retryBackoffMs ?? 100));
    }
  }
}

async function listOffsetsOnce(
  cluster: Cluster,
  partitions: readonly TopicPartition[],
  query: OffsetQuery,
): Promise<ListedOffset[]> {
  const timestamp = specOf(query);
  const byLeader = new Map<Connection, TopicPartition[]>();
  for (const tp of partitions) {
    const leader = await cluster.leaderFor(tp.topic, tp.partition);
    let list = byLeader.get(leader);
    if (list === undefined) byLeader.set(leader, (list = []));
    list.push(tp);
  }
  const found = new Map<string, ListedOffset>();
  await Promise.all(
    [...byLeader].map(async ([connection, tps]) => {
      const topics = new Map<string, { partitionIndex: number; timestamp: number }[]>();
      for (const tp of tps) {
        let list = topics.get(tp.topic);
        if (list === undefined) topics.set(tp.topic, (list = []));
        list.push({ partitionIndex: tp.partition, timestamp });
      }
      const response = await connection.request('ListOffsets', {
        replicaId: -1,
        isolationLevel: 0,
        topics: [...topics].map(([name, ps]) => ({ name, partitions: ps })),
      });
      for (const t of response.topics) {
        for (const p of t.partitions) {
          const tp = { topic: t.name, partition: p.partitionIndex };
          if (p.errorCode !== 0) {
            if (p.errorCode === 6 || p.errorCode === 3 || p.errorCode === 5)
              cluster.markStale(t.name);
            throw ProtocolError.fromCode(p.errorCode, `ListOffsets for ${tpKey(tp)}`);
          }
          found.set(tpKey(tp), { ...tp, offset: p.offset, timestamp: p.timestamp });
        }
      }
    }),
  );
  return partitions.map((tp) => {
    const listed = found.get(tpKey(tp));
    if (listed === undefined)
      throw new ProtocolError(
        'UNKNOWN_SERVER_ERROR',
        `ListOffsets gave no answer for ${tpKey(tp)}`,
      );
    return listed;
  });
}
