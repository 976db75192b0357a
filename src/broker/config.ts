/**
 * Broker configuration, with Kafka's names and (mostly) Kafka's defaults.
 *
 * Two kinds of key: the broker's own (`num.partitions`, `auto.create.topics.enable`,
 * the schedule of the background passes, socket limits), and the broker-wide
 * defaults of the topic configs, under the broker-level names Kafka gives them
 * (`log.retention.ms` is the default of a topic's `retention.ms`). A topic's
 * effective config is its own overrides over these defaults over the log's.
 */
import {
  DEFAULT_BROKER_HEARTBEAT_INTERVAL_MS,
  DEFAULT_BROKER_SESSION_TIMEOUT_MS,
} from '../cluster/cluster-config.js';
import { InvalidConfigError, type LogConfig } from '../log/index.js';

export interface BrokerSettings {
  /** This broker's id; must match the data dir's meta.properties once written. */
  'broker.id': number;
  /** Partitions of a topic created without a count (auto-created, or numPartitions -1). */
  'num.partitions': number;
  /** Create a topic on first use (Produce, or Metadata with allowAutoTopicCreation). */
  'auto.create.topics.enable': boolean;
  /** How often retention runs over every partition. Kafka: 5 minutes. */
  'log.retention.check.interval.ms': number;
  /** How long the cleaner sleeps between passes over the compacted partitions. Kafka: 15 s. */
  'log.cleaner.backoff.ms': number;
  /** Whether the cleaner runs at all. */
  'log.cleaner.enable': boolean;
  /** The largest request frame body. Kafka: 100 MiB. */
  'socket.request.max.bytes': number;
  /** Close a connection idle this long (no request in flight). Kafka: 10 minutes. */
  'connections.max.idle.ms': number;
  /** Requests one connection may have in flight before the broker stops reading it. */
  'queued.max.requests': number;
  /**
   * Bytes of requests read and not yet handled, across all connections, past
   * which the broker stops reading sockets until some are handled; -1 (or 0):
   * no bound. Kafka: -1; samsa: 256 MiB, see docs/protocol.md (Limits).
   */
  'queued.max.request.bytes': number;
  /** How often a broker of a `--cluster` heartbeats each peer. Kafka (KRaft): 2 s. */
  'broker.heartbeat.interval.ms': number;
  /** How long a peer may stay silent before it counts as dead. Kafka (KRaft): 9 s. */
  'broker.session.timeout.ms': number;
  /**
   * In a cluster: how long a request that goes to the controller (CreateTopics,
   * DeleteTopics, AlterConfigs, AlterPartition) and the controller's pushes
   * may take, retries included. Kafka: 30 s.
   */
  'request.timeout.ms': number;
  /** The replication factor of a topic created without one (replicationFactor -1, auto-creation). Kafka: 1. */
  'default.replication.factor': number;
  /** The default of the topic config min.insync.replicas: ISR members an acks=all produce needs. Kafka: 1. */
  'min.insync.replicas': number;
  /** A follower not caught up for this long leaves the ISR (its leader asks the controller). Kafka: 30 s. */
  'replica.lag.time.max.ms': number;
  /** The replication factor of `__consumer_offsets`, capped at the number of brokers. Kafka: 3. */
  'offsets.topic.replication.factor': number;
  /** The shortest session timeout a group member may ask for. Kafka: 6 s. */
  'group.min.session.timeout.ms': number;
  /** The longest session timeout a group member may ask for. Kafka: 30 minutes. */
  'group.max.session.timeout.ms': number;
  /** How long an empty group's first rebalance waits for more members (extended as they come). Kafka: 3 s. */
  'group.initial.rebalance.delay.ms': number;
  /** The most members a group may have. Kafka: Integer.MAX_VALUE. */
  'group.max.size': number;
  /** Partitions of `__consumer_offsets` when it is created. Kafka: 50. */
  'offsets.topic.num.partitions': number;
  /** segment.bytes of `__consumer_offsets`. Kafka: 100 MiB. */
  'offsets.topic.segment.bytes': number;
  /** How long an empty group's committed offsets are kept. Kafka: 7 days. */
  'offsets.retention.ms': number;
  /** How often expired offsets are looked for. Kafka: 10 minutes. */
  'offsets.retention.check.interval.ms': number;
  /** The longest metadata string a commit may carry. Kafka: 4096. */
  'offset.metadata.max.bytes': number;
}

export const DEFAULT_BROKER_SETTINGS: Readonly<BrokerSettings> = Object.freeze({
  'broker.id': 0,
  'num.partitions': 1,
  'auto.create.topics.enable': true,
  'log.retention.check.interval.ms': 300_000,
  'log.cleaner.backoff.ms': 15_000,
  'log.cleaner.enable': true,
  'socket.request.max.bytes': 100 * 1024 * 1024,
  'connections.max.idle.ms': 600_000,
  'queued.max.requests': 500,
  'queued.max.request.bytes': 256 * 1024 * 1024,
  'broker.heartbeat.interval.ms': DEFAULT_BROKER_HEARTBEAT_INTERVAL_MS,
  'broker.session.timeout.ms': DEFAULT_BROKER_SESSION_TIMEOUT_MS,
  'request.timeout.ms': 30_000,
  'default.replication.factor': 1,
  'min.insync.replicas': 1,
  'replica.lag.time.max.ms': 30_000,
  'offsets.topic.replication.factor': 3,
  'group.min.session.timeout.ms': 6_000,
  'group.max.session.timeout.ms': 1_800_000,
  'group.initial.rebalance.delay.ms': 3_000,
  'group.max.size': 2_147_483_647,
  'offsets.topic.num.partitions': 50,
  'offsets.topic.segment.bytes': 100 * 1024 * 1024,
  'offsets.retention.ms': 7 * 24 * 60 * 60 * 1000,
  'offsets.retention.check.interval.ms': 600_000,
  'offset.metadata.max.bytes': 4096,
});

/** Kafka's broker-level name for the default of each topic config. */
export const TOPIC_DEFAULT_NAMES: { readonly [K in keyof LogConfig]: string } = {
  'segment.bytes': 'log.segment.bytes',
  'segment.ms': 'log.roll.ms',
  'index.interval.bytes': 'log.index.interval.bytes',
  'segment.index.bytes': 'log.index.size.max.bytes',
  'max.message.bytes': 'message.max.bytes',
  'flush.messages': 'log.flush.interval.messages',
  'flush.ms': 'log.flush.interval.ms',
  'retention.ms': 'log.retention.ms',
  'retention.bytes': 'log.retention.bytes',
  'cleanup.policy': 'log.cleanup.policy',
  'delete.retention.ms': 'log.cleaner.delete.retention.ms',
  'min.cleanable.dirty.ratio': 'log.cleaner.min.cleanable.ratio',
  'min.compaction.lag.ms': 'log.cleaner.min.compaction.lag.ms',
  'file.delete.delay.ms': 'log.segment.delete.delay.ms',
};

const TOPIC_KEY_BY_BROKER_NAME = new Map(
  Object.entries(TOPIC_DEFAULT_NAMES).map(([topicKey, brokerName]) => [brokerName, topicKey]),
);

/** What a user passes: Kafka's names, values as strings (as in a properties file), numbers or booleans. */
export type BrokerConfigInput = Record<string, string | number | boolean>;

export interface BrokerConfig {
  settings: BrokerSettings;
  /** Broker-wide defaults of topic configs, by topic key, as given (strings or numbers). */
  topicDefaults: Partial<Record<keyof LogConfig, string | number>>;
  /** The keys the user set, by their broker-level names (DescribeConfigs' isDefault). */
  explicit: ReadonlySet<string>;
}

/** Checks every key and value; throws `InvalidConfigError` naming the first bad one. */
export function resolveBrokerConfig(input: BrokerConfigInput = {}): BrokerConfig {
  if (input === null || typeof input !== 'object') throw new TypeError('config must be an object');
  const settings: BrokerSettings = { ...DEFAULT_BROKER_SETTINGS };
  const topicDefaults: BrokerConfig['topicDefaults'] = {};
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined) continue;
    const topicKey = TOPIC_KEY_BY_BROKER_NAME.get(key) as keyof LogConfig | undefined;
    if (topicKey !== undefined) {
      topicDefaults[topicKey] = typeof value === 'boolean' ? String(value) : value;
    } else if (Object.hasOwn(DEFAULT_BROKER_SETTINGS, key)) {
      setSetting(settings, key as keyof BrokerSettings, value);
    } else {
      throw new InvalidConfigError(`unknown broker config key '${key}'`);
    }
  }
  if (settings['group.min.session.timeout.ms'] > settings['group.max.session.timeout.ms'])
    throw new InvalidConfigError(
      `'group.min.session.timeout.ms' (${settings['group.min.session.timeout.ms']}) must not exceed ` +
        `'group.max.session.timeout.ms' (${settings['group.max.session.timeout.ms']})`,
    );
  return { settings, topicDefaults, explicit: new Set(Object.keys(input)) };
}

const MINIMUMS: Partial<Record<keyof BrokerSettings, number>> = {
  'num.partitions': 1,
  'log.retention.check.interval.ms': 1,
  'log.cleaner.backoff.ms': 1,
  'queued.max.requests': 1,
  'queued.max.request.bytes': -1,
  'broker.heartbeat.interval.ms': 1,
  'broker.session.timeout.ms': 1,
  'request.timeout.ms': 1,
  'default.replication.factor': 1,
  'min.insync.replicas': 1,
  'replica.lag.time.max.ms': 1,
  'offsets.topic.replication.factor': 1,
  'connections.max.idle.ms': 1,
  'group.max.size': 1,
  'offsets.topic.num.partitions': 1,
  'offsets.topic.segment.bytes': 14,
  'offsets.retention.ms': 1,
  'offsets.retention.check.interval.ms': 1,
};

function setSetting(settings: BrokerSettings, key: keyof BrokerSettings, value: unknown): void {
  if (typeof DEFAULT_BROKER_SETTINGS[key] === 'boolean') {
    if (value === true || value === 'true') (settings[key] as boolean) = true;
    else if (value === false || value === 'false') (settings[key] as boolean) = false;
    else throw new InvalidConfigError(`'${key}' must be true or false, got ${String(value)}`);
    return;
  }
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n))
    throw new InvalidConfigError(`'${key}' must be an integer, got ${JSON.stringify(value)}`);
  const min = MINIMUMS[key] ?? 0;
  if (n < min) throw new InvalidConfigError(`'${key}' must be at least ${min}, got ${n}`);
  if (key === 'socket.request.max.bytes' && n > 0xffffffff)
    throw new InvalidConfigError(`'${key}' must fit a u32 frame length`);
  (settings[key] as number) = n;
}

/** Every broker config as DescribeConfigs lists it: name, value as text, whether user-set. */
export function describeBrokerConfig(
  config: BrokerConfig,
  logDefaults: LogConfig,
): { name: string; value: string; isDefault: boolean }[] {
  const out: { name: string; value: string; isDefault: boolean }[] = [];
  for (const [name, value] of Object.entries(config.settings))
    out.push({ name, value: String(value), isDefault: !config.explicit.has(name) });
  for (const [topicKey, name] of Object.entries(TOPIC_DEFAULT_NAMES)) {
    const value = logDefaults[topicKey as keyof LogConfig];
    out.push({ name, value: String(value), isDefault: !config.explicit.has(name) });
  }
  return out;
}
