/**
 * CreateTopics: each topic on its own (one's failure does not stop the
 * others). numPartitions -1 takes `num.partitions`; a replication factor
 * other than -1 or 1 is refused (one broker); explicit assignments must put
 * each partition 0..n-1 on this broker alone. Configs use Kafka's topic keys.
 * A topic is created before the answer, so `timeoutMs` (how long to wait for
 * the creation to spread to other brokers) never applies; the protocol
 * range-checks it (int32 ≥ 0). The internal `__consumer_offsets` is created
 * by the group coordinator on first use, never by request.
 *
 * In a cluster (`--cluster`), the controller creates the topic: the name,
 * counts and log configs are checked here, then the ControllerChannel takes
 * it (replicationFactor -1: `default.replication.factor`; placement is the
 * controller's, explicit assignments are refused), and the answer waits
 * until this broker has applied an image with the topic, at most
 * `request.timeout.ms` (the request's own `timeoutMs` is not used). A
 * request forwarded by another broker's channel may create
 * `__consumer_offsets`: that is its group coordinator creating it.
 */
import { type CreateTopicsRequest, ProtocolError } from '../../protocol/index.js';
import { type ControllerChannel, isForwarded } from '../../cluster/runtime/index.js';
import { isInternalTopic } from '../group/index.js';
import { checkTopicName } from '../topic-name.js';
import { checkLogConfigs, controllerChannel } from './cluster-routing.js';
import { type BrokerContext, type Handler, itemError } from './context.js';

type TopicRequest = CreateTopicsRequest['topics'][number];

export const createTopics: Handler<'CreateTopics'> = async (broker, body, ctx) => {
  const channel = controllerChannel(broker, ctx);
  const seen = new Set<string>();
  const topics = [];
  for (const t of body.topics) {
    const duplicate = seen.has(t.name);
    seen.add(t.name);
    try {
      if (duplicate) throw new ProtocolError('INVALID_REQUEST', `topic '${t.name}' is named twice`);
      // Forwarded by another broker's channel: the group coordinator creating it there.
      if (isInternalTopic(t.name) && !isForwarded(ctx.clientId))
        throw new ProtocolError(
          'INVALID_REQUEST',
          `${t.name} is internal: the group coordinator creates it on first use`,
        );
      const configs: Record<string, string> = {};
      for (const c of t.configs) if (c.value !== null) configs[c.name] = c.value;
      if (channel !== undefined) {
        topics.push(await createInCluster(broker, channel, t, configs, body.validateOnly === true));
        continue;
      }
      const partitions = partitionCount(broker, t);
      await broker.topics.create(t.name, partitions, configs, body.validateOnly === true);
      topics.push({
        name: t.name,
        errorCode: 0,
        errorMessage: null,
        numPartitions: partitions,
        replicationFactor: 1,
      });
    } catch (err) {
      const e = itemError(broker, `creating topic ${t.name}`, err);
      topics.push({
        name: t.name,
        errorCode: e.code,
        errorMessage: e.message,
        numPartitions: -1,
        replicationFactor: -1,
      });
    }
  }
  return { topics };
};

function partitionCount(broker: BrokerContext, t: TopicRequest): number {
  if (t.replicationFactor !== -1 && t.replicationFactor !== 1)
    throw new ProtocolError(
      'INVALID_REPLICATION_FACTOR',
      `replication factor ${t.replicationFactor}: this cluster has one broker`,
    );
  if (t.assignments.length === 0) {
    if (t.numPartitions === -1) return broker.config.settings['num.partitions'];
    if (t.numPartitions < 1)
      throw new ProtocolError(
        'INVALID_PARTITIONS',
        `a topic needs at least 1 partition, not ${t.numPartitions}`,
      );
    return t.numPartitions;
  }
  if (t.numPartitions !== -1 || t.replicationFactor !== -1)
    throw new ProtocolError(
      'INVALID_REQUEST',
      'with assignments, numPartitions and replicationFactor must be -1',
    );
  const id = broker.meta.brokerId;
  t.assignments.forEach((a, i) => {
    if (a.partitionIndex !== i || a.brokerIds.length !== 1 || a.brokerIds[0] !== id)
      throw new ProtocolError(
        'INVALID_REQUEST',
        `assignments must list partitions 0..n-1 in order, each on broker ${id} alone`,
      );
  });
  return t.assignments.length;
}

async function createInCluster(
  broker: BrokerContext,
  channel: ControllerChannel,
  t: TopicRequest,
  configs: Record<string, string>,
  validateOnly: boolean,
) {
  checkTopicName(t.name);
  if (t.assignments.length > 0)
    throw new ProtocolError(
      'INVALID_REQUEST',
      'explicit replica assignments are not supported in a cluster: the controller places replicas',
    );
  const settings = broker.config.settings;
  const partitions = t.numPartitions === -1 ? settings['num.partitions'] : t.numPartitions;
  if (partitions < 1)
    throw new ProtocolError(
      'INVALID_PARTITIONS',
      `a topic needs at least 1 partition, not ${partitions}`,
    );
  const replicationFactor =
    t.replicationFactor === -1 ? settings['default.replication.factor'] : t.replicationFactor;
  if (replicationFactor < 1)
    throw new ProtocolError(
      'INVALID_REPLICATION_FACTOR',
      `a replication factor must be at least 1, not ${replicationFactor}`,
    );
  checkLogConfigs(broker, configs);
  await channel.createTopic({ name: t.name, partitions, replicationFactor, configs, validateOnly });
  return {
    name: t.name,
    errorCode: 0,
    errorMessage: null,
    numPartitions: partitions,
    replicationFactor,
  };
}
