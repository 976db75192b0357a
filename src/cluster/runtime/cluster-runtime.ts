/**
 * A broker's whole part in its cluster, put together: the ClusterNode
 * (heartbeats, who is alive, who the controller is), the ImageSync (the
 * image this broker holds), the ControllerService (the controller, when this
 * broker acts as it) and the ControllerChannel (the way to the controller),
 * over one PeerChannel. It is the broker's `clusterView`.
 *
 * Lifecycle: `open` → `start` (heartbeats begin) → `close`, which stops in
 * the order that keeps every image applied once and only once: the
 * controller (no more pushes), the channel's calls, the node (no more
 * heartbeats), the connections, and last the sync, which waits for the
 * listener's current `applyImage`.
 */
import type { Scheduler } from '../../broker/group/scheduler.js';
import type { Logger } from '../../log/index.js';
import { ErrorCode, type RequestBody, type ResponseBody } from '../../protocol/index.js';
import type { ClusterConfig } from '../cluster-config.js';
import { type MetadataImage, emptyImage } from '../metadata-image.js';
import type { ClusterView, ImageListener } from './channels.js';
import { ClusterNode, type ControllerEpochStore } from './cluster-node.js';
import { ClusterControllerChannel } from './controller-channel.js';
import { ControllerService } from './controller-service.js';
import { ImageSync } from './image-sync.js';
import { imageFromWire, imageToWire } from './image-wire.js';
import type { MetadataStore } from './metadata-store.js';
import { type PeerChannel, type PeerTransport, connectionPeerChannel } from './peer-transport.js';

export interface ClusterRuntimeOptions {
  config: ClusterConfig;
  scheduler: Scheduler;
  logger: Logger;
  store: MetadataStore;
  epochStore: ControllerEpochStore;
  /** `request.timeout.ms`: a ControllerChannel call, a push, a snapshot. */
  requestTimeoutMs: number;
  listener?: ImageListener;
  /** Default: connections (tests wire brokers in memory). */
  transport?: PeerTransport;
  peers?: PeerChannel;
}

export class ClusterRuntime implements ClusterView {
  readonly node: ClusterNode;
  readonly sync: ImageSync;
  readonly service: ControllerService;
  /** Forwards to the controller when this broker is not it. */
  readonly channel: ClusterControllerChannel;
  /** Never forwards: NOT_CONTROLLER unless this broker acts as the controller (for forwarded requests). */
  readonly controllerOnly: ClusterControllerChannel;
  private readonly peers: PeerChannel;
  private readonly config: ClusterConfig;
  private closing: Promise<void> | undefined;

  constructor(options: ClusterRuntimeOptions) {
    const { config, scheduler, logger } = options;
    this.config = config;
    this.peers = options.peers ?? connectionPeerChannel(config);
    this.node = new ClusterNode({
      config,
      scheduler,
      logger,
      transport: options.transport,
      epochStore: options.epochStore,
    });
    this.sync = new ImageSync({
      store: options.store,
      empty: emptyImage(config.brokers),
      logger,
      scheduler,
      listener: options.listener,
      onTaken: (image) => this.node.observeControllerEpoch(image.controllerEpoch),
    });
    this.node.observeControllerEpoch(this.sync.image().controllerEpoch);
    this.service = new ControllerService({
      config,
      node: this.node,
      sync: this.sync,
      peers: this.peers,
      logger,
      requestTimeoutMs: options.requestTimeoutMs,
    });
    const channelOptions = {
      config,
      node: this.node,
      service: this.service,
      sync: this.sync,
      peers: this.peers,
      scheduler,
      logger,
      timeoutMs: options.requestTimeoutMs,
      retryBackoffMs: Math.min(100, config.heartbeatIntervalMs),
    };
    this.channel = new ClusterControllerChannel(channelOptions);
    this.controllerOnly = new ClusterControllerChannel(channelOptions, false);
    const service = this.service;
    this.node.setHooks({
      becameController: (epoch) => service.becameController(epoch),
      resigned: () => service.resigned(),
      peerAlive: (id) => service.peerAlive(id),
      peerDead: (id) => service.peerDead(id),
      tick: () => service.tick(),
      // Nothing applied since start-up yet: offset 0, which tells the
      // controller this broker restarted (and must be sent the image).
      imageVersion: () =>
        this.sync.appliedSinceStart
          ? this.sync.image()
          : { controllerEpoch: this.sync.image().controllerEpoch, metadataOffset: 0 },
      peerReported: (id, offset) => service.peerReported(id, offset),
    });
  }

  /** The image this broker applied last. */
  image(): MetadataImage {
    return this.sync.image();
  }

  /** Plugs the broker's replica manager in (before `start`, so it sees every image). */
  setImageListener(listener: ImageListener | undefined): void {
    this.sync.setListener(listener);
  }

  start(): void {
    this.node.start();
  }

  // #region requests
  /** UpdateMetadata: a push from the controller. */
  async receivePush(body: RequestBody<'UpdateMetadata'>): Promise<ResponseBody<'UpdateMetadata'>> {
    const refuse = () => {
      const { controllerEpoch, metadataOffset } = this.sync.image();
      return { errorCode: ErrorCode.INVALID_REQUEST, controllerEpoch, metadataOffset };
    };
    const from = body.controllerId;
    if (
      from === this.config.brokerId ||
      !this.config.brokers.some((b) => b.id === from) ||
      body.image.controllerId !== from ||
      body.image.controllerEpoch !== body.controllerEpoch
    )
      return refuse();
    let image: MetadataImage;
    try {
      image = imageFromWire(body.image);
    } catch {
      return refuse();
    }
    return this.sync.receive(image);
  }

  /** FetchSnapshot: the image this broker applied last, for a broker taking over. */
  snapshot(body: RequestBody<'FetchSnapshot'>): ResponseBody<'FetchSnapshot'> {
    const known =
      body.brokerId !== this.config.brokerId &&
      this.config.brokers.some((b) => b.id === body.brokerId);
    return {
      errorCode: known ? ErrorCode.NONE : ErrorCode.INVALID_REQUEST,
      image: imageToWire(this.sync.image()),
    };
  }
  // #endregion requests

  /**
   * The broker begins to stop: calls to the controller under way end now
   * (NOT_CONTROLLER, so a client tries another broker) rather than retry
   * while the server drains. Images are still taken until `close`.
   */
  beginShutdown(): void {
    this.channel.close();
    this.controllerOnly.close();
  }

  /** Stops everything, in order (see the header). Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const controller = this.service.close(); // stops at once; its queue drains below
      this.beginShutdown();
      await this.node.close();
      await this.peers.close();
      await controller;
      await this.sync.close();
    })();
    return this.closing;
  }
}

/** The broker's ClusterRuntime, when it runs one (the handlers of the cluster's APIs need it). */
export function clusterRuntime(broker: {
  readonly clusterView?: ClusterView;
}): ClusterRuntime | undefined {
  return broker.clusterView instanceof ClusterRuntime ? broker.clusterView : undefined;
}
