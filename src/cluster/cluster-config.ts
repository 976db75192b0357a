/**
 * The static description of a cluster: which brokers exist and where they
 * listen, as given on the command line,
 *
 *   samsa broker --id 2 --cluster 1@127.0.0.1:9101,2@127.0.0.1:9102,3@127.0.0.1:9103
 *
 * Every broker is started with the same `--cluster` string; it stands where
 * Kafka's `controller.quorum.voters` (KRaft) or the ZooKeeper connect string
 * stands. Membership is fixed: a broker not in the list cannot join.
 *
 * Invariant of a ClusterConfig: ids are distinct non-negative int32s, sorted;
 * `host:port` pairs are distinct; the broker's own id is among them; the
 * session timeout is at least twice the heartbeat interval.
 */
import { ClusterError, ClusterErrorCode } from './errors.js';

export interface BrokerEndpoint {
  readonly id: number;
  readonly host: string;
  readonly port: number;
}

export interface ClusterConfig {
  /** This broker's id (`--id`, Kafka's `node.id`). */
  readonly brokerId: number;
  /** Every broker of the cluster, this one included, by ascending id. */
  readonly brokers: readonly BrokerEndpoint[];
  /** How often a broker sends a heartbeat to every other broker. */
  readonly heartbeatIntervalMs: number;
  /** How long without a heartbeat before a peer counts as dead (fenced). */
  readonly sessionTimeoutMs: number;
}

/**
 * Kafka's KRaft defaults, kept so that a reader can compare: a heartbeat every
 * 2 s, a peer dead after 9 s of silence. The ratio is what matters: four
 * heartbeats fit in one session, so three lost in a row (a long GC pause, a
 * busy event loop, a slow fsync on the thread pool) do not fence a broker.
 * On one machine nothing is lost in the network, so tests and demos may set
 * both much lower (say 100 and 500) for failovers in half a second.
 */
export const DEFAULT_BROKER_HEARTBEAT_INTERVAL_MS = 2_000;
export const DEFAULT_BROKER_SESSION_TIMEOUT_MS = 9_000;

const MAX_BROKER_ID = 2 ** 31 - 1; // an int32, as in Kafka

export interface ClusterConfigInput {
  brokerId: number;
  /** The `--cluster` string: `id@host:port` entries separated by commas. */
  cluster: string;
  'broker.heartbeat.interval.ms'?: number;
  'broker.session.timeout.ms'?: number;
}

// #region parse
/**
 * Parses `id@host:port,id@host:port,...`. A host may be a name, an IPv4
 * address or an IPv6 address in brackets (`3@[::1]:9103`). Spaces around
 * entries are ignored. Throws CLUSTER_INVALID_CONFIG naming the bad entry.
 */
export function parseClusterBrokers(spec: string): BrokerEndpoint[] {
  if (typeof spec !== 'string') throw new TypeError('the cluster spec must be a string');
  const entries = spec.split(',').map((e) => e.trim());
  if (entries.length === 1 && entries[0] === '') invalid('the cluster list is empty');
  const brokers = entries.map(parseEntry);
  const ids = new Set<number>();
  const addresses = new Set<string>();
  for (const b of brokers) {
    if (ids.has(b.id)) invalid(`broker id ${b.id} appears twice`);
    ids.add(b.id);
    const address = `${b.host.toLowerCase()}:${b.port}`;
    if (addresses.has(address)) invalid(`address ${address} appears twice`);
    addresses.add(address);
  }
  return brokers.sort((a, b) => a.id - b.id);
}

function parseEntry(entry: string): BrokerEndpoint {
  const match = /^(\d+)@(\[[0-9A-Fa-f:.]+\]|[^@:[\]\s]+):(\d+)$/.exec(entry);
  if (match === null) invalid(`"${entry}" is not id@host:port`);
  const [, idText, hostText, portText] = match as unknown as [string, string, string, string];
  const id = Number(idText);
  if (!Number.isSafeInteger(id) || id > MAX_BROKER_ID) invalid(`broker id ${idText} is too large`);
  const port = Number(portText);
  if (port < 1 || port > 65_535) invalid(`port ${portText} of broker ${id} is out of range`);
  const host = hostText.startsWith('[') ? hostText.slice(1, -1) : hostText;
  return { id, host, port };
}
// #endregion parse

/** Builds and checks a ClusterConfig. Throws CLUSTER_INVALID_CONFIG. */
export function clusterConfig(input: ClusterConfigInput): ClusterConfig {
  const brokers = parseClusterBrokers(input.cluster);
  const { brokerId } = input;
  if (!Number.isSafeInteger(brokerId) || brokerId < 0) invalid(`broker id ${brokerId} is invalid`);
  if (!brokers.some((b) => b.id === brokerId)) {
    invalid(`broker ${brokerId} is not in the cluster list ${input.cluster}`);
  }
  const heartbeatIntervalMs =
    input['broker.heartbeat.interval.ms'] ?? DEFAULT_BROKER_HEARTBEAT_INTERVAL_MS;
  const sessionTimeoutMs = input['broker.session.timeout.ms'] ?? DEFAULT_BROKER_SESSION_TIMEOUT_MS;
  if (!Number.isSafeInteger(heartbeatIntervalMs) || heartbeatIntervalMs < 1) {
    invalid(`broker.heartbeat.interval.ms must be a positive integer, not ${heartbeatIntervalMs}`);
  }
  // Kafka does not insist, but a session shorter than two heartbeats fences a
  // healthy broker whenever a single heartbeat is late.
  if (!Number.isSafeInteger(sessionTimeoutMs) || sessionTimeoutMs < 2 * heartbeatIntervalMs) {
    invalid(
      `broker.session.timeout.ms (${sessionTimeoutMs}) must be at least twice ` +
        `broker.heartbeat.interval.ms (${heartbeatIntervalMs})`,
    );
  }
  return { brokerId, brokers, heartbeatIntervalMs, sessionTimeoutMs };
}

/** The ids of the other brokers, ascending. */
export function peerIds(config: ClusterConfig): number[] {
  return config.brokers.map((b) => b.id).filter((id) => id !== config.brokerId);
}

/** Formats brokers back into a `--cluster` string (IPv6 hosts in brackets). */
export function formatClusterBrokers(brokers: readonly BrokerEndpoint[]): string {
  return brokers
    .map((b) => `${b.id}@${b.host.includes(':') ? `[${b.host}]` : b.host}:${b.port}`)
    .join(',');
}

function invalid(message: string): never {
  throw new ClusterError(ClusterErrorCode.INVALID_CONFIG, `invalid cluster config: ${message}`);
}
