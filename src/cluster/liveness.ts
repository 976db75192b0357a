/**
 * Who is alive, as one broker sees it. Every broker sends a heartbeat to
 * every other every `broker.heartbeat.interval.ms`, carrying the version of
 * its metadata image, and counts a peer dead once `broker.session.timeout.ms`
 * has passed without one (Kafka's BrokerHeartbeatManager does this at the
 * controller only; here every broker does it, because every broker must be
 * able to tell who the controller is).
 *
 * The controller is the live broker with the lowest id. During the first
 * session timeout after start, a peer never heard from is given the benefit
 * of the doubt for that question only: a broker started after its lower
 * peers waits to hear from them rather than claiming the role at once. It
 * never counts such a peer as live for anything else (leadership, ISR,
 * placement): those need a heartbeat.
 *
 * Time is a parameter of every call (the broker passes its clock's now), so
 * the tracker is a function of the calls made and tests never sleep. Not
 * for concurrent use; within one process every method runs to completion.
 */
import type { ClusterConfig } from './cluster-config.js';
import { type ImageVersion, compareImageVersions } from './metadata-image.js';

interface PeerState {
  lastHeartbeatMs: number | undefined;
  /** Whether the last transition reported was to live (by recordHeartbeat) or dead (by expire). */
  live: boolean;
  /** The image version the peer reported in its last heartbeat. */
  version: ImageVersion | undefined;
}

export class Liveness {
  readonly selfId: number;
  readonly sessionTimeoutMs: number;
  readonly startedMs: number;
  private readonly peers = new Map<number, PeerState>();

  constructor(config: ClusterConfig, startedMs: number) {
    this.selfId = config.brokerId;
    this.sessionTimeoutMs = config.sessionTimeoutMs;
    this.startedMs = startedMs;
    for (const b of config.brokers) {
      if (b.id !== this.selfId) {
        this.peers.set(b.id, { lastHeartbeatMs: undefined, live: false, version: undefined });
      }
    }
  }

  // #region heartbeat
  /**
   * A heartbeat from `brokerId` arrived at `nowMs`. Returns true when it
   * brings the peer back (first contact, or after it was counted dead): the
   * controller then unfences it. A heartbeat from an unknown id is ignored
   * (false): membership is static. An older `nowMs` never moves time back.
   */
  recordHeartbeat(brokerId: number, nowMs: number, version?: ImageVersion): boolean {
    const peer = this.peers.get(brokerId);
    if (peer === undefined) return false;
    const returned = !this.isLive(brokerId, nowMs);
    peer.lastHeartbeatMs = Math.max(peer.lastHeartbeatMs ?? nowMs, nowMs);
    peer.live = true;
    if (version !== undefined) peer.version = version;
    return returned;
  }

  /**
   * The peers whose session ran out since the last call, ascending; each is
   * reported once per death. The controller fences each of them.
   */
  expire(nowMs: number): number[] {
    const expired: number[] = [];
    for (const [id, peer] of this.peers) {
      if (peer.live && !this.heardRecently(peer, nowMs)) {
        peer.live = false;
        expired.push(id);
      }
    }
    return expired.sort((a, b) => a - b);
  }
  // #endregion heartbeat

  /** This broker is always live to itself; a peer is live within a session of its last heartbeat. */
  isLive(brokerId: number, nowMs: number): boolean {
    if (brokerId === this.selfId) return true;
    const peer = this.peers.get(brokerId);
    return peer !== undefined && peer.live && this.heardRecently(peer, nowMs);
  }

  /** Live brokers, this one included, ascending. */
  liveBrokers(nowMs: number): number[] {
    return [this.selfId, ...this.peers.keys()]
      .filter((id) => this.isLive(id, nowMs))
      .sort((a, b) => a - b);
  }

  // #region controller
  /**
   * Who should be the controller now, as this broker sees it: the lowest live
   * id, where during the start-up grace period a peer not heard from yet
   * counts too. Two brokers that see the same live set agree.
   */
  expectedControllerId(nowMs: number): number {
    const inGrace = nowMs - this.startedMs < this.sessionTimeoutMs;
    let lowest = this.selfId;
    for (const [id, peer] of this.peers) {
      const candidate =
        this.isLive(id, nowMs) || (inGrace && peer.lastHeartbeatMs === undefined && !peer.live);
      if (candidate && id < lowest) lowest = id;
    }
    return lowest;
  }

  /**
   * The live peer holding the newest image, if it is newer than `own`. A
   * broker about to become controller fetches that image first, so that it
   * starts from every change a live broker has seen.
   */
  fresherPeer(
    own: ImageVersion,
    nowMs: number,
  ): { brokerId: number; version: ImageVersion } | undefined {
    let best: { brokerId: number; version: ImageVersion } | undefined;
    for (const [id, peer] of this.peers) {
      if (peer.version === undefined || !this.isLive(id, nowMs)) continue;
      const against = best?.version ?? own;
      if (compareImageVersions(peer.version, against) > 0)
        best = { brokerId: id, version: peer.version };
    }
    return best;
  }

  /** The highest controller epoch any peer has reported, or own's: a new controller goes one above. */
  highestControllerEpochSeen(own: ImageVersion): number {
    let highest = own.controllerEpoch;
    for (const peer of this.peers.values()) {
      if (peer.version !== undefined) highest = Math.max(highest, peer.version.controllerEpoch);
    }
    return highest;
  }
  // #endregion controller

  private heardRecently(peer: PeerState, nowMs: number): boolean {
    return (
      peer.lastHeartbeatMs !== undefined && nowMs - peer.lastHeartbeatMs < this.sessionTimeoutMs
    );
  }
}

/** The controller among a set of live brokers: the lowest id (undefined when none is live). */
export function controllerAmong(liveIds: Iterable<number>): number | undefined {
  let lowest: number | undefined;
  for (const id of liveIds) if (lowest === undefined || id < lowest) lowest = id;
  return lowest;
}
