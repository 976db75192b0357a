/**
 * The metadata image on one broker: it takes the controller's pushes
 * (UpdateMetadata) and the controller's own images, persists each, hands it
 * to the broker's ImageListener, and only then counts it as applied.
 *
 * A push is taken when `acceptsPush(latest, pushed)`: its version
 * (controllerEpoch, metadataOffset) is newer than the latest image taken.
 * The first push after start-up is applied even at the version persisted
 * (a broker serves nothing until the controller has spoken to it). After
 * that, the same version is only acknowledged again, once applied (the controller
 * re-pushes until it hears an acknowledgement, so a lost answer costs one
 * more push). A push of an older controller epoch is refused
 * STALE_CONTROLLER_EPOCH: it comes from a controller that has been replaced
 * (fencing). An older push of the same epoch (answers overtaken) is answered
 * with the newer version.
 *
 * Invariants: images are applied one at a time, in the order taken, each
 * after it is persisted; `image()` is the one applied last, and `before` of
 * each `applyImage` call is the one applied before it (the persisted image at
 * start-up, or the empty image). Versions taken only grow. Not for
 * concurrent use: it runs on the event loop.
 */
import type { Scheduler } from '../../broker/group/scheduler.js';
import type { Logger } from '../../log/index.js';
import { ErrorCode, ProtocolError } from '../../protocol/index.js';
import {
  type ImageVersion,
  type MetadataImage,
  acceptsPush,
  compareImageVersions,
} from '../metadata-image.js';
import type { ImageListener } from './channels.js';
import type { MetadataStore } from './metadata-store.js';

export interface ImageSyncOptions {
  store: MetadataStore;
  /** The image to start from when the store has none (the empty image of the --cluster list). */
  empty: MetadataImage;
  logger: Logger;
  scheduler: Scheduler;
  listener?: ImageListener;
  /** Called when an image is taken, before it is applied (the node learns its controller epoch). */
  onTaken?: (image: MetadataImage) => void;
}

/** What a broker answers a push with (UpdateMetadata's response). */
export interface PushAnswer {
  readonly errorCode: number;
  readonly controllerEpoch: number;
  readonly metadataOffset: number;
}

interface Waiter {
  readonly until: (image: MetadataImage) => boolean;
  readonly resolve: (image: MetadataImage) => void;
  readonly reject: (err: Error) => void;
  cancelTimer: () => void;
}

export class ImageSync {
  private readonly store: MetadataStore;
  private readonly logger: Logger;
  private readonly scheduler: Scheduler;
  private readonly onTaken: ((image: MetadataImage) => void) | undefined;
  private listener: ImageListener | undefined;
  /** The image applied last: what the broker serves. */
  private applied: MetadataImage;
  /** The image taken last: persisted, or queued to be. Never older than `applied`. */
  private taken: MetadataImage;
  private chain: Promise<void> = Promise.resolve();
  /** Whether an image went to the listener since start-up (the persisted one has not: see receive). */
  private takenSinceStart = false;
  private appliedSinceStartFlag = false;
  private readonly waiters = new Set<Waiter>();
  private closed = false;

  constructor(options: ImageSyncOptions) {
    this.store = options.store;
    this.logger = options.logger;
    this.scheduler = options.scheduler;
    this.onTaken = options.onTaken;
    this.listener = options.listener;
    this.applied = options.store.load() ?? options.empty;
    this.taken = this.applied;
  }

  /** The image applied last. */
  image(): MetadataImage {
    return this.applied;
  }

  /** Whether an image reached the listener since start-up (heartbeats say 0 until then). */
  get appliedSinceStart(): boolean {
    return this.appliedSinceStartFlag;
  }

  /** The image taken last (it may still be on its way to the listener). */
  latest(): MetadataImage {
    return this.taken;
  }

  /** Plugs the broker's replica manager in; the next image taken goes to it. */
  setListener(listener: ImageListener | undefined): void {
    this.listener = listener;
  }

  // #region push
  /** A push from the controller: take it, or not, and answer once it is applied. */
  async receive(image: MetadataImage): Promise<PushAnswer> {
    const order = compareImageVersions(image, this.taken);
    if (order < 0 && image.controllerEpoch < this.taken.controllerEpoch) {
      this.logger.info(
        `refused an image of controller ${image.controllerId} in epoch ${image.controllerEpoch}: ` +
          `this broker holds one of epoch ${this.taken.controllerEpoch}`,
      );
      return this.answer(ErrorCode.STALE_CONTROLLER_EPOCH);
    }
    // The first push after start-up goes to the listener even at the persisted
    // version: the broker serves nothing until the controller has spoken, and a
    // broker back within a session finds nothing changed.
    const first = order === 0 && !this.takenSinceStart;
    try {
      await (order > 0 || first ? this.take(image) : this.chain);
    } catch {
      return this.answer(ErrorCode.KAFKA_STORAGE_ERROR);
    }
    return this.answer(ErrorCode.NONE);
  }

  /** This broker's own image, as the controller: taken like a push. Resolves once applied. */
  takeOwn(image: MetadataImage): Promise<void> {
    if (!acceptsPush(this.taken, image)) {
      return Promise.reject(
        new TypeError(
          `image ${version(image)} is not newer than the one taken, ${version(this.taken)}`,
        ),
      );
    }
    return this.take(image);
  }

  /** Resolves once every image taken so far is applied. */
  settled(): Promise<void> {
    return this.chain;
  }

  private answer(errorCode: number): PushAnswer {
    const { controllerEpoch, metadataOffset } = this.applied;
    return { errorCode, controllerEpoch, metadataOffset };
  }

  /** Persists, then applies, after every image taken before; rejects only when the save fails. */
  private take(image: MetadataImage): Promise<void> {
    const previous = this.taken;
    this.taken = image;
    this.takenSinceStart = true;
    this.onTaken?.(image);
    const step = this.chain.then(() => this.apply(image, previous));
    this.chain = step.catch(() => {});
    return step;
  }

  private async apply(image: MetadataImage, previous: MetadataImage): Promise<void> {
    if (this.closed) return;
    try {
      this.store.save(image);
    } catch (err) {
      if (this.taken === image) this.taken = previous;
      this.logger.error(`could not save the metadata image ${version(image)}: ${describe(err)}`);
      throw err;
    }
    const before = this.applied;
    try {
      await this.listener?.applyImage(before, image);
    } catch (err) {
      // The image is the cluster's truth and is persisted; the listener's failure is its own.
      this.logger.error(
        `applying the metadata image ${version(image)} failed: ${describe(err)}; ` +
          `the next image is diffed against it all the same`,
      );
    }
    this.applied = image;
    this.appliedSinceStartFlag = true;
    for (const w of [...this.waiters]) if (w.until(image)) this.settle(w, image);
  }
  // #endregion push

  // #region wait
  /**
   * Resolves with the first applied image (the current one included) for
   * which `until` holds; rejects REQUEST_TIMED_OUT after `timeoutMs`, or when
   * the sync closes.
   */
  waitUntil(until: (image: MetadataImage) => boolean, timeoutMs: number): Promise<MetadataImage> {
    if (until(this.applied)) return Promise.resolve(this.applied);
    if (this.closed) return Promise.reject(closedError());
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { until, resolve, reject, cancelTimer: () => {} };
      this.waiters.add(waiter);
      waiter.cancelTimer = this.scheduler.schedule(timeoutMs, () => {
        this.waiters.delete(waiter);
        reject(
          new ProtocolError(
            'REQUEST_TIMED_OUT',
            `this broker did not apply a metadata image with the change within ${timeoutMs} ms ` +
              `(it holds ${version(this.applied)})`,
          ),
        );
      });
    });
  }

  /** Resolves once an image at least as new as `target` is applied. */
  waitForVersion(target: ImageVersion, timeoutMs: number): Promise<MetadataImage> {
    return this.waitUntil((image) => compareImageVersions(image, target) >= 0, timeoutMs);
  }

  private settle(waiter: Waiter, image: MetadataImage): void {
    this.waiters.delete(waiter);
    waiter.cancelTimer();
    waiter.resolve(image);
  }
  // #endregion wait

  /** Takes no more images, fails the waits, and waits for the listener's current call. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of [...this.waiters]) {
      this.waiters.delete(w);
      w.cancelTimer();
      w.reject(closedError());
    }
    await this.chain;
  }
}

export function version(v: ImageVersion): string {
  return `(epoch ${v.controllerEpoch}, offset ${v.metadataOffset})`;
}

function closedError(): ProtocolError {
  return new ProtocolError('NOT_CONTROLLER', 'this broker is shutting down');
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
