/**
 * Metadata: the brokers, and the topics asked for (nil: all) with their
 * partitions; `__consumer_offsets` is marked internal, and auto-creating it
 * goes through the group coordinator (compacted, with its own settings).
 * Missing topics are created when the request allows it and so does
 * `auto.create.topics.enable`.
 *
 * Brokers: alone, this one where it listens; in a cluster, every broker
 * this one counts as live, at the address the `--cluster` list gives it,
 * and `controllerId` the controller as this broker sees it (docs/cluster.md).
 * Partitions: this broker still leads every partition of its own data dir
 * and is its only replica, so the in-sync set is `[brokerId]` and acks=-1
 * ("all") is satisfied as soon as acks=1 is, until replication is wired.
 */
import { ErrorCode, type MetadataResponse } from '../../protocol/index.js';
import { isInternalTopic } from '../group/index.js';
import type { Topic } from '../topics.js';
import { topicNameProblem } from '../topic-name.js';
import { type BrokerContext, type Handler, itemError } from './context.js';

type TopicMetadata = MetadataResponse['topics'][number];

export const metadata: Handler<'Metadata'> = async (broker, body) => {
  const { clusterId } = broker.meta;
  const { brokers, controllerId } = brokersAndController(broker);
  let topics: TopicMetadata[];
  if (body.topics === null) {
    topics = broker.topics.list().map((t) => describeTopic(broker, t));
  } else {
    topics = [];
    for (const { name } of body.topics)
      topics.push(await lookUp(broker, name, body.allowAutoTopicCreation === true));
  }
  return { brokers, clusterId, controllerId, topics };
};

function brokersAndController(broker: BrokerContext): {
  brokers: MetadataResponse['brokers'];
  controllerId: number;
} {
  const { cluster, listener } = broker;
  if (cluster === undefined) {
    const brokerId = broker.meta.brokerId;
    const brokers = listener === undefined ? [] : [{ nodeId: brokerId, ...listener, rack: null }];
    return { brokers, controllerId: brokerId };
  }
  const brokers = cluster.liveBrokers().map((b) => ({
    nodeId: b.id,
    host: b.host,
    port: b.port,
    rack: null,
  }));
  return { brokers, controllerId: cluster.state().controllerId };
}

async function lookUp(
  broker: BrokerContext,
  name: string,
  create: boolean,
): Promise<TopicMetadata> {
  const isInternal = isInternalTopic(name);
  const missing = (errorCode: number) => ({ errorCode, name, isInternal, partitions: [] });
  if (topicNameProblem(name) !== undefined) return missing(ErrorCode.INVALID_TOPIC_EXCEPTION);
  try {
    const topic = !create
      ? broker.topics.get(name)
      : isInternal
        ? await broker.groups.ensureTopic()
        : await broker.topics.ensure(name);
    if (topic === undefined) return missing(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    return describeTopic(broker, topic);
  } catch (err) {
    return missing(itemError(broker, `creating topic ${name}`, err).code);
  }
}

function describeTopic(broker: BrokerContext, topic: Topic): TopicMetadata {
  const id = broker.meta.brokerId;
  return {
    errorCode: 0,
    name: topic.name,
    isInternal: isInternalTopic(topic.name),
    partitions: topic.partitions.map((p) => ({
      errorCode: 0,
      partitionIndex: p.index,
      leaderId: id,
      leaderEpoch: p.leaderEpoch,
      replicaNodes: [id],
      isrNodes: [id],
      offlineReplicas: [],
    })),
  };
}
