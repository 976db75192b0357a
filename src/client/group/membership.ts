/**
 * A member's side of a group (Kafka's AbstractCoordinator): find the
 * coordinator, join and sync (the leader computes the assignment), heartbeat
 * on a timer of its own, leave. The consumer drives it from its iterator;
 * the heartbeat timer keeps running while the application processes records.
 *
 * Invariants: `generation` is the one the coordinator last handed out, or
 * NO_GENERATION (memberId may survive a reset: ILLEGAL_GENERATION keeps it,
 * UNKNOWN_MEMBER_ID does not); heartbeats go out only in COMPLETING_REBALANCE
 * and STABLE, one at a time, and an answer about an older generation is
 * ignored. Not safe for two concurrent `joinGroup` calls (the consumer has
 * one iterator).
 */
import type { Logger } from '../../log/index.js';
import {
  ProtocolError,
  type ApiName,
  type RequestBody,
  type ResponseBody,
} from '../../protocol/index.js';
import type { Cluster } from '../cluster.js';
import type { Connection } from '../connection.js';
import { ClientError, ClientErrorCode, isRetriable, sleep } from '../errors.js';

export interface MembershipConfig {
  groupId: string;
  clientId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  heartbeatIntervalMs: number;
  maxPollIntervalMs: number;
  retryBackoffMs: number;
  requestTimeoutMs: number;
  logger: Logger;
}

export interface Generation {
  generationId: number;
  memberId: string;
  /** The assignor the group chose. */
  protocolName: string | null;
}

export const NO_GENERATION: Generation = Object.freeze({
  generationId: -1,
  memberId: '',
  protocolName: null,
});

export type MemberState = 'UNJOINED' | 'PREPARING_REBALANCE' | 'COMPLETING_REBALANCE' | 'STABLE';

export interface GroupMember {
  memberId: string;
  metadata: Buffer;
}

/** The leader's job: every member's assignment bytes, from the members' metadata. */
export type LeaderAssign = (
  protocolName: string,
  members: GroupMember[],
) => Promise<{ memberId: string; assignment: Buffer }[]>;

const COORDINATOR_ERRORS = new Set<string>(['COORDINATOR_NOT_AVAILABLE', 'NOT_COORDINATOR']);

export class GroupMembership {
  generation: Generation = NO_GENERATION;
  state: MemberState = 'UNJOINED';
  /** Set by a heartbeat's answer, a fence, a poll timeout or a new subscription; cleared by a completed join. */
  rejoinNeeded = true;
  /** The heartbeat timer left the group: the application did not ask for a record within max.poll.interval.ms. */
  pollTimeoutExpired = false;
  private coordinator: Connection | undefined;
  private finding: Promise<Connection> | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private heartbeatInFlight = false;
  private lastPollAt = Date.now();
  private inPoll = false;
  private closed = false;

  constructor(
    private readonly cluster: Cluster,
    readonly config: MembershipConfig,
    /** Called when a rejoin becomes needed, so the consumer's iterator stops waiting for data. */
    private readonly onRejoinNeeded: () => void,
  ) {}

  // #region coordinator
  /** The coordinator's connection, found with FindCoordinator (retried with backoff while none is available). */
  coordinatorConnection(): Promise<Connection> {
    if (this.coordinator !== undefined && !this.coordinator.isClosed)
      return Promise.resolve(this.coordinator);
    this.finding ??= this.findCoordinator().finally(() => (this.finding = undefined));
    return this.finding;
  }

  private async findCoordinator(): Promise<Connection> {
    for (;;) {
      this.checkOpen();
      try {
        const found = await this.cluster.requestAny('FindCoordinator', {
          key: this.config.groupId,
          keyType: 0,
        });
        if (found.errorCode === 0) {
          const address = { host: found.host, port: found.port };
          return (this.coordinator = this.cluster.coordinatorConnection(address));
        }
        const error = ProtocolError.fromCode(
          found.errorCode,
          `FindCoordinator for group '${this.config.groupId}': ${found.errorMessage ?? 'no coordinator'}`,
        );
        if (!error.retriable) throw error;
      } catch (error) {
        if (!isRetriable(error)) throw error;
      }
      await sleep(this.config.retryBackoffMs);
    }
  }

  markCoordinatorUnknown(): void {
    this.coordinator = undefined;
  }

  /** One request to the coordinator; a network error or NOT_COORDINATOR-like answer forgets it. */
  async send<A extends ApiName>(
    api: A,
    body: RequestBody<A>,
    timeoutMs?: number,
  ): Promise<ResponseBody<A>> {
    const connection = await this.coordinatorConnection();
    try {
      return await connection.request(api, body, { timeoutMs });
    } catch (error) {
      if (isRetriable(error)) this.markCoordinatorUnknown();
      throw error;
    }
  }

  /** After an error code in a coordinator's answer: true if worth retrying (the coordinator is forgotten if it moved). */
  retriableCoordinatorError(error: ProtocolError): boolean {
    if (COORDINATOR_ERRORS.has(error.name)) this.markCoordinatorUnknown();
    return error.retriable;
  }
  // #endregion coordinator

  // #region join
  /**
   * Joins (or rejoins) the group and syncs: returns this member's assignment
   * bytes once the group is STABLE. Retries what may pass; throws what will not.
   */
  async joinGroup(
    protocols: { name: string; metadata: Buffer }[],
    assign: LeaderAssign,
  ): Promise<Buffer> {
    // The coordinator may hold both requests for up to the rebalance timeout.
    const timeoutMs = Math.max(this.config.requestTimeoutMs, this.config.rebalanceTimeoutMs + 5000);
    for (;;) {
      this.checkOpen();
      this.state = 'PREPARING_REBALANCE';
      const sent = this.generation;
      const joined = await this.attempt(() =>
        this.send(
          'JoinGroup',
          {
            groupId: this.config.groupId,
            sessionTimeoutMs: this.config.sessionTimeoutMs,
            rebalanceTimeoutMs: this.config.rebalanceTimeoutMs,
            memberId: sent.memberId,
            protocolType: 'consumer',
            protocols,
          },
          timeoutMs,
        ),
      );
      if (joined === undefined) continue;
      const joinError =
        joined.errorCode === 0 ? undefined : ProtocolError.fromCode(joined.errorCode);
      if (joinError?.name === 'MEMBER_ID_REQUIRED') {
        this.generation = { ...NO_GENERATION, memberId: joined.memberId };
        continue;
      }
      if (joinError?.name === 'UNKNOWN_MEMBER_ID') {
        this.resetGeneration(true);
        continue;
      }
      if (joinError !== undefined) {
        if (
          joinError.name !== 'REBALANCE_IN_PROGRESS' &&
          !this.retriableCoordinatorError(joinError)
        )
          throw this.fatal('JoinGroup', joinError);
        await sleep(this.config.retryBackoffMs);
        continue;
      }
      const generation = {
        generationId: joined.generationId,
        memberId: joined.memberId,
        protocolName: joined.protocolName,
      };
      this.generation = generation;
      this.state = 'COMPLETING_REBALANCE';
      this.startHeartbeats();
      const assignments =
        joined.leader === joined.memberId
          ? await assign(joined.protocolName ?? '', joined.members)
          : [];
      const synced = await this.attempt(() =>
        this.send(
          'SyncGroup',
          {
            groupId: this.config.groupId,
            generationId: generation.generationId,
            memberId: generation.memberId,
            protocolType: 'consumer',
            protocolName: generation.protocolName,
            assignments,
          },
          timeoutMs,
        ),
      );
      if (synced === undefined) continue;
      if (synced.errorCode === 0 && this.generation === generation) {
        this.state = 'STABLE';
        this.rejoinNeeded = false;
        this.pollTimeoutExpired = false;
        return synced.assignment;
      }
      const syncError = ProtocolError.fromCode(synced.errorCode);
      if (syncError.name === 'UNKNOWN_MEMBER_ID' || syncError.name === 'ILLEGAL_GENERATION')
        this.resetGeneration(syncError.name === 'UNKNOWN_MEMBER_ID');
      else if (syncError.name === 'REBALANCE_IN_PROGRESS' || synced.errorCode === 0) continue;
      else if (this.retriableCoordinatorError(syncError)) await sleep(this.config.retryBackoffMs);
      else throw this.fatal('SyncGroup', syncError);
    }
  }

  /** Runs one request; a retriable failure (network, timeout) is waited out and answered `undefined`. */
  private async attempt<T>(request: () => Promise<T>): Promise<T | undefined> {
    try {
      return await request();
    } catch (error) {
      if (!isRetriable(error)) throw error;
      await sleep(this.config.retryBackoffMs);
      return undefined;
    }
  }

  private fatal(api: string, error: ProtocolError): ProtocolError {
    return new ProtocolError(
      error,
      `${api} for group '${this.config.groupId}' failed: ${error.name} (${error.message})`,
    );
  }
  // #endregion join

  // #region heartbeat
  /** The iterator asked for a record: the application is polling. */
  pollStarted(): void {
    this.inPoll = true;
    this.lastPollAt = Date.now();
  }

  /** The iterator handed a record to the application: max.poll.interval.ms starts now. */
  pollEnded(): void {
    this.inPoll = false;
    this.lastPollAt = Date.now();
  }

  private startHeartbeats(): void {
    if (this.heartbeatTimer !== undefined || this.closed) return;
    const tick = () => {
      this.heartbeatTimer = undefined;
      if (this.closed || this.state === 'UNJOINED' || this.state === 'PREPARING_REBALANCE') return;
      if (!this.inPoll && Date.now() - this.lastPollAt > this.config.maxPollIntervalMs) {
        void this.pollTimeoutExpiry();
        return;
      }
      void this.heartbeat();
      const untilPollTimeout = this.inPoll
        ? Infinity
        : this.lastPollAt + this.config.maxPollIntervalMs + 1 - Date.now();
      const delay = Math.max(0, Math.min(this.config.heartbeatIntervalMs, untilPollTimeout));
      this.heartbeatTimer = setTimeout(tick, delay).unref();
    };
    this.heartbeatTimer = setTimeout(tick, this.config.heartbeatIntervalMs).unref();
  }

  private stopHeartbeats(): void {
    clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  private async heartbeat(): Promise<void> {
    if (this.heartbeatInFlight) return;
    this.heartbeatInFlight = true;
    const sent = this.generation;
    try {
      const { errorCode } = await this.send('Heartbeat', {
        groupId: this.config.groupId,
        generationId: sent.generationId,
        memberId: sent.memberId,
      });
      if (errorCode === 0 || this.generation !== sent || this.closed) return;
      const error = ProtocolError.fromCode(errorCode);
      if (error.name === 'REBALANCE_IN_PROGRESS') {
        if (this.state === 'STABLE') this.requestRejoin('the group is rebalancing');
      } else if (error.name === 'ILLEGAL_GENERATION' || error.name === 'UNKNOWN_MEMBER_ID') {
        this.config.logger.info(
          `group '${this.config.groupId}': fenced (${error.name}) in generation ${sent.generationId}; rejoining`,
        );
        this.resetGeneration(error.name === 'UNKNOWN_MEMBER_ID');
        this.requestRejoin(error.name);
      } else if (!this.retriableCoordinatorError(error)) {
        this.config.logger.warn(`group '${this.config.groupId}': heartbeat failed: ${error.name}`);
      }
    } catch {
      // A network error or a closing client: the coordinator is forgotten (send), the next tick retries.
    } finally {
      this.heartbeatInFlight = false;
    }
  }

  /** Kafka's heartbeat thread, when the poll loop stalls: leave, so the group hands the partitions on. */
  private async pollTimeoutExpiry(): Promise<void> {
    this.config.logger.warn(
      `consumer of group '${this.config.groupId}' (member ${this.generation.memberId}): poll timeout has expired: ` +
        `the application did not ask for the next record within max.poll.interval.ms ` +
        `(maxPollIntervalMs = ${this.config.maxPollIntervalMs}), so the consumer leaves the group and ` +
        `its partitions go to other members. Raise maxPollIntervalMs, or spend less time per record.`,
    );
    this.pollTimeoutExpired = true;
    await this.leave('consumer poll timeout has expired');
    this.requestRejoin('poll timeout expired');
  }
  // #endregion heartbeat

  requestRejoin(reason: string): void {
    this.config.logger.debug(`group '${this.config.groupId}': rejoin needed: ${reason}`);
    this.rejoinNeeded = true;
    this.onRejoinNeeded();
  }

  /** Forgets the generation (and the member id when the coordinator no longer knows it). */
  resetGeneration(resetMemberId: boolean): void {
    this.generation = resetMemberId
      ? NO_GENERATION
      : { ...NO_GENERATION, memberId: this.generation.memberId };
    this.state = 'UNJOINED';
    this.rejoinNeeded = true;
    this.stopHeartbeats();
  }

  /** Whether the member holds a generation the coordinator handed out (commits may carry it). */
  hasGeneration(): boolean {
    return this.generation.generationId >= 0 && this.state !== 'UNJOINED';
  }

  /** LeaveGroup (best effort), then no generation and no member id. */
  async leave(reason: string): Promise<void> {
    const { memberId } = this.generation;
    const wasMember = memberId !== '' && this.state !== 'UNJOINED';
    this.resetGeneration(true);
    if (!wasMember || this.coordinator === undefined) return;
    this.config.logger.info(`group '${this.config.groupId}': member ${memberId} leaves: ${reason}`);
    try {
      await this.send('LeaveGroup', { groupId: this.config.groupId, members: [{ memberId }] });
    } catch {
      // The session timeout removes the member anyway.
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true; // a join in progress stops at its next step
    this.stopHeartbeats();
    await this.leave('the consumer is closing');
  }

  private checkOpen(): void {
    if (this.closed) throw new ClientError(ClientErrorCode.CLOSED, 'the consumer is closed');
  }
}
