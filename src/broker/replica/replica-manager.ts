/**
 * The replica manager of a broker in a cluster (Kafka's ReplicaManager): it
 * applies each of the controller's images to this broker's partitions, runs
 * the follower fetchers, and, for the partitions it leads, asks the
 * controller to change the ISR.
 *
 * Applying an image (`applyImage`, an ImageListener):
 * 1. the held topics are made to match it (local-topics.ts): created with
 *    the image's log configs, deleted when the controller deleted them;
 * 2. each partition whose registration changed since the image this
 *    manager applied last (`diffImages` + `localChanges`; everything, the
 *    first time) gets its role: leader at the image's leader epoch, ISR and
 *    replicas (`Partition.becomeLeader`), or follower of broker L (the
 *    fetcher for L takes it), or nothing;
 * 3. min.insync.replicas is set on every held partition.
 * A call never waits on the controller (the channel's calls resolve only
 * after a later image is applied).
 *
 * The ISR (src/replication/isr.ts, Kafka's rules): a follower that caught
 * up is proposed for the ISR when its fetch shows it (`followerFetched`,
 * from the Fetch handler); every replica.lag.time.max.ms / 2 (on the
 * scheduler) the ISR followers not caught up for replica.lag.time.max.ms
 * are proposed out. Each change goes through `channel.alterPartition`, one
 * in flight per partition; a stale one (FENCED_LEADER_EPOCH,
 * INVALID_UPDATE_VERSION, ...) waits for the next image, any other failure
 * may be proposed again after `fetchBackoffMs`. A follower the image counts
 * dead is not proposed (the controller would refuse it).
 *
 * Until its first image, the manager keeps every held partition unserved:
 * a broker that restarts does not lead what it led before until the
 * controller says so. Runs on the event loop; images are applied one at a
 * time, in call order.
 */
import { type LeaderAndIsr, diffImages, localChanges } from '../../cluster/changes.js';
import {
  type BrokerRegistration,
  type MetadataImage,
  NO_LEADER,
  isLiveBroker,
} from '../../cluster/metadata-image.js';
import type { ControllerChannel, ImageListener } from '../../cluster/runtime/channels.js';
import { Connection } from '../../client/connection.js';
import type { Logger } from '../../log/index.js';
import { toProtocolError } from '../../protocol/index.js';
import { DEFAULT_REPLICA_LAG_TIME_MAX_MS } from '../../replication/replica-state.js';
import type { BrokerSettings } from '../config.js';
import type { Scheduler } from '../group/scheduler.js';
import type { Partition } from '../partition.js';
import type { TopicManager } from '../topics.js';
import { awaitOneAck } from './delayed-acks.js';
import { type ReplicaClient, ReplicaFetcher } from './fetcher.js';
import { syncTopics } from './local-topics.js';

/** A change of leadership of one partition here (the group coordinator listens for `__consumer_offsets`). */
export interface LeadershipChange {
  readonly topic: string;
  readonly partition: number;
  readonly isLeader: boolean;
  readonly leaderEpoch: number;
}

export interface ReplicaManagerOptions {
  readonly brokerId: number;
  readonly topics: TopicManager;
  readonly logger: Logger;
  /** Time and timers: the ISR check, acks=all timeouts. Its clock must be the broker's. */
  readonly scheduler: Scheduler;
  readonly channel: ControllerChannel;
  /** The broker's settings: replica.lag.time.max.ms and min.insync.replicas are read from them. */
  readonly settings?: Partial<BrokerSettings>;
  /** Overrides `settings['replica.lag.time.max.ms']` (Kafka: 30000). */
  readonly replicaLagTimeMaxMs?: number;
  /** How a fetcher reaches leader `broker`. Default: a client Connection to its host and port. */
  readonly connectTo?: (broker: BrokerRegistration) => ReplicaClient;
  /** Kafka's replica.fetch.wait.max.ms (500). */
  readonly fetchMaxWaitMs?: number;
  /** Kafka's replica.fetch.backoff.ms (1000): after a failed fetch, and between refused ISR proposals. */
  readonly fetchBackoffMs?: number;
  /** Called for each partition this broker starts or stops leading. */
  readonly onLeadershipChange?: (change: LeadershipChange) => void;
}

const EMPTY_IMAGE: MetadataImage = {
  controllerEpoch: 0,
  controllerId: -1,
  metadataOffset: 0,
  brokers: [],
  topics: {},
};

/**
 * Refusals the next image will explain (a newer registration, or the topic
 * gone): the proposal stays pending until it comes (Kafka's
 * handleAlterPartitionError). Any other refusal (INELIGIBLE_REPLICA: the
 * controller counts the follower dead; or a timeout) clears it.
 */
const WAIT_FOR_IMAGE = new Set([
  'FENCED_LEADER_EPOCH',
  'INVALID_UPDATE_VERSION',
  'UNKNOWN_TOPIC_OR_PARTITION',
]);

export class ReplicaManager implements ImageListener {
  private applied: MetadataImage = EMPTY_IMAGE;
  private queue: Promise<void> = Promise.resolve();
  private readonly fetchers = new Map<number, ReplicaFetcher>();
  private readonly strays = new Set<string>();
  private readonly retryAfter = new WeakMap<Partition, number>();
  private readonly stops = new Set<() => void>();
  private cancelIsrCheck: (() => void) | undefined;
  private closed = false;
  readonly replicaLagTimeMaxMs: number;

  constructor(private readonly o: ReplicaManagerOptions) {
    this.replicaLagTimeMaxMs =
      o.replicaLagTimeMaxMs ??
      o.settings?.['replica.lag.time.max.ms'] ??
      DEFAULT_REPLICA_LAG_TIME_MAX_MS;
    for (const p of o.topics.partitions()) if (p.role !== 'none') p.stopServing();
  }

  /** The image this manager applied last (the empty image before the first). */
  get image(): MetadataImage {
    return this.applied;
  }

  // #region apply
  applyImage(before: MetadataImage, after: MetadataImage): Promise<void> {
    const run = this.queue.then(() => this.apply(before, after));
    this.queue = run.catch(() => {});
    return run;
  }

  private async apply(before: MetadataImage, after: MetadataImage): Promise<void> {
    if (this.closed) return;
    const { brokerId, topics, logger } = this.o;
    const sync = await syncTopics(
      topics,
      brokerId,
      [before, this.applied],
      after,
      logger,
      this.strays,
      (name) => this.forgetTopic(name),
    );
    // Against the image applied last, less the topics (re)created now: theirs all need roles.
    let base = this.applied;
    if (sync.created.size > 0) {
      const kept = Object.entries(base.topics).filter(([name]) => !sync.created.has(name));
      base = { ...base, topics: Object.fromEntries(kept) };
    }
    const changes = diffImages(base, after);
    const local = localChanges(brokerId, changes);
    for (const c of local.leaders) await this.lead(c);
    for (const c of local.followers) await this.follow(c, after);
    for (const c of changes)
      if (!c.after.replicas.includes(brokerId)) {
        const p = topics.partition(c.topic, c.partition);
        if (p !== undefined && p.role !== 'none') this.stopServing(p);
      }
    for (const [name, t] of Object.entries(after.topics)) {
      const held = topics.get(name);
      if (held === undefined) continue;
      const min = Number(
        t.configs['min.insync.replicas'] ?? this.o.settings?.['min.insync.replicas'] ?? 1,
      );
      for (const p of held.partitions) p.minInsyncReplicas = min;
    }
    this.applied = after;
    this.closeIdleFetchers();
    this.scheduleIsrCheck();
  }

  private async lead(c: LeaderAndIsr): Promise<void> {
    const p = this.o.topics.partition(c.topic, c.partition);
    if (p === undefined) return;
    this.unfollow(p);
    const wasLeading = p.role === 'leader' && p.leaderEpoch === c.leaderEpoch;
    try {
      await p.ready();
      p.becomeLeader(
        c.leaderEpoch,
        { replicas: c.replicas, isr: c.isr, partitionEpoch: c.partitionEpoch },
        this.o.scheduler.now(),
      );
    } catch (err) {
      this.o.logger.error(`${p.name} cannot lead epoch ${c.leaderEpoch}: ${describe(err)}`);
      return;
    }
    if (wasLeading) {
      this.o.logger.info(`${p.name}: the ISR is now [${c.isr.join(',')}]`);
      return;
    }
    this.o.logger.info(
      `leading ${p.name} at epoch ${c.leaderEpoch} from offset ${p.logEndOffset}, ` +
        `ISR [${c.isr.join(',')}], high watermark ${p.highWatermark}`,
    );
    this.o.onLeadershipChange?.({
      topic: c.topic,
      partition: c.partition,
      isLeader: true,
      leaderEpoch: c.leaderEpoch,
    });
  }

  private async follow(c: LeaderAndIsr, image: MetadataImage): Promise<void> {
    const p = this.o.topics.partition(c.topic, c.partition);
    if (p === undefined) return;
    this.unfollow(p);
    const wasLeader = p.role === 'leader';
    await p.ready();
    p.becomeFollower(Math.max(c.leaderEpoch, 0), c.leader);
    if (wasLeader)
      this.o.onLeadershipChange?.({
        topic: c.topic,
        partition: c.partition,
        isLeader: false,
        leaderEpoch: c.leaderEpoch,
      });
    const leader = image.brokers.find((b) => b.id === c.leader);
    if (c.leader === NO_LEADER || leader === undefined) {
      this.o.logger.info(`${p.name} has no leader at epoch ${c.leaderEpoch}: waiting`);
      return;
    }
    this.fetcherFor(leader).add(p);
  }

  private stopServing(p: Partition): void {
    this.unfollow(p);
    const wasLeader = p.role === 'leader';
    p.stopServing();
    if (wasLeader)
      this.o.onLeadershipChange?.({
        topic: p.topic,
        partition: p.index,
        isLeader: false,
        leaderEpoch: p.leaderEpoch,
      });
  }

  /** Before a held topic is deleted: no fetcher writes to it, no coordinator counts on it. */
  private forgetTopic(name: string): void {
    for (const p of this.o.topics.get(name)?.partitions ?? []) this.stopServing(p);
  }
  // #endregion apply

  // #region fetchers
  private fetcherFor(leader: BrokerRegistration): ReplicaFetcher {
    let fetcher = this.fetchers.get(leader.id);
    if (fetcher === undefined) {
      const client = this.o.connectTo?.(leader) ?? this.connection(leader);
      fetcher = new ReplicaFetcher({
        brokerId: this.o.brokerId,
        leaderId: leader.id,
        client,
        logger: this.o.logger,
        maxWaitMs: this.o.fetchMaxWaitMs ?? 500,
        backoffMs: this.o.fetchBackoffMs ?? 1_000,
        partitionMaxBytes: 1024 * 1024,
        maxBytes: 10 * 1024 * 1024,
        requestTimeoutMs: 30_000,
      });
      this.fetchers.set(leader.id, fetcher);
    }
    return fetcher;
  }

  private connection(leader: BrokerRegistration): ReplicaClient {
    return new Connection(
      { host: leader.host, port: leader.port },
      { clientId: `samsa-replica-fetcher-${this.o.brokerId}`, requestTimeoutMs: 30_000 },
    );
  }

  private unfollow(p: Partition): void {
    for (const f of this.fetchers.values()) f.remove(p);
  }

  private closeIdleFetchers(): void {
    for (const [id, f] of this.fetchers)
      if (f.size === 0) {
        this.fetchers.delete(id);
        void f.close();
      }
  }
  // #endregion fetchers

  // #region isr
  /**
   * The Fetch handler's call after a follower's fetch was recorded: proposes
   * the follower for the ISR when it has caught up.
   */
  followerFetched(p: Partition, replicaId: number): void {
    const newIsr = p.isrToExpand(replicaId);
    if (newIsr === undefined || this.backingOff(p)) return;
    // Kafka's isReplicaIsrEligible: the controller would refuse a broker it counts dead.
    if (!isLiveBroker(this.applied, replicaId)) return;
    const end = p.followers.get(replicaId)?.logEndOffset;
    this.propose(
      p,
      newIsr,
      `broker ${replicaId} has caught up (its log ends at ${end}, the high watermark is ${p.highWatermark})`,
    );
  }

  /** One pass of Kafka's isr-expiration: every led partition's lagging ISR followers are proposed out. */
  checkIsrs(): void {
    const now = this.o.scheduler.now();
    const lag = this.replicaLagTimeMaxMs;
    for (const p of this.o.topics.partitions()) {
      if (p.role !== 'leader' || this.backingOff(p)) continue;
      const out = p.outOfSyncReplicas(now, lag);
      if (out === undefined) continue;
      const newIsr = [...p.isr].filter((id) => !out.includes(id));
      const who = out.map((id) => `broker ${id}`).join(', ');
      this.propose(p, newIsr, `${who} not caught up for more than ${lag} ms`);
    }
  }

  private scheduleIsrCheck(): void {
    if (this.cancelIsrCheck !== undefined || this.closed) return;
    const every = Math.max(1, Math.floor(this.replicaLagTimeMaxMs / 2));
    this.cancelIsrCheck = this.o.scheduler.schedule(every, () => {
      this.cancelIsrCheck = undefined;
      if (this.closed) return;
      this.checkIsrs();
      this.scheduleIsrCheck();
    });
  }

  private propose(p: Partition, newIsr: readonly number[], why: string): void {
    const proposal = p.proposeIsr(newIsr);
    const { logger } = this.o;
    logger.info(
      `asking to change the ISR of ${p.name} from [${[...p.isr].join(',')}] to [${newIsr.join(',')}]: ${why}`,
    );
    this.o.channel
      .alterPartition({
        brokerId: this.o.brokerId,
        topic: p.topic,
        partition: p.index,
        leaderEpoch: proposal.leaderEpoch,
        partitionEpoch: proposal.partitionEpoch,
        newIsr: proposal.newIsr,
      })
      .then(
        (registration) => p.isrAccepted(proposal, registration, this.o.scheduler.now()),
        (err: unknown) => {
          const e = toProtocolError(err);
          const wait = WAIT_FOR_IMAGE.has(e.name);
          // Wall-clock time: a rate limit on retries, not a rule of the protocol.
          if (!wait) this.retryAfter.set(p, Date.now() + (this.o.fetchBackoffMs ?? 1_000));
          p.isrRefused(proposal, wait);
          logger.info(
            `the controller refused the ISR [${newIsr.join(',')}] for ${p.name}: ${e.name} ${e.message}` +
              (wait ? '; waiting for the next image' : ''),
          );
        },
      );
  }

  private backingOff(p: Partition): boolean {
    const until = this.retryAfter.get(p);
    return until !== undefined && Date.now() < until;
  }
  // #endregion isr

  // #region acks
  /**
   * acks=all for a write already appended as leader: resolves once the HW
   * reaches `requiredOffset`; rejects with NOT_LEADER_OR_FOLLOWER,
   * NOT_ENOUGH_REPLICAS_AFTER_APPEND or REQUEST_TIMED_OUT (delayed-acks.ts).
   */
  awaitReplication(p: Partition, requiredOffset: number, timeoutMs: number): Promise<void> {
    const wait = { partition: p, requiredOffset, leaderEpoch: p.leaderEpoch };
    return awaitOneAck(wait, timeoutMs, this.o.scheduler, (stop) => this.onClose(stop));
  }

  /** The scheduler acks=all waits time out on. */
  get scheduler(): Scheduler {
    return this.o.scheduler;
  }

  /** Calls `stop` when the manager closes; returns the unsubscribe. */
  onClose(stop: () => void): () => void {
    this.stops.add(stop);
    return () => this.stops.delete(stop);
  }
  // #endregion acks

  /** Stops the ISR check, answers the waiting acks=all writes, and closes every fetcher. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cancelIsrCheck?.();
    for (const stop of [...this.stops]) stop();
    await this.queue;
    const fetchers = [...this.fetchers.values()];
    this.fetchers.clear();
    await Promise.all(fetchers.map((f) => f.close()));
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
