/**
 * OffsetsForLeaderEpoch: where each asked epoch ends in this broker's log,
 * from the partition's leader epoch cache (Kafka's
 * ReplicaManager.lastOffsetForLeaderEpoch and Partition.lastOffsetForLeaderEpoch).
 * The caller's currentLeaderEpoch fences first; an epoch the cache cannot
 * place answers -1/-1 with no error, as Kafka's does. Only the leader
 * answers (a follower: NOT_LEADER_OR_FOLLOWER), whoever asks: the replicaId
 * is not read. A broker alone leads every partition it has.
 */
import type { ResponseBody } from '../../protocol/index.js';
import { servedPartition } from '../replica/serving.js';
import { type Handler, itemError } from './context.js';

type PartitionResult =
  ResponseBody<'OffsetsForLeaderEpoch'>['topics'][number]['partitions'][number];

export const offsetsForLeaderEpoch: Handler<'OffsetsForLeaderEpoch'> = (broker, body) => ({
  topics: body.topics.map((t) => ({
    name: t.name,
    partitions: t.partitions.map((p): PartitionResult => {
      const { partitionIndex } = p;
      try {
        const partition = servedPartition(broker, t.name, partitionIndex, p.currentLeaderEpoch);
        const { epoch, endOffset } = partition.endOffsetForEpoch(p.leaderEpoch);
        return { errorCode: 0, partitionIndex, leaderEpoch: epoch, endOffset };
      } catch (err) {
        const e = itemError(
          broker,
          `the end of epoch ${p.leaderEpoch} in ${t.name}-${partitionIndex}`,
          err,
        );
        return { errorCode: e.code, partitionIndex, leaderEpoch: -1, endOffset: -1 };
      }
    }),
  })),
});
