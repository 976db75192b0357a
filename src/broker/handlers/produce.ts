/**
 * Produce: appends each partition's batches as they are (the log checks
 * size, magic and CRC, then patches in the offsets). Partitions are appended
 * in request order, so a producer's order holds; a partition's batches are
 * all checked before any is appended, so they go in whole or not at all (the
 * errorCode names the first refused batch's error). Only the leader
 * appends: elsewhere NOT_LEADER_OR_FOLLOWER. A missing topic is created
 * first when `auto.create.topics.enable` is on (in a cluster, by the
 * controller: replica/auto-create.ts). Clients may not write to the
 * internal `__consumer_offsets` (Kafka's rule): INVALID_TOPIC_EXCEPTION.
 *
 * acks=0 and acks=1 are answered once the bytes are in the leader's page
 * cache. So is acks=-1 (all) with one broker, where the in-sync replicas
 * are this broker alone. In a cluster, acks=-1 refuses a partition whose ISR
 * is smaller than min.insync.replicas before appending (NOT_ENOUGH_REPLICAS),
 * and after appending waits until the high watermark passes the batch, at
 * most `timeoutMs` (replica/delayed-acks.ts: REQUEST_TIMED_OUT,
 * NOT_ENOUGH_REPLICAS_AFTER_APPEND, NOT_LEADER_OR_FOLLOWER). A request whose
 * partitions are all committed at once is still answered without a promise.
 */
import {
  type ErrorName,
  ProtocolError,
  type ProduceRequest,
  type ProduceResponse,
} from '../../protocol/index.js';
import { ErrorCode } from '../../protocol/index.js';
import { isInternalTopic } from '../group/index.js';
import type { Partition } from '../partition.js';
import { ensureTopicInCluster } from '../replica/auto-create.js';
import { type AcksWait, acksMessage, awaitAcks } from '../replica/delayed-acks.js';
import { notHere } from '../replica/serving.js';
import { type BrokerContext, type Handler, itemError } from './context.js';

type PartitionResult = ProduceResponse['topics'][number]['partitions'][number];

/** An acks=all append that waits for the HW, and where its answer goes. */
interface PendingAck extends AcksWait {
  readonly results: PartitionResult[];
  readonly slot: number;
}

export const produce: Handler<'Produce'> = (broker, body) => {
  const waits = body.acks === -1 && broker.replicas !== undefined ? [] : undefined;
  if (!ready(broker, body)) return produceSlowly(broker, body, waits);
  const response = appendAll(broker, body, waits);
  return waits === undefined || waits.length === 0
    ? response
    : awaitAll(broker, body, response, waits);
};

/** Every topic exists and no partition's log is being reopened: nothing to wait for. */
function ready(broker: BrokerContext, body: ProduceRequest): boolean {
  for (const t of body.topics) {
    if (broker.topics.get(t.name) === undefined || isInternalTopic(t.name)) return false;
    for (const p of t.partitions)
      if (broker.topics.partition(t.name, p.partitionIndex)?.ready() !== undefined) return false;
  }
  return true;
}

/** The common case, without a promise per partition: append each partition's batches now. */
function appendAll(
  broker: BrokerContext,
  body: ProduceRequest,
  waits: PendingAck[] | undefined,
): ProduceResponse {
  return {
    topics: body.topics.map((t) => {
      const results: PartitionResult[] = [];
      for (const p of t.partitions) {
        const partition = broker.topics.partition(t.name, p.partitionIndex);
        results.push(
          appendNow(broker, t.name, p.partitionIndex, partition, p.records, waits, results),
        );
      }
      return { name: t.name, partitions: results };
    }),
  };
}

const produceSlowly = async (
  broker: BrokerContext,
  body: ProduceRequest,
  waits: PendingAck[] | undefined,
) => {
  const topics = [];
  for (const t of body.topics) {
    let failure: { code: number; message: string } | undefined;
    try {
      if (isInternalTopic(t.name))
        failure = {
          code: ErrorCode.INVALID_TOPIC_EXCEPTION,
          message: `Cannot append to internal topic ${t.name}`,
        };
      else if (broker.clusterView !== undefined) await ensureTopicInCluster(broker, t.name);
      else if ((await broker.topics.ensure(t.name)) === undefined)
        failure = { code: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message: `no topic '${t.name}'` };
    } catch (err) {
      failure = itemError(broker, `creating topic ${t.name}`, err);
    }
    const partitions: PartitionResult[] = [];
    for (const p of t.partitions) {
      if (failure !== undefined) {
        partitions.push(failed(p.partitionIndex, failure));
        continue;
      }
      const partition = broker.topics.partition(t.name, p.partitionIndex);
      partitions.push(
        await append(broker, t.name, p.partitionIndex, partition, p.records, waits, partitions),
      );
    }
    topics.push({ name: t.name, partitions });
  }
  const response = { topics };
  return waits === undefined || waits.length === 0
    ? response
    : awaitAll(broker, body, response, waits);
};

async function append(
  broker: BrokerContext,
  topic: string,
  index: number,
  partition: Partition | undefined,
  records: Buffer,
  waits: PendingAck[] | undefined,
  results: PartitionResult[],
): Promise<PartitionResult> {
  const swapping = partition?.ready();
  if (swapping !== undefined) {
    try {
      await swapping;
    } catch (err) {
      return failed(index, itemError(broker, `appending to ${topic}-${index}`, err));
    }
  }
  return appendNow(broker, topic, index, partition, records, waits, results);
}

/** Appends now; with `waits` (acks=all in a cluster), checks the ISR first and records the wait. */
function appendNow(
  broker: BrokerContext,
  topic: string,
  index: number,
  partition: Partition | undefined,
  records: Buffer,
  waits: PendingAck[] | undefined,
  results: PartitionResult[],
): PartitionResult {
  try {
    if (partition === undefined) throw notHere(broker, topic, index);
    if (waits !== undefined) checkEnoughReplicas(partition);
    const { baseOffset, lastOffset } = partition.append(records);
    const result = {
      partitionIndex: index,
      errorCode: 0,
      errorMessage: null,
      baseOffset,
      logAppendTimeMs: -1,
      logStartOffset: partition.logStartOffset,
    };
    if (waits !== undefined && partition.highWatermark <= lastOffset)
      waits.push({
        partition,
        requiredOffset: lastOffset + 1,
        leaderEpoch: partition.leaderEpoch,
        results,
        slot: results.length,
      });
    return result;
  } catch (err) {
    return failed(index, itemError(broker, `appending to ${topic}-${index}`, err));
  }
}

/** Kafka's appendRecordsToLeader check for acks=all: the ISR must hold min.insync.replicas. */
function checkEnoughReplicas(partition: Partition): void {
  partition.ensureLeader();
  const { isr, minInsyncReplicas } = partition;
  if (isr.size < minInsyncReplicas)
    throw new ProtocolError(
      'NOT_ENOUGH_REPLICAS',
      `${partition.name}: the ISR [${[...isr].join(',')}] is smaller than min.insync.replicas=${minInsyncReplicas}`,
    );
}

/** acks=all: the answer once every waiting partition's HW has passed its batch, or failed. */
async function awaitAll(
  broker: BrokerContext,
  body: ProduceRequest,
  response: ProduceResponse,
  waits: PendingAck[],
): Promise<ProduceResponse> {
  const replicas = broker.replicas!;
  const outcomes = await awaitAcks(waits, body.timeoutMs, replicas.scheduler, (stop) =>
    replicas.onClose(stop),
  );
  outcomes.forEach((error: ErrorName | undefined, i) => {
    if (error === undefined) return;
    const w = waits[i]!;
    const index = w.results[w.slot]!.partitionIndex;
    w.results[w.slot] = failed(index, {
      code: ErrorCode[error],
      message: acksMessage(w, error, body.timeoutMs),
    });
  });
  return response;
}

function failed(index: number, e: { code: number; message: string }): PartitionResult {
  return {
    partitionIndex: index,
    errorCode: e.code,
    errorMessage: e.message,
    baseOffset: -1,
    logAppendTimeMs: -1,
    logStartOffset: -1,
  };
}
