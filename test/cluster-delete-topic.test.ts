/**
 * The controller's DeleteTopic step (src/cluster/controller.ts): the topic
 * leaves the image and the offset moves on; a missing topic is refused
 * UNKNOWN_TOPIC_OR_PARTITION and changes nothing.
 */
import { expect, it } from 'vitest';
import {
  type ControllerEvent,
  type MetadataImage,
  applyEvent,
  emptyImage,
  validateImage,
} from '../src/cluster/index.js';

const BROKERS = [1, 2, 3].map((id) => ({ id, host: '127.0.0.1', port: 9100 + id }));

function step(image: MetadataImage, event: ControllerEvent): MetadataImage {
  const result = applyEvent(image, event);
  if (result.error !== undefined) throw new Error(result.error.message);
  return result.image;
}

function withTopics(): MetadataImage {
  let image = step(emptyImage(BROKERS), {
    type: 'BecomeController',
    brokerId: 1,
    controllerEpoch: 1,
    liveBrokerIds: [1, 2, 3],
  });
  image = step(image, { type: 'CreateTopic', name: 'a', partitions: 2, replicationFactor: 3 });
  return step(image, { type: 'CreateTopic', name: 'b', partitions: 1, replicationFactor: 1 });
}

it('DeleteTopic removes the topic, bumps the offset, and leaves the rest as it was', () => {
  const before = withTopics();
  const result = applyEvent(before, { type: 'DeleteTopic', name: 'a' });
  expect(result.error).toBeUndefined();
  expect(result.changes).toEqual([]);
  expect(Object.keys(result.image.topics)).toEqual(['b']);
  expect(result.image.topics.b).toBe(before.topics.b);
  expect(result.image.metadataOffset).toBe(before.metadataOffset + 1);
  expect(result.image.controllerEpoch).toBe(before.controllerEpoch);
  expect(validateImage(result.image)).toEqual(result.image);

  // The name is free again: a new topic of that name starts afresh.
  const again = step(result.image, {
    type: 'CreateTopic',
    name: 'a',
    partitions: 1,
    replicationFactor: 2,
  });
  expect(again.topics.a!.partitions).toHaveLength(1);
  expect(again.topics.a!.partitions[0]).toMatchObject({ leaderEpoch: 0, partitionEpoch: 0 });
});

it('DeleteTopic of a missing topic is UNKNOWN_TOPIC_OR_PARTITION, and the image stays the same object', () => {
  const before = withTopics();
  for (const name of ['c', 'toString', '__proto__']) {
    const result = applyEvent(before, { type: 'DeleteTopic', name });
    expect(result.image).toBe(before);
    expect(result.changes).toEqual([]);
    expect(result.error).toEqual({
      error: 'UNKNOWN_TOPIC_OR_PARTITION',
      message: `no topic ${name}`,
    });
  }
});
