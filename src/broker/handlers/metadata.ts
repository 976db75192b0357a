/**
 * Metadata: the brokers, and the topics asked for (nil: all) with their
 * partitions; `__consumer_offsets` is marked internal, and auto-creating it
 * goes through the group coordinator (compacted, with its own settings).
 * Missing topics are created when the request allows it and so does
 * `auto.create.topics.enable`.
 *
 * Alone (no `clusterView`), this broker is the cluster: it lists itself
 * where it listens (or, with `--cluster` but no image yet, every broker it
 * counts as live and the controller as it sees it), leads every partition
 * of its own data dir and is its only replica, so the ISR is `[brokerId]`.
 *
 * In cluster mode (`broker.clusterView` set), everything comes from the
 * metadata image this broker applied last (metadata-from-image.ts): the
 * live brokers, the controller, and per partition the leader, epoch,
 * replicas, ISR and offline replicas. A missing topic is auto-created
 * through the controller (`clusterView.channel.createTopic`, with
 * `num.partitions` and `default.replication.factor`), which resolves once
 * this broker has applied an image holding it; `__consumer_offsets` still
 * goes through the group coordinator.
 */
import type { ClusterView } from '../../cluster/runtime/channels.js';
import { ErrorCode, type MetadataResponse } from '../../protocol/index.js';
import { ensureTopicInCluster } from '../replica/auto-create.js';
import { isInternalTopic } from '../group/index.js';
import type { Topic } from '../topics.js';
import { topicNameProblem } from '../topic-name.js';
import { type BrokerContext, type Handler, itemError } from './context.js';
import { allTopicsFromImage, brokersFromImage, topicFromImage } from './metadata-from-image.js';

type TopicMetadata = MetadataResponse['topics'][number];

export const metadata: Handler<'Metadata'> = async (broker, body) => {
  const { clusterId } = broker.meta;
  const view = broker.clusterView;
  if (view !== undefined) {
    const create = body.allowAutoTopicCreation === true;
    const topics: TopicMetadata[] = [];
    if (body.topics === null) topics.push(...allTopicsFromImage(view.image()));
    else
      for (const { name } of body.topics)
        topics.push(await lookUpInImage(broker, view, name, create));
    // The image last, after any creation: its brokers and controller are the newest.
    return { ...brokersFromImage(view.image()), clusterId, topics };
  }
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
  const missing = (errorCode: number) => missingTopic(name, errorCode);
  if (topicNameProblem(name) !== undefined) return missing(ErrorCode.INVALID_TOPIC_EXCEPTION);
  const isInternal = isInternalTopic(name);
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

/** The answer for a topic that is not there (or has a name no topic may have). */
function missingTopic(name: string, errorCode: number): TopicMetadata {
  return { errorCode, name, isInternal: isInternalTopic(name), partitions: [] };
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

/**
 * A topic in cluster mode: from the image, or created through the
 * controller when allowed. A creation that lost a race with another
 * (TOPIC_ALREADY_EXISTS) is not an error: the topic is there.
 */
async function lookUpInImage(
  broker: BrokerContext,
  view: ClusterView,
  name: string,
  create: boolean,
): Promise<TopicMetadata> {
  const missing = (errorCode: number) => missingTopic(name, errorCode);
  if (topicNameProblem(name) !== undefined) return missing(ErrorCode.INVALID_TOPIC_EXCEPTION);
  const isInternal = isInternalTopic(name);
  const found = topicFromImage(view.image(), name);
  if (found.errorCode !== ErrorCode.UNKNOWN_TOPIC_OR_PARTITION || !create) return found;
  if (!isInternal && !broker.config.settings['auto.create.topics.enable']) return found;
  try {
    if (isInternal) await broker.groups.requestOffsetsTopic(view);
    else await ensureTopicInCluster(broker, name);
  } catch (err) {
    return missing(itemError(broker, `creating topic ${name}`, err).code);
  }
  const created = topicFromImage(view.image(), name);
  // Not in this broker's image yet (the channel resolves once it is; the
  // coordinator's path may not wait): retriable, as Kafka answers a topic
  // being created.
  return created.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
    ? missing(ErrorCode.LEADER_NOT_AVAILABLE)
    : created;
}
