/**
 * The image on one broker (src/cluster/runtime/image-sync.ts): which pushes
 * it takes, that each is persisted before the listener sees it, that the
 * listener sees them one at a time and in order, and how waiting for an
 * image ends. Time is a ManualScheduler's.
 */
import { describe, expect, it } from 'vitest';
import { ManualScheduler } from '../src/broker/index.js';
import {
  type ControllerEvent,
  type MetadataImage,
  applyEvent,
  emptyImage,
} from '../src/cluster/index.js';
import {
  type ImageListener,
  ImageSync,
  type MetadataStore,
  memoryMetadataStore,
} from '../src/cluster/runtime/index.js';
import type { Logger } from '../src/log/index.js';
import { ErrorCode } from '../src/protocol/index.js';

const BROKERS = [1, 2, 3].map((id) => ({ id, host: '127.0.0.1', port: 9100 + id }));
const EMPTY = emptyImage(BROKERS);

function recorder(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const put = (message: string) => void lines.push(message);
  return { lines, debug: () => {}, info: put, warn: put, error: put };
}

function step(image: MetadataImage, event: ControllerEvent): MetadataImage {
  const result = applyEvent(image, event);
  if (result.error !== undefined) throw new Error(result.error.message);
  return result.image;
}

/** Images of controller 1 in epoch 1: offsets 1 (took over), 2 (topic a), 3 (topic b). */
function history(epoch = 1, from = EMPTY): MetadataImage[] {
  const v1 = step(from, {
    type: 'BecomeController',
    brokerId: 1,
    controllerEpoch: epoch,
    liveBrokerIds: [1, 2, 3],
  });
  const v2 = step(v1, { type: 'CreateTopic', name: 'a', partitions: 1, replicationFactor: 3 });
  const v3 = step(v2, { type: 'CreateTopic', name: 'b', partitions: 2, replicationFactor: 2 });
  return [v1, v2, v3];
}

/** A listener that records its calls and what the store held when each began. */
function listener(store: MetadataStore, hold = false) {
  const calls: {
    before: MetadataImage;
    after: MetadataImage;
    persisted: MetadataImage | undefined;
  }[] = [];
  const releases: (() => void)[] = [];
  let running = 0;
  let overlapped = false;
  const l: ImageListener = {
    async applyImage(before, after) {
      running += 1;
      if (running > 1) overlapped = true;
      calls.push({ before, after, persisted: store.load() });
      if (hold) await new Promise<void>((resolve) => releases.push(resolve));
      running -= 1;
    },
  };
  return { l, calls, releases, overlapped: () => overlapped };
}

function sync(
  options: { store?: MetadataStore; listener?: ImageListener; scheduler?: ManualScheduler } = {},
) {
  const store = options.store ?? memoryMetadataStore();
  const logger = recorder();
  const s = new ImageSync({
    store,
    empty: EMPTY,
    logger,
    scheduler: options.scheduler ?? new ManualScheduler(),
    listener: options.listener,
  });
  return { sync: s, store, logger };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('ImageSync', () => {
  it('starts from the persisted image, or the empty one', () => {
    const [v1] = history();
    expect(sync().sync.image()).toBe(EMPTY);
    expect(sync({ store: memoryMetadataStore(v1) }).sync.image()).toEqual(v1);
  });

  it('takes a newer push: persisted before the listener sees it, answered with the new version', async () => {
    const store = memoryMetadataStore();
    const rec = listener(store);
    const { sync: s } = sync({ store, listener: rec.l });
    const [v1, v2] = history();
    expect(await s.receive(v1!)).toEqual({ errorCode: 0, controllerEpoch: 1, metadataOffset: 1 });
    expect(await s.receive(v2!)).toEqual({ errorCode: 0, controllerEpoch: 1, metadataOffset: 2 });
    expect(rec.calls).toEqual([
      { before: EMPTY, after: v1, persisted: v1 },
      { before: v1, after: v2, persisted: v2 },
    ]);
    expect(s.image()).toBe(v2);
  });

  it('the same version again is only acknowledged; an overtaken one gets the newer version', async () => {
    const store = memoryMetadataStore();
    const rec = listener(store);
    const { sync: s } = sync({ store, listener: rec.l });
    const [v1, v2] = history();
    await s.receive(v2!);
    expect(await s.receive(v2!)).toEqual({ errorCode: 0, controllerEpoch: 1, metadataOffset: 2 });
    expect(await s.receive(v1!)).toEqual({ errorCode: 0, controllerEpoch: 1, metadataOffset: 2 });
    expect(rec.calls).toHaveLength(1);
    expect(store.saved).toEqual([v2]);
  });

  it('applies the first push after start-up even at the persisted version: a broker back within a session', async () => {
    const [v1, v2] = history();
    const store = memoryMetadataStore(v2);
    const rec = listener(store);
    const { sync: s } = sync({ store, listener: rec.l });
    expect(await s.receive(v2!)).toEqual({ errorCode: 0, controllerEpoch: 1, metadataOffset: 2 });
    expect(rec.calls.map((c) => [c.before, c.after])).toEqual([[v2, v2]]);
    await s.receive(v2!); // from then on, the same version is only acknowledged
    await s.receive(v1!);
    expect(rec.calls).toHaveLength(1);
  });

  it('refuses a push of an older controller epoch (a replaced controller), and takes a newer epoch', async () => {
    const store = memoryMetadataStore();
    const { sync: s, logger } = sync({ store });
    const [, , old3] = history(1);
    const [new1] = history(2);
    await s.receive(new1!);
    expect(await s.receive(old3!)).toEqual({
      errorCode: ErrorCode.STALE_CONTROLLER_EPOCH,
      controllerEpoch: 2,
      metadataOffset: 1,
    });
    expect(store.saved).toEqual([new1]);
    expect(logger.lines).toContain(
      'refused an image of controller 1 in epoch 1: this broker holds one of epoch 2',
    );
  });

  it('applies one image at a time, in the order taken; a push is answered once its image is applied', async () => {
    const store = memoryMetadataStore();
    const rec = listener(store, true);
    const { sync: s } = sync({ store, listener: rec.l });
    const [v1, v2, v3] = history();
    const answers: number[] = [];
    const pushes = [v1!, v3!, v2!].map((v) =>
      s.receive(v).then((a) => void answers.push(a.metadataOffset)),
    );
    await flush();
    expect(rec.calls.map((c) => c.after.metadataOffset)).toEqual([1]);
    expect(answers).toEqual([]);
    while (rec.releases.length > 0) {
      rec.releases.shift()!();
      await flush();
    }
    await Promise.all(pushes);
    expect(rec.calls.map((c) => [c.before.metadataOffset, c.after.metadataOffset])).toEqual([
      [0, 1],
      [1, 3],
    ]);
    expect(rec.overlapped()).toBe(false);
    expect(answers).toEqual([1, 3, 3]); // v2 was overtaken by v3: acknowledged with v3
  });

  it('a failed save is KAFKA_STORAGE_ERROR and applies nothing; the push taken again later is applied', async () => {
    let fail = true;
    const inner = memoryMetadataStore();
    const store: MetadataStore = {
      load: () => inner.load(),
      save: (image) => {
        if (fail) throw new Error('disk full');
        inner.save(image);
      },
    };
    const rec = listener(inner);
    const { sync: s, logger } = sync({ store, listener: rec.l });
    const [v1] = history();
    expect(await s.receive(v1!)).toMatchObject({
      errorCode: ErrorCode.KAFKA_STORAGE_ERROR,
      metadataOffset: 0,
    });
    expect(rec.calls).toEqual([]);
    expect(logger.lines).toContain(
      'could not save the metadata image (epoch 1, offset 1): disk full',
    );
    fail = false;
    expect(await s.receive(v1!)).toMatchObject({ errorCode: 0, metadataOffset: 1 });
    expect(rec.calls).toHaveLength(1);
  });

  it("a listener's failure is logged; the image still counts as applied", async () => {
    const { sync: s, logger } = sync({
      listener: { applyImage: () => Promise.reject(new Error('no space for the log')) },
    });
    const [v1] = history();
    expect(await s.receive(v1!)).toMatchObject({ errorCode: 0, metadataOffset: 1 });
    expect(s.image()).toBe(v1);
    expect(logger.lines).toEqual([
      expect.stringMatching(/applying the metadata image \(epoch 1, offset 1\) failed: no space/),
    ]);
  });

  it('waitUntil resolves with the first image that shows the change, or times out; close fails the waits', async () => {
    const scheduler = new ManualScheduler();
    const { sync: s } = sync({ scheduler });
    const [v1, v2] = history();
    const hasA = s.waitUntil((image) => Object.hasOwn(image.topics, 'a'), 1_000);
    await s.receive(v1!);
    await s.receive(v2!);
    expect(await hasA).toBe(v2);
    expect(await s.waitForVersion(v1!, 1_000)).toBe(v2); // already there

    const never = s.waitUntil(() => false, 1_000);
    scheduler.advance(999);
    await flush();
    scheduler.advance(1);
    await expect(never).rejects.toMatchObject({ name: 'REQUEST_TIMED_OUT' });
    expect(scheduler.pending).toBe(0);

    const closing = s.waitUntil(() => false, 1_000);
    await s.close();
    await expect(closing).rejects.toMatchObject({ name: 'NOT_CONTROLLER' });
  });
});
