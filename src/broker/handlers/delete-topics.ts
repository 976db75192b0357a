/**
 * DeleteTopics: closes each topic's logs and removes their directories;
 * unknown names get code 3. The internal `__consumer_offsets` cannot be
 * deleted (the groups' committed offsets live there).
 */
import { ProtocolError } from '../../protocol/index.js';
import { isInternalTopic } from '../group/index.js';
import { checkTopicName } from '../topic-name.js';
import { type Handler, itemError } from './context.js';

export const deleteTopics: Handler<'DeleteTopics'> = async (broker, body) => {
  const topics = [];
  for (const { name } of body.topics) {
    try {
      checkTopicName(name);
      if (isInternalTopic(name))
        throw new ProtocolError(
          'INVALID_TOPIC_EXCEPTION',
          `the internal topic ${name} cannot be deleted`,
        );
      await broker.topics.delete(name);
      topics.push({ name, errorCode: 0, errorMessage: null });
    } catch (err) {
      const e = itemError(broker, `deleting topic ${name}`, err);
      topics.push({ name, errorCode: e.code, errorMessage: e.message });
    }
  }
  return { topics };
};
