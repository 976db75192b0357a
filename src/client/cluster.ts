/**
 * What a client knows of the cluster: the brokers, the topics' partitions and
 * their leaders (from Metadata), and one pipelined connection per broker.
 * Shared by the producer, the consumer and the admin client of one `Client`
 * options set; each of them owns one.
 *
 * Invariant: a topic's cached metadata is either fresh (younger than
 * `metadata.max.age.ms` and not marked stale by an error) or refetched before
 * use; at most one Metadata request per topic is in flight.
 */
import {
  ErrorCode,
  type MetadataResponse,
  ProtocolError,
  type ApiName,
  type RequestBody,
  type ResponseBody,
} from '../protocol/index.js';
import {
  type BrokerAddress,
  DEFAULT_BROKER,
  formatAddress,
  parseBrokerAddress,
} from './address.js';
import { Connection, type ConnectionOptions, type RequestOptions } from './connection.js';
import { ClientError, ClientErrorCode } from './errors.js';

export interface ClientOptions extends ConnectionOptions {
  /** Bootstrap brokers, `host:port` (default 127.0.0.1:9092). */
  brokers?: string | readonly string[];
  /** `metadata.max.age.ms`: refetch a topic's metadata at least this often. Default 300000. */
  metadataMaxAgeMs?: number;
}

export interface PartitionMetadata {
  partition: number;
  /** The leader's node id; -1 when there is none. */
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  offlineReplicas: number[];
}

export interface TopicMetadata {
  name: string;
  isInternal: boolean;
  partitions: PartitionMetadata[];
}

interface CachedTopic {
  topic: TopicMetadata;
  fetchedAt: number;
  stale: boolean;
}

export class Cluster {
  private readonly bootstrap: BrokerAddress[];
  private readonly brokers = new Map<number, BrokerAddress>();
  private readonly connections = new Map<string, Connection>();
  private readonly topics = new Map<string, CachedTopic>();
  private readonly refreshing = new Map<string, Promise<TopicMetadata>>();
  private readonly maxAgeMs: number;
  private closed = false;

  constructor(private readonly options: ClientOptions = {}) {
    const list = options.brokers ?? DEFAULT_BROKER;
    this.bootstrap = (typeof list === 'string' ? list.split(',') : [...list]).map((b) =>
      parseBrokerAddress(b),
    );
    if (this.bootstrap.length === 0) throw new TypeError('brokers must name at least one broker');
    this.maxAgeMs = options.metadataMaxAgeMs ?? 300_000;
  }

  /** The pooled connection to an address (opened on its first request). */
  connectionTo(address: BrokerAddress, purpose = ''): Connection {
    if (this.closed) throw new ClientError(ClientErrorCode.CLOSED, 'the client is closed');
    const key = purpose === '' ? formatAddress(address) : `${purpose}:${formatAddress(address)}`;
    let connection = this.connections.get(key);
    if (connection === undefined) {
      connection = new Connection(address, this.options);
      this.connections.set(key, connection);
    }
    return connection;
  }

  /**
   * A connection of its own to a group coordinator, apart from the one the
   * fetches use (as Kafka's clients do): the broker answers a connection's
   * requests in order, so a JoinGroup held for a rebalance must not hold up
   * fetches, nor a long-polling fetch the heartbeats.
   */
  coordinatorConnection(address: BrokerAddress): Connection {
    return this.connectionTo(address, 'coordinator');
  }

  /** The connection to a broker by node id, as Metadata named it. */
  connectionToNode(nodeId: number): Connection {
    const address = this.brokers.get(nodeId);
    if (address === undefined)
      throw new ProtocolError('LEADER_NOT_AVAILABLE', `broker ${nodeId} is not in the metadata`);
    return this.connectionTo(address);
  }

  /** Sends a request to any broker: the known ones, then the bootstrap list, moving on after network errors. */
  async requestAny<A extends ApiName>(
    api: A,
    body: RequestBody<A>,
    options?: RequestOptions & { noResponse?: false },
  ): Promise<ResponseBody<A>> {
    const addresses = [...this.brokers.values(), ...this.bootstrap];
    let last: unknown;
    for (const address of addresses) {
      try {
        return await this.connectionTo(address).request(api, body, options);
      } catch (error) {
        if (!(error instanceof ProtocolError && error.name === 'NETWORK_EXCEPTION')) throw error;
        last = error;
      }
    }
    throw last;
  }

  // #region metadata
  /** Sends Metadata for `topics` (null: all), and remembers the brokers and every topic in the answer. */
  async fetchMetadata(
    topics: readonly string[] | null,
    allowAutoTopicCreation = false,
  ): Promise<MetadataResponse> {
    const body = {
      topics: topics === null ? null : topics.map((name) => ({ name })),
      allowAutoTopicCreation,
    };
    const response = await this.requestAny('Metadata', body);
    for (const broker of response.brokers)
      this.brokers.set(broker.nodeId, { host: broker.host, port: broker.port });
    const now = Date.now();
    for (const t of response.topics) {
      if (t.errorCode !== ErrorCode.NONE) {
        this.topics.delete(t.name);
        continue;
      }
      this.topics.set(t.name, { topic: toTopicMetadata(t), fetchedAt: now, stale: false });
    }
    return response;
  }

  /** A topic's partitions and leaders, from the cache when fresh; throws the topic's error (UNKNOWN_TOPIC_OR_PARTITION, ...). */
  topic(name: string, autoCreate = false): TopicMetadata | Promise<TopicMetadata> {
    const cached = this.topics.get(name);
    if (cached !== undefined && !cached.stale && Date.now() - cached.fetchedAt < this.maxAgeMs)
      return cached.topic;
    let pending = this.refreshing.get(name);
    if (pending === undefined) {
      pending = this.refreshTopic(name, autoCreate).finally(() => this.refreshing.delete(name));
      this.refreshing.set(name, pending);
    }
    return pending;
  }

  /** After a leadership or network error: the next `topic()` refetches. */
  markStale(name: string): void {
    const cached = this.topics.get(name);
    if (cached !== undefined) cached.stale = true;
  }

  private async refreshTopic(name: string, autoCreate: boolean): Promise<TopicMetadata> {
    const response = await this.fetchMetadata([name], autoCreate);
    const t = response.topics.find((x) => x.name === name);
    if (t === undefined)
      throw new ProtocolError('UNKNOWN_TOPIC_OR_PARTITION', `no metadata for topic '${name}'`);
    if (t.errorCode !== ErrorCode.NONE)
      throw ProtocolError.fromCode(t.errorCode, `topic '${name}'`);
    return this.topics.get(name)!.topic;
  }
  // #endregion metadata

  /** The connection to the leader of a partition; LEADER_NOT_AVAILABLE or UNKNOWN_TOPIC_OR_PARTITION when there is none. */
  async leaderFor(topic: string, partition: number): Promise<Connection> {
    const metadata = await this.topic(topic);
    const p = metadata.partitions[partition];
    if (p === undefined || p.partition !== partition)
      throw new ProtocolError(
        'UNKNOWN_TOPIC_OR_PARTITION',
        `topic '${topic}' has no partition ${partition}`,
      );
    if (p.leader < 0)
      throw new ProtocolError('LEADER_NOT_AVAILABLE', `${topic}-${partition} has no leader`);
    return this.connectionToNode(p.leader);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.connections.values()].map((c) => c.close()));
    this.connections.clear();
  }
}

function toTopicMetadata(t: MetadataResponse['topics'][number]): TopicMetadata {
  // Every partition stays listed (index = partition number); one in error has no leader.
  const partitions = t.partitions
    .map((p) => ({
      partition: p.partitionIndex,
      leader: p.errorCode === ErrorCode.NONE ? p.leaderId : -1,
      leaderEpoch: p.leaderEpoch,
      replicas: p.replicaNodes,
      isr: p.isrNodes,
      offlineReplicas: p.offlineReplicas,
    }))
    .sort((a, b) => a.partition - b.partition);
  return { name: t.name, isInternal: t.isInternal, partitions };
}
