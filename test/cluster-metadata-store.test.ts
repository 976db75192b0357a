/**
 * Where a broker keeps its metadata image (src/cluster/runtime/metadata-store.ts)
 * and how the image travels (image-wire.ts): a save reads back the same, a
 * damaged file is moved aside and counts as absent, and the wire form keeps
 * every field and refuses what an image cannot be.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type MetadataImage, applyEvent, emptyImage, imageToJson } from '../src/cluster/index.js';
import {
  CLUSTER_METADATA_FILE,
  fileMetadataStore,
  imageFromWire,
  imageToWire,
} from '../src/cluster/runtime/index.js';
import type { Logger } from '../src/log/index.js';
import { tempDir } from './support/temp.js';

const BROKERS = [1, 2, 3].map((id) => ({ id, host: '127.0.0.1', port: 9100 + id }));

function recorder(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const put = (message: string) => void lines.push(message);
  return { lines, debug: () => {}, info: put, warn: put, error: put };
}

/** Controller 1 in epoch 1, every broker live, two topics. */
function sampleImage(): MetadataImage {
  let image = emptyImage(BROKERS);
  const step = (event: Parameters<typeof applyEvent>[1]) => {
    const result = applyEvent(image, event);
    if (result.error !== undefined) throw new Error(result.error.message);
    image = result.image;
  };
  step({ type: 'BecomeController', brokerId: 1, controllerEpoch: 1, liveBrokerIds: [1, 2, 3] });
  step({
    type: 'CreateTopic',
    name: 'page-views',
    partitions: 3,
    replicationFactor: 3,
    configs: { 'min.insync.replicas': '2' },
  });
  step({ type: 'CreateTopic', name: 'clicks', partitions: 1, replicationFactor: 1 });
  step({ type: 'BrokerFenced', brokerId: 2 });
  return image;
}

describe('the metadata store', () => {
  it('reads back what it saved, atomically, leaving no temporary file', () => {
    const dir = tempDir('samsa-metadata-store-');
    const store = fileMetadataStore(dir, recorder());
    expect(store.load()).toBeUndefined();
    const image = sampleImage();
    store.save(image);
    expect(fileMetadataStore(dir, recorder()).load()).toEqual(image);
    expect(readFileSync(join(dir, CLUSTER_METADATA_FILE), 'utf8')).toBe(imageToJson(image) + '\n');
    expect(readdirSync(dir)).toEqual([CLUSTER_METADATA_FILE]);
  });

  it('a torn or damaged file is logged, moved aside, and counts as absent', () => {
    const image = sampleImage();
    const text = imageToJson(image);
    const broken = JSON.parse(text) as {
      topics: Record<string, { partitions: { leader: number }[] }>;
    };
    broken.topics['page-views']!.partitions[0]!.leader = 7; // not in the ISR
    for (const damaged of [text.slice(0, text.length / 2), JSON.stringify(broken), '']) {
      const dir = tempDir('samsa-metadata-store-');
      const path = join(dir, CLUSTER_METADATA_FILE);
      writeFileSync(path, damaged);
      const logger = recorder();
      expect(fileMetadataStore(dir, logger).load()).toBeUndefined();
      expect(existsSync(path)).toBe(false);
      expect(readFileSync(`${path}.corrupt`, 'utf8')).toBe(damaged);
      expect(logger.lines).toEqual([
        expect.stringMatching(/cluster-metadata\.json is damaged .* moved to/),
      ]);
      // The next save writes a good file beside the damaged one.
      fileMetadataStore(dir, logger).save(image);
      expect(fileMetadataStore(dir, logger).load()).toEqual(image);
    }
  });
});

describe('the image on the wire', () => {
  it('round-trips every field', () => {
    const image = sampleImage();
    expect(imageFromWire(imageToWire(image))).toEqual(image);
  });

  it('refuses an image that breaks an invariant, or names a topic or key twice', () => {
    const wire = imageToWire(sampleImage());
    const twice = { ...wire, topics: [...wire.topics, wire.topics[0]!] };
    const key = {
      ...wire.topics[1]!,
      configs: [
        { name: 'a', value: '1' },
        { name: 'a', value: '2' },
      ],
    };
    const leaderless = {
      ...wire,
      topics: [
        {
          ...wire.topics[0]!,
          partitions: [{ replicas: [1], isr: [1], leader: 2, leaderEpoch: 0, partitionEpoch: 0 }],
        },
      ],
    };
    for (const bad of [twice, { ...wire, topics: [key] }, leaderless]) {
      expect(() => imageFromWire(bad)).toThrow(
        expect.objectContaining({ code: 'CLUSTER_CORRUPT_IMAGE' }),
      );
    }
  });
});

it('keeps a topic named __proto__ through JSON and through a partition change', async () => {
  const { applyEvent } = await import('../src/cluster/controller.js');
  const { emptyImage, imageFromJson, imageToJson, mapPartitions } =
    await import('../src/cluster/metadata-image.js');
  let image = emptyImage([{ id: 1, host: 'h', port: 1 }]);
  image = applyEvent(image, {
    type: 'BecomeController',
    brokerId: 1,
    controllerEpoch: 1,
    liveBrokerIds: [1],
  }).image;
  image = applyEvent(image, {
    type: 'CreateTopic',
    name: '__proto__',
    partitions: 1,
    replicationFactor: 1,
  }).image;
  const back = imageFromJson(imageToJson(image));
  expect(Object.keys(back.topics)).toEqual(['__proto__']);
  const changed = mapPartitions(back, (_t, _i, p) => ({
    ...p,
    partitionEpoch: p.partitionEpoch + 1,
  }));
  expect(Object.hasOwn(changed.topics, '__proto__')).toBe(true);
  expect(changed.topics['__proto__']!.partitions[0]!.partitionEpoch).toBe(1);
});
