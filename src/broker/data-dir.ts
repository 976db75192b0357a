/**
 * The files a broker keeps at the top of its data dir, beside the partition
 * directories:
 *
 *   meta.properties   broker.id, cluster.id, version (Kafka's file and keys)
 *   topics.json       the topics, their partition counts, config overrides and leader epochs
 *   controller_epoch  in a cluster: the highest controller epoch seen (ZooKeeper's /controller_epoch)
 *   .lock             the pid of the broker using the dir
 *
 * Every write is atomic: a temporary file, fsync, rename, fsync the directory,
 * so a crash leaves the old file or the new one, never half of either.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

export const META_FILE = 'meta.properties';
export const TOPICS_FILE = 'topics.json';
export const LOCK_FILE = '.lock';
export const CONTROLLER_EPOCH_FILE = 'controller_epoch';
const META_VERSION = 1;
const TOPICS_VERSION = 1;

export interface BrokerMeta {
  brokerId: number;
  clusterId: string;
}

/** A topic as recorded: its partition count and the configs set on it (Kafka's keys, as text). */
export interface TopicRecord {
  partitions: number;
  configs: Record<string, string>;
  /**
   * Each partition's leader epoch, as the controller gave it; absent when all
   * are 0. The controller's record, not the log's: an epoch that has not
   * written yet is in no batch, and a reopened log forgets it (as Kafka's does).
   */
  leaderEpochs?: number[];
}

export function writeFileAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, text);
  const fd = openSync(tmp, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dir = openSync(join(path, '..'), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Reads meta.properties, or writes a new one when there is none, with
 * `clusterId` (a broker of a cluster: src/cluster/runtime/cluster-id.ts) or
 * a fresh random id (a cluster of one). A dir written by another broker id,
 * or for another cluster id, is refused.
 */
export function loadOrCreateMeta(
  dataDir: string,
  brokerId: number,
  clusterId?: string,
): BrokerMeta {
  const path = join(dataDir, META_FILE);
  const text = readIfExists(path);
  if (text === undefined) {
    clusterId ??= randomBytes(16).toString('base64url');
    const lines = ['#samsa broker metadata', `version=${META_VERSION}`];
    lines.push(`broker.id=${brokerId}`, `cluster.id=${clusterId}`, '');
    writeFileAtomic(path, lines.join('\n'));
    return { brokerId, clusterId };
  }
  const props = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*([^#=\s][^=]*?)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) props.set(m[1]!, m[2]!);
  }
  const id = Number(props.get('broker.id'));
  const stored = props.get('cluster.id');
  if (!Number.isSafeInteger(id) || stored === undefined || stored === '')
    throw new Error(`${path} is damaged: it needs broker.id and cluster.id`);
  if (id !== brokerId) throw new InconsistentBrokerIdError(path, id, brokerId);
  if (clusterId !== undefined && stored !== clusterId)
    throw new InconsistentClusterIdError(path, stored, clusterId);
  return { brokerId: id, clusterId: stored };
}

/**
 * The data dir belongs to another cluster (Kafka's
 * InconsistentClusterIdException): it was written for another --cluster
 * list, or without one, so its topics are not this cluster's.
 */
export class InconsistentClusterIdError extends Error {
  readonly code = 'BROKER_INCONSISTENT_CLUSTER_ID';
  readonly retriable = false;

  constructor(
    readonly path: string,
    readonly storedId: string,
    readonly configuredId: string,
  ) {
    super(
      `${path} says cluster.id=${storedId}, but this broker's --cluster list makes cluster ` +
        `${configuredId} (Kafka's InconsistentClusterIdException): the dir was written for another ` +
        `list, or without one; start it with that list, or give it another data dir`,
    );
    this.name = new.target.name;
  }
}

/**
 * The data dir belongs to another broker id (Kafka's
 * InconsistentBrokerIdException): starting would serve one broker's
 * partitions under another's name, so the broker refuses to start.
 */
export class InconsistentBrokerIdError extends Error {
  readonly code = 'BROKER_INCONSISTENT_BROKER_ID';
  readonly retriable = false;

  constructor(
    readonly path: string,
    readonly storedId: number,
    readonly configuredId: number,
  ) {
    super(
      `${path} says broker.id=${storedId}, but this broker is configured as broker ${configuredId} ` +
        `(Kafka's InconsistentBrokerIdException): start it with --id ${storedId}, or give it another data dir`,
    );
    this.name = new.target.name;
  }
}

/**
 * The highest controller epoch this broker has seen, kept so that after a
 * restart it never takes an epoch it (or another controller) used before.
 * One number in a text file, written atomically; 0 when there is none.
 */
export function controllerEpochStore(dataDir: string): {
  load(): number;
  save(epoch: number): void;
} {
  const path = join(dataDir, CONTROLLER_EPOCH_FILE);
  return {
    load() {
      const text = readIfExists(path);
      if (text === undefined) return 0;
      const epoch = Number(text.trim());
      if (!Number.isSafeInteger(epoch) || epoch < 0)
        throw new Error(
          `${path} is damaged: it should hold one controller epoch, not '${text.trim()}'`,
        );
      return epoch;
    },
    save(epoch) {
      writeFileAtomic(path, `${epoch}\n`);
    },
  };
}

export function loadTopics(dataDir: string): Map<string, TopicRecord> {
  const text = readIfExists(join(dataDir, TOPICS_FILE));
  const topics = new Map<string, TopicRecord>();
  if (text === undefined) return topics;
  const parsed = JSON.parse(text) as { version: number; topics: Record<string, TopicRecord> };
  if (parsed.version !== TOPICS_VERSION)
    throw new Error(`${TOPICS_FILE} has version ${parsed.version}; this broker reads version 1`);
  for (const [name, record] of Object.entries(parsed.topics)) topics.set(name, record);
  return topics;
}

export function saveTopics(dataDir: string, topics: ReadonlyMap<string, TopicRecord>): void {
  const record = { version: TOPICS_VERSION, topics: Object.fromEntries(topics) };
  writeFileAtomic(join(dataDir, TOPICS_FILE), JSON.stringify(record, null, 2) + '\n');
}

// Dirs held by brokers in this process: a pid check cannot tell two of them apart.
const heldHere = new Set<string>();

/**
 * Claims the data dir for this broker: refuses one whose `.lock` names a live
 * process (two brokers writing one log would corrupt it). A lock left by a
 * killed broker names a dead pid and is taken over.
 */
export function lockDataDir(dataDir: string): () => void {
  const path = join(dataDir, LOCK_FILE);
  const pid = Number(readIfExists(path)?.trim());
  const inUse =
    heldHere.has(dataDir) ||
    (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid));
  if (inUse) throw new Error(`data dir ${dataDir} is in use by another broker (pid ${pid})`);
  writeFileSync(path, `${process.pid}\n`);
  heldHere.add(dataDir);
  return () => {
    heldHere.delete(dataDir);
    rmSync(path, { force: true });
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
