/**
 * The controller at run time, on the broker that acts as it (the ClusterNode
 * says when: the live broker with the lowest id). It holds the current image,
 * runs every event through `applyEvent` (src/cluster/controller.ts) one at a
 * time, takes each new image itself (persist, then its own ImageListener),
 * and pushes the whole image to every live peer with UpdateMetadata.
 *
 * Taking over. The new controller starts from the newest of its own image
 * and those its live peers hold (FetchSnapshot), so a broker that returns and
 * takes the role back as the lowest id does not start from the stale image it
 * had when it stopped. It applies BecomeController with itself and the live
 * peers that image already holds as live; every other live peer is unfenced
 * (BrokerUnfenced) only once it has acknowledged the controller's current
 * image, so it knows who leads what before anyone counts on it.
 *
 * Pushing. After every change, the image goes to every live peer, at most one
 * push in flight per peer (a change made meanwhile is pushed when it
 * returns); on each heartbeat tick, again to every live peer whose last
 * acknowledgement is behind. A peer's death is BrokerFenced.
 *
 * Invariants: events apply one at a time, in the order submitted, to the
 * image the last one made; an image is taken locally and pushed only while
 * this broker acts as the controller of the generation that made it. Not
 * for concurrent use: it runs on the event loop.
 */
import type { Logger } from '../../log/index.js';
import { ErrorCode, ProtocolError, errorName } from '../../protocol/index.js';
import type { BrokerEndpoint, ClusterConfig } from '../cluster-config.js';
import { type ControllerEvent, type ControllerResult, applyEvent } from '../controller.js';
import {
  type ImageVersion,
  type MetadataImage,
  compareImageVersions,
  isLiveBroker,
} from '../metadata-image.js';
import type { ClusterState } from './cluster-node.js';
import { type ImageSync, version } from './image-sync.js';
import { imageToWire } from './image-wire.js';
import type { PeerChannel } from './peer-transport.js';
import { newestImage, peerSnapshots, withConfiguredBrokers } from './take-over-image.js';

/** What the service needs of the ClusterNode. */
export interface ControllerNode {
  state(): ClusterState;
  /** Live brokers' endpoints, this one included. */
  liveBrokers(): BrokerEndpoint[];
  takeEpochAbove(epoch: number): number;
}

export interface ControllerServiceOptions {
  config: ClusterConfig;
  node: ControllerNode;
  sync: ImageSync;
  peers: PeerChannel;
  logger: Logger;
  /** How long a push or a snapshot may take before it counts as failed. */
  requestTimeoutMs: number;
}

/** A step's result, and the promise that this broker has applied its image. */
export interface Submitted {
  readonly result: ControllerResult;
  /** Resolves once this broker applied the step's image (at once when nothing changed). */
  readonly applied: Promise<unknown>;
}

interface Acting {
  readonly generation: number;
  image: MetadataImage;
}

export class ControllerService {
  private readonly config: ClusterConfig;
  private readonly node: ControllerNode;
  private readonly sync: ImageSync;
  private readonly peers: PeerChannel;
  private readonly logger: Logger;
  private readonly requestTimeoutMs: number;
  private readonly self: number;
  /** Bumped whenever the role is claimed or given up: work of an older generation stops. */
  private generation = 0;
  private acting: Acting | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly acked = new Map<number, ImageVersion>();
  /** Peers found restarted that have not reported a non-zero offset since (peerReported). */
  private readonly restarted = new Set<number>();
  private readonly pushing = new Set<number>();
  private readonly pushAgain = new Set<number>();
  /** Live peers the image holds as fenced: unfenced once they acknowledge the current image. */
  private readonly returning = new Set<number>();
  private readonly warned = new Set<number>();
  private closed = false;

  constructor(options: ControllerServiceOptions) {
    this.config = options.config;
    this.node = options.node;
    this.sync = options.sync;
    this.peers = options.peers;
    this.logger = options.logger;
    this.requestTimeoutMs = options.requestTimeoutMs;
    this.self = options.config.brokerId;
  }

  /** Whether this broker acts as the controller now, its start-up done. */
  isActive(): boolean {
    return this.acting !== undefined;
  }

  /** The controller's current image, while it acts. */
  image(): MetadataImage | undefined {
    return this.acting?.image;
  }

  // #region hooks
  becameController(epoch: number): void {
    if (this.closed) return;
    const generation = this.resetRole();
    this.enqueue(() => this.takeOver(generation, epoch)).catch((err: unknown) => {
      this.logger.error(`taking over as the controller failed: ${describe(err)}`);
    });
  }

  resigned(): void {
    this.resetRole();
  }

  peerDead(brokerId: number): void {
    this.returning.delete(brokerId);
    this.acked.delete(brokerId);
    if (this.acting === undefined) return;
    this.internal({ type: 'BrokerFenced', brokerId });
  }

  peerAlive(brokerId: number): void {
    this.acked.delete(brokerId);
    if (this.acting === undefined) return;
    this.returning.add(brokerId);
    this.pushTo(brokerId);
  }

  /**
   * A live peer reported the metadata offset it has applied. 0 from a peer
   * that had acknowledged a later image means it restarted within its
   * session (nothing applied since start-up): like Kafka's re-registration
   * with a new incarnation, it is fenced (its leaderships move, it leaves
   * every ISR, so nothing is counted on from a process that lost its state)
   * and unfenced once it has acknowledged the current image. Further 0s
   * from it are not a new restart until it has reported a non-zero offset.
   */
  peerReported(brokerId: number, metadataOffset: number): void {
    if (metadataOffset > 0) {
      this.restarted.delete(brokerId);
      return;
    }
    const acting = this.acting;
    const ack = this.acked.get(brokerId);
    if (acting === undefined || this.restarted.has(brokerId)) return;
    if (ack === undefined || ack.metadataOffset === 0) return;
    this.restarted.add(brokerId);
    this.acked.delete(brokerId);
    this.returning.add(brokerId);
    this.logger.info(
      `broker ${brokerId} restarted (it reports no image applied since it started): ` +
        'fencing it until it holds the current image',
    );
    // The fenced image is pushed to every live peer, this one included, once
    // committed: it must not lead from the image it had before it restarted.
    if (isLiveBroker(acting.image, brokerId)) this.internal({ type: 'BrokerFenced', brokerId });
    else this.pushTo(brokerId);
  }

  /**
   * Re-pushes to the live peers that are behind, and makes the image agree
   * with what the node sees, should a death or a return have slipped past
   * (during a take-over, say): a dead broker the image holds as live is
   * fenced, a live one it holds as fenced waits for its acknowledgement.
   */
  tick(): void {
    const acting = this.acting;
    if (acting === undefined) return;
    const live = new Set(this.livePeers());
    for (const { id } of this.config.brokers) {
      if (id === this.self) continue;
      if (!live.has(id)) {
        if (isLiveBroker(acting.image, id)) this.internal({ type: 'BrokerFenced', brokerId: id });
        continue;
      }
      if (!isLiveBroker(acting.image, id)) this.returning.add(id);
      if (this.isCurrent(acting, id)) this.unfenceIfReturning(acting, id);
      else this.pushTo(id);
    }
  }
  // #endregion hooks

  // #region submit
  /**
   * Runs one event after those submitted before. Rejects NOT_CONTROLLER when
   * this broker does not act as the controller (or stops before its turn).
   * A refused request resolves with the result's error; `validateOnly`
   * computes the result and keeps nothing.
   */
  submit(event: ControllerEvent, validateOnly = false): Promise<Submitted> {
    if (this.acting === undefined || this.closed) return Promise.reject(notController(this.self));
    const generation = this.generation;
    return this.enqueue(async () => {
      const acting = this.acting;
      if (acting === undefined || acting.generation !== generation || this.closed)
        throw notController(this.self);
      const result = applyEvent(acting.image, event);
      if (result.error !== undefined || validateOnly || result.image === acting.image)
        return { result, applied: Promise.resolve() };
      return { result, applied: this.commit(acting, result.image) };
    });
  }

  /** An event of the controller's own (a broker fenced or back): logged if refused. */
  private internal(event: ControllerEvent): void {
    this.submit(event).then(
      ({ result }) => {
        if (result.error !== undefined)
          this.logger.warn(`${event.type} refused: ${result.error.message}`);
      },
      (err: unknown) => this.logger.debug(`${event.type} not applied: ${describe(err)}`),
    );
  }

  private enqueue<T>(fn: () => Promise<T> | T): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => {});
    return run;
  }

  /** The new image: taken here (persist, apply), then pushed to every live peer. */
  private commit(acting: Acting, image: MetadataImage): Promise<void> {
    acting.image = image;
    const applied = this.sync.takeOwn(image);
    applied.catch((err: unknown) => {
      this.logger.error(`the controller could not take its own image: ${describe(err)}`);
    });
    for (const peer of this.livePeers()) this.pushTo(peer);
    return applied;
  }
  // #endregion submit

  // #region take-over
  private async takeOver(generation: number, claimed: number): Promise<void> {
    const peers = this.node.liveBrokers().filter((b) => b.id !== this.self);
    // A peer that cannot answer within half a session is as good as dead.
    const timeoutMs = Math.min(this.requestTimeoutMs, Math.ceil(this.config.sessionTimeoutMs / 2));
    const snapshots = await peerSnapshots(this.self, peers, this.peers, timeoutMs, this.logger);
    await this.sync.settled(); // a push that came meanwhile counts too
    const newest = newestImage(this.sync.latest(), snapshots);
    if (generation !== this.generation || this.closed) return;
    const start = withConfiguredBrokers(newest.image, this.config.brokers);
    const epoch =
      start.controllerEpoch >= claimed ? this.node.takeEpochAbove(start.controllerEpoch) : claimed;
    const liveNow = this.node.state().liveBrokerIds;
    // A controller that has applied nothing since it started is a restarted
    // broker: it fences itself first (its leaderships move to live ISR
    // members, as a peer's restart would make them), then unfences itself.
    const restarted = !this.sync.appliedSinceStart && isLiveBroker(start, this.self);
    const live = liveNow.filter((id) => id === this.self || isLiveBroker(start, id));
    const result = applyEvent(start, {
      type: 'BecomeController',
      brokerId: this.self,
      controllerEpoch: epoch,
      liveBrokerIds: live,
    });
    if (result.error !== undefined) {
      this.logger.error(
        `broker ${this.self} cannot act as the controller: ${result.error.message}`,
      );
      return;
    }
    const acting: Acting = { generation, image: start };
    this.acting = acting;
    for (const id of liveNow) if (!live.includes(id)) this.returning.add(id);
    const waiting = [...this.returning];
    this.logger.info(
      `broker ${this.self} acts as the controller from ${newest.from} image ${version(start)}: ` +
        `${Object.keys(start.topics).length} topic(s), brokers ${live.join(', ')} live` +
        (waiting.length > 0 ? `; ${waiting.join(', ')} unfenced once they acknowledge` : ''),
    );
    this.commit(acting, result.image).catch(() => {}); // logged by commit
    if (restarted) {
      this.logger.info(
        `broker ${this.self} restarted: it fences itself, so that its leaderships move, then unfences itself`,
      );
      this.internal({ type: 'BrokerFenced', brokerId: this.self });
      this.internal({ type: 'BrokerUnfenced', brokerId: this.self });
    }
  }

  // #endregion take-over

  // #region push
  private pushTo(peerId: number): void {
    const acting = this.acting;
    if (acting === undefined || this.closed) return;
    if (this.pushing.has(peerId)) {
      this.pushAgain.add(peerId);
      return;
    }
    const peer = this.config.brokers.find((b) => b.id === peerId);
    if (peer === undefined) return;
    this.pushing.add(peerId);
    const image = acting.image;
    const body = {
      controllerId: this.self,
      controllerEpoch: image.controllerEpoch,
      image: imageToWire(image),
    };
    this.peers
      .request(peer, 'UpdateMetadata', body, this.requestTimeoutMs)
      .then(
        (answer) => this.acknowledged(acting, peerId, answer),
        (err: unknown) => this.logger.debug(`pushing to broker ${peerId} failed: ${describe(err)}`),
      )
      .finally(() => {
        this.pushing.delete(peerId);
        if (this.pushAgain.delete(peerId)) this.pushTo(peerId);
      })
      .catch((err: unknown) => this.logger.error(`push to broker ${peerId}: ${describe(err)}`));
  }

  private acknowledged(
    acting: Acting,
    peerId: number,
    answer: { errorCode: number; controllerEpoch: number; metadataOffset: number },
  ): void {
    if (this.acting !== acting) return;
    if (answer.errorCode !== ErrorCode.NONE) {
      if (!this.warned.has(peerId))
        this.logger.warn(
          `broker ${peerId} refused the image ${version(acting.image)}: ` +
            `${errorName(answer.errorCode) ?? answer.errorCode} (it holds ${version(answer)})`,
        );
      this.warned.add(peerId);
      return;
    }
    this.warned.delete(peerId);
    const { controllerEpoch, metadataOffset } = answer;
    this.acked.set(peerId, { controllerEpoch, metadataOffset });
    if (this.isCurrent(acting, peerId)) this.unfenceIfReturning(acting, peerId);
  }

  private isCurrent(acting: Acting, peerId: number): boolean {
    const ack = this.acked.get(peerId);
    return ack !== undefined && compareImageVersions(ack, acting.image) >= 0;
  }

  /** A returning peer that holds the current image is unfenced (once). */
  private unfenceIfReturning(acting: Acting, peerId: number): void {
    if (!this.returning.delete(peerId) || isLiveBroker(acting.image, peerId)) return;
    this.logger.info(
      `broker ${peerId} holds the current image ${version(acting.image)}: unfencing it`,
    );
    this.internal({ type: 'BrokerUnfenced', brokerId: peerId });
  }

  private livePeers(): number[] {
    return this.node.state().liveBrokerIds.filter((id) => id !== this.self);
  }
  // #endregion push

  /** Stops acting at once (no more pushes; queued events get NOT_CONTROLLER), then drains the queue. */
  async close(): Promise<void> {
    this.closed = true;
    this.resetRole();
    await this.queue;
  }

  private resetRole(): number {
    this.generation += 1;
    this.acting = undefined;
    this.acked.clear();
    this.restarted.clear();
    this.returning.clear();
    this.pushAgain.clear();
    return this.generation;
  }
}

function notController(self: number): ProtocolError {
  return new ProtocolError('NOT_CONTROLLER', `broker ${self} does not act as the controller`);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
