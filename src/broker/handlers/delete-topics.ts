/**
 * DeleteTopics: closes each topic's logs and removes their directories;
 * unknown names get code 3. The internal `__consumer_offsets` cannot be
 * deleted (the groups' committed offsets live there).
 *
 * In a cluster the controller deletes the topic from the image (through the
 * ControllerChannel), and each broker that held a replica deletes its logs
 * when it applies that image; the answer waits until this broker has.
 */
import { ProtocolError } from '../../protocol/index.js';
import { isInternalTopic } from '../group/index.js';
import { checkTopicName } from '../topic-name.js';
import { controllerChannel } from './cluster-routing.js';
import { type Handler, itemError } from './context.js';

export const deleteTopics: Handler<'DeleteTopics'> = async (broker, body, ctx) => {
  const channel = controllerChannel(broker, ctx);
  const topics = [];
  for (const { name } of body.topics) {
    try {
      checkTopicName(name);
      if (isInternalTopic(name))
        throw new ProtocolError(
          'INVALID_TOPIC_EXCEPTION',
          `the internal topic ${name} cannot be deleted`,
        );
      if (channel !== undefined) await channel.deleteTopic(name);
      else await broker.topics.delete(name);
      topics.push({ name, errorCode: 0, errorMessage: null });
    } catch (err) {
      const e = itemError(broker, `deleting topic ${name}`, err);
      topics.push({ name, errorCode: e.code, errorMessage: e.message });
    }
  }
  return { topics };
};
