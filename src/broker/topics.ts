/**
 * The topics of one broker: which exist, their partitions (each a Log in
 * `<data-dir>/<topic>-<n>/`) and their config overrides, recorded in
 * topics.json.
 *
 * The partitions' high watermarks are checkpointed in
 * `<data-dir>/replication-offset-checkpoint` (Kafka's file and format) every
 * `highWatermarkCheckpointIntervalMs` (Kafka's
 * replica.high.watermark.checkpoint.interval.ms, 5 s), after a deletion and
 * at close, and restored on open, bounded by each log. A checkpoint that
 * does not parse is logged and ignored: a lower HW is always safe.
 *
 * In a cluster (`replicated`) the controller decides which topics exist: the
 * ReplicaManager (src/broker/replica/) creates and deletes them here as its
 * images say (`createReplica`, `delete`), and gives each partition its role.
 * Until then every partition opens serving nothing, with its checkpointed HW.
 * A broker holds a topic when it is a replica of at least one of its
 * partitions, with a log for every partition (so indexes and counts read as
 * with one broker); the partitions it is no replica of stay empty, unserved.
 *
 * Invariant: topics.json names exactly the topics held. Creating writes the
 * record before opening the logs; deleting writes it before removing the
 * directories (renamed `<topic>-<n>.<id>-delete` first, as Kafka does), so a
 * crash at any step is finished on the next open. Changes to the set of
 * topics run one at a time (`exclusive`); reads and appends never wait on them.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type Clock, Log, type LogConfig, type Logger, resolveLogConfig } from '../log/index.js';
import { ProtocolError } from '../protocol/index.js';
import { CorruptOffsetCheckpointError } from '../replication/errors.js';
import {
  type PartitionOffset,
  partitionKey,
  readOffsetCheckpoint,
  writeOffsetCheckpoint,
} from '../replication/high-watermark-checkpoint.js';
import type { BrokerConfig } from './config.js';
import { type TopicRecord, loadTopics, saveTopics } from './data-dir.js';
import { isInternalTopic } from './group/offsets-topic.js';
import { Partition } from './partition.js';
import { checkTopicName } from './topic-name.js';

export interface Topic {
  readonly name: string;
  readonly partitions: readonly Partition[];
  /** The configs set on this topic (Kafka's keys, as text); the rest are the broker's defaults. */
  readonly configs: Readonly<Record<string, string>>;
}

export interface TopicManagerOptions {
  dataDir: string;
  config: BrokerConfig;
  logger: Logger;
  clock: Clock;
  /** How often the high watermarks are checkpointed. Default 5 s (Kafka's). */
  highWatermarkCheckpointIntervalMs?: number;
  /**
   * A broker of a cluster: partitions open serving nothing until the
   * ReplicaManager gives each its role. Default false: every partition leads.
   */
  replicated?: boolean;
}

export class TopicManager {
  private readonly topics = new Map<string, Topic>();
  private queue: Promise<unknown> = Promise.resolve();
  /** High watermarks read from the checkpoint at open, by partitionKey. */
  private restored = new Map<string, number>();
  private checkpointTimer: NodeJS.Timeout | undefined;
  private checkpointWrites: Promise<void> = Promise.resolve();
  private lastCheckpoint = '';

  private constructor(private readonly options: TopicManagerOptions) {}

  /** Opens every recorded topic's logs and finishes any deletion a crash interrupted. */
  static async open(options: TopicManagerOptions): Promise<TopicManager> {
    const manager = new TopicManager(options);
    const records = loadTopics(options.dataDir);
    manager.removeLeftovers(records);
    manager.restored = manager.readHighWatermarks();
    await Promise.all(
      [...records].map(async ([name, record]) => {
        const role = options.replicated === true ? 'none' : 'leader';
        manager.topics.set(name, await manager.openTopic(name, record, role));
      }),
    );
    manager.restored.clear(); // a topic created later starts afresh
    const every = options.highWatermarkCheckpointIntervalMs ?? 5_000;
    manager.checkpointTimer = setInterval(() => {
      manager.checkpointHighWatermarks().catch((err: unknown) => {
        options.logger.warn(`writing the high watermark checkpoint failed: ${String(err)}`);
      });
    }, every).unref();
    return manager;
  }

  get(name: string): Topic | undefined {
    return this.topics.get(name);
  }

  partition(topic: string, index: number): Partition | undefined {
    return this.topics.get(topic)?.partitions[index];
  }

  /** Every topic, by name. */
  list(): Topic[] {
    return [...this.topics.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  partitions(): Partition[] {
    return this.list().flatMap((t) => [...t.partitions]);
  }

  /** The topic's log config: its overrides over the broker's defaults over the log's. */
  effectiveConfig(configs: Readonly<Record<string, string>>): LogConfig {
    return resolveLogConfig({ ...this.options.config.topicDefaults, ...configs } as never);
  }

  /**
   * Creates a topic (refusing an illegal name, an existing topic, a bad count or
   * config); with `validateOnly`, only checks. Throws `ProtocolError`/`LogError`.
   */
  create(name: string, partitions: number, configs: Record<string, string>, validateOnly = false) {
    return this.exclusive(() =>
      this.createTopic(name, partitions, configs, validateOnly, 'leader'),
    );
  }

  /**
   * A topic the controller created, of which this broker holds a replica:
   * created as `create` does, with every partition serving nothing until
   * the ReplicaManager gives it a role. `configs` are log configs only.
   */
  createReplica(name: string, partitions: number, configs: Record<string, string>) {
    return this.exclusive(
      async () => (await this.createTopic(name, partitions, configs, false, 'none'))!,
    );
  }

  private async createTopic(
    name: string,
    partitions: number,
    configs: Record<string, string>,
    validateOnly: boolean,
    role: 'leader' | 'none',
  ): Promise<Topic | undefined> {
    checkTopicName(name);
    if (this.topics.has(name))
      throw new ProtocolError('TOPIC_ALREADY_EXISTS', `topic '${name}' already exists`);
    if (!Number.isSafeInteger(partitions) || partitions < 1 || partitions > 100_000)
      throw new ProtocolError(
        'INVALID_PARTITIONS',
        `a topic needs 1 to 100000 partitions, not ${partitions}`,
      );
    this.effectiveConfig(configs); // throws INVALID_CONFIG naming the bad key
    if (validateOnly) return undefined;
    const record: TopicRecord = { partitions, configs };
    this.save(new Map([...this.records(), [name, record]]));
    const topic = await this.openTopic(name, record, role);
    this.topics.set(name, topic);
    const set = Object.keys(configs).length === 0 ? '' : ` (${formatConfigs(configs)})`;
    this.options.logger.info(`created topic ${name} with ${partitions} partition(s)${set}`);
    return topic;
  }

  /**
   * Creates `name` with the broker's defaults if it is missing and auto-creation is on.
   * Never an internal topic: the group coordinator creates `__consumer_offsets` with its own configs.
   */
  async ensure(name: string): Promise<Topic | undefined> {
    const existing = this.topics.get(name);
    if (existing !== undefined) return existing;
    checkTopicName(name);
    if (isInternalTopic(name)) return undefined;
    if (!this.options.config.settings['auto.create.topics.enable']) return undefined;
    try {
      return await this.create(name, this.options.config.settings['num.partitions'], {});
    } catch (err) {
      // Another request created it first: fine.
      if (err instanceof ProtocolError && err.name === 'TOPIC_ALREADY_EXISTS')
        return this.topics.get(name);
      throw err;
    }
  }

  delete(name: string) {
    return this.exclusive(async () => {
      const topic = this.topics.get(name);
      if (topic === undefined)
        throw new ProtocolError('UNKNOWN_TOPIC_OR_PARTITION', `no topic '${name}'`);
      const rest = this.records();
      rest.delete(name);
      this.save(rest);
      this.topics.delete(name);
      await Promise.all(topic.partitions.map((p) => p.close()));
      for (const p of topic.partitions) this.removeDir(p.name);
      // A topic created again under the name starts afresh, even after a crash.
      await this.checkpointHighWatermarks().catch((err: unknown) => {
        this.options.logger.warn(`writing the high watermark checkpoint failed: ${String(err)}`);
      });
      this.options.logger.info(
        `deleted topic ${name} and its ${topic.partitions.length} partition(s)`,
      );
    });
  }

  /** Replaces the topic's configs (keys left out return to the defaults) and reopens its logs. */
  alterConfigs(name: string, configs: Record<string, string>, validateOnly = false) {
    return this.exclusive(async () => {
      const topic = this.topics.get(name);
      if (topic === undefined)
        throw new ProtocolError('UNKNOWN_TOPIC_OR_PARTITION', `no topic '${name}'`);
      const config = this.effectiveConfig(configs);
      if (validateOnly) return;
      const records = this.records();
      records.set(name, { ...recordOf(topic), configs });
      this.save(records);
      this.topics.set(name, { ...topic, configs });
      await Promise.all(topic.partitions.map((p) => p.reopen(() => this.openLog(p.name, config))));
      this.options.logger.info(
        `changed the configs of topic ${name}: ${formatConfigs(configs) || 'all defaults'}`,
      );
    });
  }

  /**
   * The controller's side of a leader election, for one broker: records the
   * partition's new leader epoch in topics.json, then the partition leads it
   * (its log enters the epoch at its end). Refuses an epoch below the current.
   */
  becomeLeader(name: string, index: number, epoch: number) {
    return this.exclusive(async () => {
      const partition = this.partition(name, index);
      if (partition === undefined) throw new ProtocolError('UNKNOWN_TOPIC_OR_PARTITION');
      partition.checkNewEpoch(epoch);
      const records = this.records();
      const record = records.get(name)!;
      record.leaderEpochs = epochsOf(this.topics.get(name)!);
      record.leaderEpochs[index] = epoch;
      this.save(records); // first: an epoch that has not written is in no batch
      await partition.ready();
      partition.becomeLeader(epoch);
      this.options.logger.info(
        `${partition.name} leads epoch ${epoch} from offset ${partition.logEndOffset}`,
      );
    });
  }

  async close(): Promise<void> {
    clearInterval(this.checkpointTimer);
    await this.queue;
    await Promise.all(this.partitions().map((p) => p.close()));
    await this.checkpointHighWatermarks();
  }

  // #region high-watermark-checkpoint
  /**
   * Writes every partition's high watermark to replication-offset-checkpoint
   * (skipped when nothing changed since the last write). Writes run one at a
   * time, each with the values of when it starts.
   */
  checkpointHighWatermarks(): Promise<void> {
    const write = this.checkpointWrites.then(async () => {
      const entries: PartitionOffset[] = this.partitions().map((p) => ({
        topic: p.topic,
        partition: p.index,
        offset: p.highWatermark,
      }));
      const text = JSON.stringify(entries);
      if (text === this.lastCheckpoint) return;
      await writeOffsetCheckpoint(this.options.dataDir, entries);
      this.lastCheckpoint = text;
    });
    this.checkpointWrites = write.catch(() => undefined);
    return write;
  }

  private readHighWatermarks(): Map<string, number> {
    try {
      return readOffsetCheckpoint(this.options.dataDir);
    } catch (err) {
      if (!(err instanceof CorruptOffsetCheckpointError)) throw err;
      this.options.logger.warn(`${err.message}; every high watermark starts at its log start`);
      return new Map();
    }
  }
  // #endregion high-watermark-checkpoint

  private async openTopic(
    name: string,
    record: TopicRecord,
    role: 'leader' | 'none',
  ): Promise<Topic> {
    const config = this.effectiveConfig(record.configs);
    const partitions = await Promise.all(
      Array.from({ length: record.partitions }, async (_, i) => {
        const log = await this.openLog(`${name}-${i}`, config);
        const restored = this.restored.get(partitionKey(name, i));
        const partition = new Partition(name, i, log, {
          leaderEpoch: record.leaderEpochs?.[i],
          highWatermark: restored,
          replicaId: this.options.config.settings['broker.id'],
          role,
        });
        if (role === 'leader' && restored !== undefined && restored !== partition.highWatermark)
          this.options.logger.info(
            `${partition.name}: high watermark ${restored} in the checkpoint, ` +
              `${partition.highWatermark} now (the log ends at ${log.logEndOffset}; this broker is the only in-sync replica)`,
          );
        return partition;
      }),
    );
    return { name, partitions, configs: record.configs };
  }

  private openLog(dirName: string, config: LogConfig): Promise<Log> {
    const { dataDir, logger, clock } = this.options;
    // The 50 partitions of __consumer_offsets would say "opened log" 50 times
    // at every start: their routine lines go to debug; warnings stay.
    const quiet = isInternalTopic(dirName.slice(0, dirName.lastIndexOf('-')));
    const logLogger: Logger = quiet
      ? {
          debug: (m) => logger.debug(m),
          info: (m) => logger.debug(m),
          warn: (m) => logger.warn(m),
          error: (m) => logger.error(m),
        }
      : logger;
    return Log.open(join(dataDir, dirName), config, { logger: logLogger, clock });
  }

  private records(): Map<string, TopicRecord> {
    const records = new Map<string, TopicRecord>();
    for (const t of this.topics.values()) records.set(t.name, recordOf(t));
    return records;
  }

  private save(records: ReadonlyMap<string, TopicRecord>): void {
    saveTopics(this.options.dataDir, records);
  }

  /** Renames first, so a crash mid-removal leaves a `-delete` dir that the next open removes. */
  private removeDir(dirName: string): void {
    const from = join(this.options.dataDir, dirName);
    const to = `${from}.${randomBytes(6).toString('hex')}-delete`;
    try {
      renameSync(from, to);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    rmSync(to, { recursive: true, force: true });
  }

  /** Removes `-delete` dirs, and partition dirs of topics no longer recorded (a deletion cut short). */
  private removeLeftovers(records: ReadonlyMap<string, TopicRecord>): void {
    for (const entry of readdirSync(this.options.dataDir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const path = join(this.options.dataDir, entry.name);
      if (entry.name.endsWith('-delete')) {
        rmSync(path, { recursive: true, force: true });
        continue;
      }
      const m = /^(.+)-(\d+)$/.exec(entry.name);
      if (m === null) continue;
      const record = records.get(m[1]!);
      if (record !== undefined && Number(m[2]) < record.partitions) continue;
      this.options.logger.warn(
        `removing ${path}: its topic was deleted (the deletion was cut short)`,
      );
      this.removeDir(entry.name);
    }
  }

  /** Runs changes to the set of topics one at a time, in call order. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

function epochsOf(topic: Topic): number[] {
  return topic.partitions.map((p) => p.leaderEpoch);
}

/** What topics.json says of a topic; leader epochs only once one is not 0. */
function recordOf(topic: Topic): TopicRecord {
  const record: TopicRecord = {
    partitions: topic.partitions.length,
    configs: { ...topic.configs },
  };
  const epochs = epochsOf(topic);
  if (epochs.some((e) => e !== 0)) record.leaderEpochs = epochs;
  return record;
}

function formatConfigs(configs: Record<string, string>): string {
  return Object.entries(configs)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}
