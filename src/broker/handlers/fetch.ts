/**
 * Fetch: whole batches from each partition asked for, as the file bytes the
 * log returns (never decoded), from the one holding fetchOffset.
 *
 * Long polling: when fewer than minBytes are ready, the fetch waits up to
 * maxWaitMs, woken by the partitions it reads (each append calls its
 * waiters), and answers as soon as minBytes are there. An error answers at
 * once, as does a broker that is stopping.
 *
 * Sizes are soft caps, as in Kafka: the first batch of the first non-empty
 * partition comes whole even if it is larger, so a consumer always
 * progresses; after it, a partition's batches are left out if they would
 * pass partitionMaxBytes or what is left of maxBytes.
 *
 * Only the leader serves a partition: a follower (or a broker holding no
 * replica of it) answers NOT_LEADER_OR_FOLLOWER, consumers and followers
 * alike (replica/serving.ts). A follower (replicaId ≥ 0) reads up to the
 * log end offset, past the HW (Kafka's FetchIsolation.LOG_END); a consumer
 * up to the HW. With one broker any replicaId ≥ 0 is taken for a follower;
 * in a cluster one not assigned to the partition is refused as Kafka does:
 * UNKNOWN_LEADER_EPOCH when the fetch names the current leader epoch,
 * NOT_LEADER_OR_FOLLOWER when it names none. A lastFetchedEpoch
 * ≥ 0 is checked first, for any fetcher, as Kafka's Partition.readRecords
 * does (KIP-595): a diverging log gets divergingEpoch and no records, and
 * the fetch answers at once. The first read of a follower's fetch that
 * does not diverge records its fetch state on the partition, which in a
 * cluster may move the HW (waking consumers' fetches and acks=all
 * produces) and propose the follower for the ISR (ReplicaManager).
 */
import { type FetchRequest, type FetchResponse, ProtocolError } from '../../protocol/index.js';
import type { Partition } from '../partition.js';
import { servedPartition } from '../replica/serving.js';
import { type BrokerContext, type Handler, itemError } from './context.js';

type PartitionResult = FetchResponse['topics'][number]['partitions'][number];
const EMPTY = Buffer.alloc(0);

export const fetch: Handler<'Fetch'> = (broker, body, ctx) => {
  const first = readAll(broker, body, true);
  if (first.done || body.maxWaitMs === 0 || broker.shuttingDown) return first.response;
  ctx.parked?.();
  return new Promise((resolve) => {
    const unsubscribe: (() => void)[] = [];
    let scheduled = false;
    let finished = false;
    const finish = (response: FetchResponse) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      for (const u of unsubscribe) u();
      resolve(response);
    };
    // Appends that come in one burst are checked once, after the burst.
    const check = () => {
      if (scheduled || finished) return;
      scheduled = true;
      setImmediate(() => {
        scheduled = false;
        const again = readAll(broker, body, false);
        if (again.done) finish(again.response);
      });
    };
    const timer = setTimeout(() => finish(readAll(broker, body, false).response), body.maxWaitMs);
    unsubscribe.push(broker.onShutdown(() => finish(readAll(broker, body, false).response)));
    for (const t of body.topics)
      for (const p of t.partitions)
        unsubscribe.push(
          broker.topics.partition(t.name, p.partitionIndex)?.onChange(check) ?? (() => {}),
        );
  });
};

// #region read
/** One pass over the partitions: what is ready now, and whether that is enough to answer. */
function readAll(
  broker: BrokerContext,
  body: FetchRequest,
  first: boolean,
): { response: FetchResponse; done: boolean } {
  const replicaId = body.replicaId ?? -1;
  const follower = replicaId >= 0;
  let total = 0;
  let failed = false;
  let diverged = false;
  const topics = body.topics.map((t) => ({
    name: t.name,
    partitions: t.partitions.map((p): PartitionResult => {
      try {
        const partition = servedPartition(broker, t.name, p.partitionIndex, p.currentLeaderEpoch);
        if (follower) checkFollower(partition, replicaId, p.currentLeaderEpoch);
        const log = partition.log;
        const highWatermark = partition.highWatermark;
        const answer = {
          partitionIndex: p.partitionIndex,
          errorCode: 0,
          highWatermark,
          lastStableOffset: highWatermark,
          logStartOffset: log.logStartOffset,
        };
        const lastFetchedEpoch = p.lastFetchedEpoch ?? -1;
        if (lastFetchedEpoch >= 0) {
          const check = partition.checkLastFetchedEpoch(p.fetchOffset, lastFetchedEpoch);
          if (check.kind === 'offset-out-of-range')
            throw new ProtocolError(
              'OFFSET_OUT_OF_RANGE',
              `${partition.name} cannot place epoch ${lastFetchedEpoch} at offset ${p.fetchOffset}`,
            );
          if (check.kind === 'diverging') {
            diverged = true;
            const { epoch, endOffset } = check.divergingEpoch;
            return { ...answer, divergingEpoch: { epoch, endOffset }, records: EMPTY };
          }
        }
        // A consumer reads committed records only: below the high watermark (Kafka's
        // maxOffset for READ_UNCOMMITTED), an offset in [HW, LEO] answers empty; a
        // follower reads to the log end offset, the HW's source.
        const maxOffset = follower ? log.logEndOffset : highWatermark;
        const limit = Math.min(p.partitionMaxBytes, Math.max(body.maxBytes - total, 0));
        let records =
          total > 0 && limit === 0
            ? EMPTY
            : log.read(p.fetchOffset, { maxBytes: limit, maxOffset });
        if (total > 0 && records.length > limit) records = EMPTY; // the soft cap is only for the first
        total += records.length;
        if (follower && first) {
          partition.followerFetched(
            replicaId,
            { fetchOffset: p.fetchOffset, logStartOffset: p.logStartOffset ?? -1 },
            broker.clock(),
          );
          broker.replicas?.followerFetched(partition, replicaId);
        }
        return { ...answer, records };
      } catch (err) {
        failed = true;
        const e = itemError(broker, `fetching from ${t.name}-${p.partitionIndex}`, err);
        return {
          partitionIndex: p.partitionIndex,
          errorCode: e.code,
          highWatermark: -1,
          lastStableOffset: -1,
          logStartOffset: -1,
          records: EMPTY,
        };
      }
    }),
  }));
  return { response: { topics }, done: failed || diverged || total >= body.minBytes };
}

/** Kafka's followerReplicaOrThrow: only an assigned replica fetches as a follower. */
function checkFollower(partition: Partition, replicaId: number, currentLeaderEpoch?: number): void {
  if (partition.isAssignedReplica(replicaId)) return;
  const epochGiven = currentLeaderEpoch !== undefined && currentLeaderEpoch >= 0;
  throw new ProtocolError(
    epochGiven ? 'UNKNOWN_LEADER_EPOCH' : 'NOT_LEADER_OR_FOLLOWER',
    `broker ${replicaId} is not a replica of ${partition.name} ([${partition.replicas.join(',')}])`,
  );
}
// #endregion read
