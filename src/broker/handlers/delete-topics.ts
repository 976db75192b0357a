/** DeleteTopics: closes each topic's logs and removes their directories; unknown names get code 3. */
import { checkTopicName } from '../topic-name.js';
import { type Handler, itemError } from './context.js';

export const deleteTopics: Handler<'DeleteTopics'> = async (broker, body) => {
  const topics = [];
  for (const { name } of body.topics) {
    try {
      checkTopicName(name);
      await broker.topics.delete(name);
      topics.push({ name, errorCode: 0, errorMessage: null });
    } catch (err) {
      const e = itemError(broker, `deleting topic ${name}`, err);
      topics.push({ name, errorCode: e.code, errorMessage: e.message });
    }
  }
  return { topics };
};
