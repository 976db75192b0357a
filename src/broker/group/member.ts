/**
 * One member of a group, as the coordinator sees it: who it is, its timeouts,
 * the protocols (assignors) it supports with their metadata, its assignment,
 * and the request of it that is parked: a JoinGroup waiting for the join
 * phase to end, or a SyncGroup waiting for the leader's assignment.
 *
 * Invariant: at most one parked JoinGroup and one parked SyncGroup; parking a
 * second answers the first (see `group.ts`).
 */
import type { JoinGroupResponse, SyncGroupResponse } from '../../protocol/apis/index.js';

export interface MemberProtocol {
  name: string;
  metadata: Buffer;
}

export interface MemberInit {
  memberId: string;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: readonly MemberProtocol[];
}

export const EMPTY_BYTES = Buffer.alloc(0);

export class GroupMember {
  readonly memberId: string;
  readonly clientId: string;
  readonly clientHost: string;
  readonly protocolType: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocols: readonly MemberProtocol[];
  assignment: Buffer = EMPTY_BYTES;
  /** Joined during the current join phase for the first time (expires on the new-member timeout). */
  isNew = false;
  awaitingJoin: ((response: JoinGroupResponse) => void) | undefined;
  awaitingSync: ((response: SyncGroupResponse) => void) | undefined;
  /** Cancels the pending session (heartbeat) expiry. */
  cancelHeartbeat: (() => void) | undefined;

  constructor(init: MemberInit) {
    this.memberId = init.memberId;
    this.clientId = init.clientId;
    this.clientHost = init.clientHost;
    this.sessionTimeoutMs = init.sessionTimeoutMs;
    this.rebalanceTimeoutMs = init.rebalanceTimeoutMs;
    this.protocolType = init.protocolType;
    this.protocols = init.protocols;
  }

  get isAwaitingJoin(): boolean {
    return this.awaitingJoin !== undefined;
  }

  get isAwaitingSync(): boolean {
    return this.awaitingSync !== undefined;
  }

  /** Kafka's rule: a member that is new, or not waiting in a rebalance, must heartbeat in time. */
  get hasSatisfiedHeartbeat(): boolean {
    return !this.isNew && (this.isAwaitingJoin || this.isAwaitingSync);
  }

  /** The metadata it sent for `protocol` (for a consumer: its subscription). */
  metadata(protocol: string | undefined): Buffer {
    return this.protocols.find((p) => p.name === protocol)?.metadata ?? EMPTY_BYTES;
  }

  /** Same protocols, in the same order, with the same metadata bytes. */
  matches(protocols: readonly MemberProtocol[]): boolean {
    return (
      protocols.length === this.protocols.length &&
      protocols.every(
        (p, i) =>
          p.name === this.protocols[i]!.name && p.metadata.equals(this.protocols[i]!.metadata),
      )
    );
  }

  /** Its most preferred protocol among `candidates`. */
  vote(candidates: ReadonlySet<string>): string | undefined {
    return this.protocols.find((p) => candidates.has(p.name))?.name;
  }

  completeJoin(response: JoinGroupResponse): boolean {
    const resolve = this.awaitingJoin;
    if (resolve === undefined) return false;
    this.awaitingJoin = undefined;
    resolve(response);
    return true;
  }

  completeSync(response: SyncGroupResponse): boolean {
    const resolve = this.awaitingSync;
    if (resolve === undefined) return false;
    this.awaitingSync = undefined;
    resolve(response);
    return true;
  }
}
