/**
 * Produce: appends each partition's batches as they are (the log checks
 * size, magic and CRC, then patches in the offsets). The answer comes once
 * the bytes are in the page cache, for every acks value: with one replica,
 * acks=-1 ("all in-sync replicas") holds exactly when acks=1 does. A missing
 * topic is created first when `auto.create.topics.enable` is on.
 * Partitions are appended in request order, so a producer's order holds; a
 * partition's batches are all checked before any is appended, so they go in
 * whole or not at all (the errorCode names the first refused batch's error).
 * `timeoutMs` bounds a wait for the in-sync replicas, and nothing here waits
 * yet (one replica): it is only range-checked (int32 ≥ 0) by the protocol.
 * Clients may not write to the internal `__consumer_offsets` (Kafka's rule):
 * INVALID_TOPIC_EXCEPTION.
 */
import { ErrorCode, type ProduceRequest, type ProduceResponse } from '../../protocol/index.js';
import { isInternalTopic } from '../group/index.js';
import type { Partition } from '../partition.js';
import { type BrokerContext, type Handler, itemError, unknownPartition } from './context.js';

type PartitionResult = ProduceResponse['topics'][number]['partitions'][number];

export const produce: Handler<'Produce'> = (broker, body) =>
  ready(broker, body) ? appendAll(broker, body) : produceSlowly(broker, body);

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
function appendAll(broker: BrokerContext, body: ProduceRequest): ProduceResponse {
  return {
    topics: body.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => {
        const partition = broker.topics.partition(t.name, p.partitionIndex);
        return appendNow(broker, t.name, p.partitionIndex, partition, p.records);
      }),
    })),
  };
}

const produceSlowly = async (broker: BrokerContext, body: ProduceRequest) => {
  const topics = [];
  for (const t of body.topics) {
    let failure: { code: number; message: string } | undefined;
    try {
      if (isInternalTopic(t.name))
        failure = {
          code: ErrorCode.INVALID_TOPIC_EXCEPTION,
          message: `Cannot append to internal topic ${t.name}`,
        };
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
      partitions.push(await append(broker, t.name, p.partitionIndex, partition, p.records));
    }
    topics.push({ name: t.name, partitions });
  }
  return { topics };
};

async function append(
  broker: BrokerContext,
  topic: string,
  index: number,
  partition: Partition | undefined,
  records: Buffer,
): Promise<PartitionResult> {
  const swapping = partition?.ready();
  if (swapping !== undefined) {
    try {
      await swapping;
    } catch (err) {
      return failed(index, itemError(broker, `appending to ${topic}-${index}`, err));
    }
  }
  return appendNow(broker, topic, index, partition, records);
}

function appendNow(
  broker: BrokerContext,
  topic: string,
  index: number,
  partition: Partition | undefined,
  records: Buffer,
): PartitionResult {
  try {
    if (partition === undefined) throw unknownPartition(topic, index);
    const { baseOffset } = partition.append(records);
    return {
      partitionIndex: index,
      errorCode: 0,
      errorMessage: null,
      baseOffset,
      logAppendTimeMs: -1,
      logStartOffset: partition.logStartOffset,
    };
  } catch (err) {
    return failed(index, itemError(broker, `appending to ${topic}-${index}`, err));
  }
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
