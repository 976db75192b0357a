/**
 * A broker's part in the cluster, running: heartbeats to and from every
 * peer, who is alive, and who the controller is. It wraps the pure
 * `Liveness` (src/cluster/liveness.ts) with a timer, a transport and a
 * file, and says in plain words what it sees:
 *
 *   broker 2 is alive
 *   broker 1 missed its heartbeats for 9000 ms: dead
 *   broker 2 is now the controller (epoch 4)
 *
 * Every `broker.heartbeat.interval.ms` it expires the peers not heard from
 * within `broker.session.timeout.ms`, sends a BrokerHeartbeat to each peer
 * (at most one in flight per peer), and looks again at who should be the
 * controller: the live broker with the lowest id (docs/cluster.md). A peer
 * counts as heard from by its heartbeat or by its answer to ours.
 *
 * Controller epochs. A broker that becomes the controller takes one above
 * the highest it has seen in any heartbeat or in its data dir, and writes it
 * there before it says so to anyone, so that a restart never reuses one. It
 * claims the role only once its first round of heartbeats has been answered
 * (or has failed): a broker coming back learns the epochs of those that ran
 * on without it before it picks its own. Another broker X is taken as the
 * controller in epoch E once X is the lowest live id and reports E, E is the
 * highest epoch this broker knows, and E is above the epoch of the
 * controller it knew before (a controller's successor reports the old epoch
 * until it has claimed the role). Until then `controllerEpoch` is -1.
 *
 * What it sees, it also tells its `ClusterNodeHooks` (the controller
 * service, src/cluster/runtime/controller-service.ts): this broker became
 * the controller or gave the role up, a peer died or came back, a tick
 * passed. Heartbeats carry the metadataOffset of the image the hooks report.
 *
 * Invariant: `highestEpoch` ≥ every epoch seen or taken, and is persisted
 * before it is sent. Not for concurrent use: it runs on the event loop.
 */
import type { Scheduler } from '../../broker/group/scheduler.js';
import type { Logger } from '../../log/index.js';
import { ErrorCode, errorName } from '../../protocol/index.js';
import type { BrokerEndpoint, ClusterConfig } from '../cluster-config.js';
import { Liveness } from '../liveness.js';
import type { ImageVersion } from '../metadata-image.js';
import {
  type BrokerHeartbeatRequest,
  type BrokerHeartbeatResponse,
  type PeerTransport,
  connectionTransport,
} from './peer-transport.js';

/** Where the highest controller epoch seen is kept across restarts (Kafka/ZooKeeper: /controller_epoch). */
export interface ControllerEpochStore {
  load(): number;
  save(epoch: number): void;
}

export function memoryEpochStore(initial = 0): ControllerEpochStore {
  let epoch = initial;
  return { load: () => epoch, save: (e) => void (epoch = e) };
}

/** What the broker shows of the cluster (Metadata's brokers and controllerId). */
export interface ClusterState {
  readonly brokerId: number;
  /** The lowest live id as this broker sees it (during start-up, a lower peer not heard from yet counts). */
  readonly controllerId: number;
  /** The epoch of that controller, or -1 while it has not shown one. */
  readonly controllerEpoch: number;
  readonly isController: boolean;
  /** Live brokers, this one included, ascending. */
  readonly liveBrokerIds: readonly number[];
  /** The highest controller epoch seen or taken (persisted). */
  readonly highestControllerEpoch: number;
}

/**
 * What the node tells the rest of the broker, synchronously, as it happens
 * (each call must only note or schedule work: it runs inside a heartbeat).
 * A hook that throws is logged and ignored.
 */
export interface ClusterNodeHooks {
  /** This broker just claimed the controller role in `epoch`; `liveBrokerIds` includes itself. */
  becameController?(epoch: number, liveBrokerIds: readonly number[]): void;
  /** This broker gave the role up (a lower id is live again). */
  resigned?(): void;
  /** A peer was heard from for the first time, or again after it was counted dead. */
  peerAlive?(brokerId: number): void;
  /** A peer's session ran out. */
  peerDead?(brokerId: number): void;
  /** Once per heartbeat interval, after the heartbeats are sent. */
  tick?(): void;
  /** The version of the image this broker holds, for heartbeats (default 0). */
  imageVersion?(): ImageVersion;
  /** A live peer's heartbeat (or answer) reported the metadata offset it has applied. */
  peerReported?(brokerId: number, metadataOffset: number): void;
}

export interface ClusterNodeOptions {
  config: ClusterConfig;
  scheduler: Scheduler;
  logger: Logger;
  /** Default: one client Connection per peer. */
  transport?: PeerTransport;
  /** Default: in memory (a broker passes one on its data dir). */
  epochStore?: ControllerEpochStore;
}

export class ClusterNode {
  readonly config: ClusterConfig;
  readonly brokerId: number;
  private readonly scheduler: Scheduler;
  private readonly logger: Logger;
  private readonly transport: PeerTransport;
  private readonly store: ControllerEpochStore;
  private readonly peers: readonly BrokerEndpoint[];
  private liveness: Liveness;
  private highestEpoch: number;
  private acting = false;
  /** The controller this broker last took as such, and its epoch. */
  private confirmed: { id: number; epoch: number } | undefined;
  private readonly reported = new Map<number, number>();
  private readonly lastHeard = new Map<number, number>();
  private readonly inFlight = new Set<number>();
  /** Peers whose refusal or mismatch was logged (once, until they answer well). */
  private readonly warned = new Set<number>();
  /** Peers of the first heartbeat round not yet answered nor failed. */
  private firstRound: Set<number>;
  private cancelTick: (() => void) | undefined;
  private started = false;
  private closed = false;
  private hooks: ClusterNodeHooks = {};

  constructor(options: ClusterNodeOptions) {
    this.config = options.config;
    this.brokerId = options.config.brokerId;
    this.scheduler = options.scheduler;
    this.logger = options.logger;
    this.transport = options.transport ?? connectionTransport(options.config);
    this.store = options.epochStore ?? memoryEpochStore();
    this.peers = this.config.brokers.filter((b) => b.id !== this.brokerId);
    this.liveness = new Liveness(this.config, this.scheduler.now());
    this.highestEpoch = this.store.load();
    this.firstRound = new Set(this.peers.map((p) => p.id));
  }

  /** Sets what the node tells as it happens; call before `start`. */
  setHooks(hooks: ClusterNodeHooks): void {
    this.hooks = hooks;
  }

  /** Starts the heartbeats (the first round at once). */
  start(): void {
    if (this.started) throw new TypeError('the cluster node is already started');
    this.started = true;
    this.liveness = new Liveness(this.config, this.scheduler.now());
    const others = this.peers.map((p) => `${p.id}@${p.host}:${p.port}`).join(', ');
    this.logger.info(
      `broker ${this.brokerId} joins a cluster of ${this.config.brokers.length} ` +
        `(peers ${others || 'none'}; heartbeat every ${this.config.heartbeatIntervalMs} ms, ` +
        `session ${this.config.sessionTimeoutMs} ms, highest controller epoch seen ${this.highestEpoch})`,
    );
    this.tick();
  }

  /** Stops the timer and closes the connections to the peers. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cancelTick?.();
    await this.transport.close();
  }

  // #region state
  state(): ClusterState {
    const now = this.scheduler.now();
    const controllerId = this.liveness.expectedControllerId(now);
    const c = this.confirmed;
    return {
      brokerId: this.brokerId,
      controllerId,
      controllerEpoch: c !== undefined && c.id === controllerId ? c.epoch : -1,
      isController: this.acting,
      liveBrokerIds: this.liveness.liveBrokers(now),
      highestControllerEpoch: this.highestEpoch,
    };
  }

  /** The live brokers' endpoints, from the static config, this one included. */
  liveBrokers(): BrokerEndpoint[] {
    const now = this.scheduler.now();
    return this.config.brokers.filter((b) => this.liveness.isLive(b.id, now));
  }
  // #endregion state

  // #region heartbeats
  /** A peer's heartbeat arrived (the BrokerHeartbeat handler): record it and answer with our own state. */
  receiveHeartbeat(request: BrokerHeartbeatRequest): BrokerHeartbeatResponse {
    const known =
      request.brokerId !== this.brokerId && this.peers.some((p) => p.id === request.brokerId);
    if (!known) {
      this.logger.warn(
        `a heartbeat from broker ${request.brokerId}, which is not a peer in this broker's ` +
          `--cluster list: refused (do the lists agree?)`,
      );
    } else if (!this.closed) {
      this.heard(request.brokerId, request.controllerEpoch, request.metadataOffset);
    }
    return {
      errorCode: known ? ErrorCode.NONE : ErrorCode.INVALID_REQUEST,
      brokerId: this.brokerId,
      controllerEpoch: this.highestEpoch,
      metadataOffset: this.metadataOffset(),
    };
  }

  private tick(): void {
    if (this.closed) return;
    this.cancelTick = this.scheduler.schedule(this.config.heartbeatIntervalMs, () => this.tick());
    try {
      this.reassess();
      this.sendAll();
      this.call('tick', () => this.hooks.tick?.());
    } catch (err) {
      this.logger.error(`cluster tick failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private sendAll(): void {
    for (const peer of this.peers) if (!this.inFlight.has(peer.id)) this.send(peer);
  }

  private send(peer: BrokerEndpoint): void {
    this.inFlight.add(peer.id);
    const request = {
      brokerId: this.brokerId,
      controllerEpoch: this.highestEpoch,
      metadataOffset: this.metadataOffset(),
    };
    this.transport
      .heartbeat(peer, request)
      .then(
        (response) => this.answered(peer, response),
        (err: unknown) => {
          const why = err instanceof Error ? err.message : String(err);
          this.logger.debug(`heartbeat to broker ${peer.id} failed: ${why}`);
        },
      )
      .finally(() => {
        this.inFlight.delete(peer.id);
        if (this.firstRound.delete(peer.id) && this.firstRound.size === 0) this.reassess();
      })
      .catch((err: unknown) => {
        this.logger.error(
          `heartbeat to broker ${peer.id}: ${err instanceof Error ? err.message : err}`,
        );
      });
  }

  private answered(peer: BrokerEndpoint, response: BrokerHeartbeatResponse): void {
    if (this.closed) return;
    if (response.brokerId !== peer.id || response.errorCode !== ErrorCode.NONE) {
      if (this.warned.has(peer.id)) return;
      this.warned.add(peer.id);
      const why =
        response.brokerId !== peer.id
          ? `${peer.host}:${peer.port} answered as broker ${response.brokerId}, not ${peer.id}`
          : `broker ${peer.id} refused our heartbeat (${errorName(response.errorCode)})`;
      this.logger.warn(`${why}: is every broker started with the same --cluster list?`);
      return;
    }
    this.warned.delete(peer.id);
    this.heard(peer.id, response.controllerEpoch, response.metadataOffset);
  }

  private heard(peerId: number, controllerEpoch: number, metadataOffset: number): void {
    const now = this.scheduler.now();
    if (this.liveness.recordHeartbeat(peerId, now, { controllerEpoch, metadataOffset })) {
      this.logger.info(`broker ${peerId} is alive`);
      this.call('peerAlive', () => this.hooks.peerAlive?.(peerId));
    }
    this.lastHeard.set(peerId, now);
    this.reported.set(peerId, controllerEpoch);
    this.call('peerReported', () => this.hooks.peerReported?.(peerId, metadataOffset));
    this.raiseEpoch(controllerEpoch);
    this.reassess();
  }

  private expire(): void {
    const now = this.scheduler.now();
    for (const id of this.liveness.expire(now)) {
      const silent = now - (this.lastHeard.get(id) ?? now);
      this.logger.info(`broker ${id} missed its heartbeats for ${silent} ms: dead`);
      this.call('peerDead', () => this.hooks.peerDead?.(id));
    }
  }
  // #endregion heartbeats

  // #region controller
  /** Looks again at who the controller is: claims the role, gives it up, or takes another's. */
  private reassess(): void {
    if (this.closed) return;
    this.expire(); // a peer whose session ran out is reported dead before its successor is named
    const now = this.scheduler.now();
    const expected = this.liveness.expectedControllerId(now);
    if (expected === this.brokerId) {
      if (!this.acting && this.readyToLead(now)) this.becomeController();
      return;
    }
    if (this.acting) {
      this.acting = false;
      this.logger.info(
        `broker ${this.brokerId} is no longer the controller: broker ${expected} is live and has a lower id`,
      );
      this.call('resigned', () => this.hooks.resigned?.());
    }
    const epoch = this.reported.get(expected);
    // 0 is no epoch: the lowest id has not claimed the role yet.
    if (epoch === undefined || epoch === 0 || epoch < this.highestEpoch) return;
    if (this.confirmed !== undefined && epoch <= this.confirmed.epoch) return;
    this.confirmed = { id: expected, epoch };
    this.logger.info(`broker ${expected} is now the controller (epoch ${epoch})`);
  }

  private readyToLead(now: number): boolean {
    return (
      this.firstRound.size === 0 || now - this.liveness.startedMs >= this.config.sessionTimeoutMs
    );
  }

  private becomeController(): void {
    const own = { controllerEpoch: this.highestEpoch, metadataOffset: 0 };
    const epoch = this.liveness.highestControllerEpochSeen(own) + 1;
    this.raiseEpoch(epoch);
    this.acting = true;
    this.confirmed = { id: this.brokerId, epoch };
    this.logger.info(`broker ${this.brokerId} is now the controller (epoch ${epoch})`);
    this.sendAll(); // the peers learn the new epoch now, not a heartbeat interval later
    const live = this.liveness.liveBrokers(this.scheduler.now());
    this.call('becameController', () => this.hooks.becameController?.(epoch, live));
  }

  /**
   * A controller epoch seen in a metadata image this broker took: the node
   * counts it as seen (and persists it), so that a later claim goes above it.
   */
  observeControllerEpoch(epoch: number): void {
    this.raiseEpoch(epoch);
  }

  /**
   * The acting controller found an image of `epoch` or later among its peers
   * (a controller it never heard of): it takes an epoch above it, persisted
   * first, and returns it.
   */
  takeEpochAbove(epoch: number): number {
    const next = Math.max(this.highestEpoch, epoch) + 1;
    this.raiseEpoch(next);
    if (this.acting) {
      this.confirmed = { id: this.brokerId, epoch: next };
      this.logger.info(`broker ${this.brokerId} is now the controller (epoch ${next})`);
    }
    return next;
  }

  private metadataOffset(): number {
    try {
      return this.hooks.imageVersion?.().metadataOffset ?? 0;
    } catch {
      return 0;
    }
  }

  /** Runs a hook; its failure is logged, never the node's. */
  private call(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.logger.error(
        `the cluster's ${what} hook failed: ${err instanceof Error ? err.message : err}`,
      );
    }
  }

  /** Persists a higher epoch before anything is sent with it. */
  private raiseEpoch(epoch: number): void {
    if (epoch <= this.highestEpoch) return;
    this.store.save(epoch);
    this.highestEpoch = epoch;
  }
  // #endregion controller
}
