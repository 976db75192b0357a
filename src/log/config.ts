/**
 * Log configuration, named as in Kafka so a reader can look each key up in
 * Kafka's documentation. Defaults are Kafka's where they make sense for a
 * broker that runs on a laptop; where samsa differs, the comment says why.
 */
import { InvalidConfigError } from './errors.js';

export interface LogConfig {
  /** Roll a new segment when the active one would grow past this. Kafka: 1 GiB. */
  'segment.bytes': number;
  /** Roll a new segment when the active one's first record is older than this. Kafka: 7 days. */
  'segment.ms': number;
  /** Bytes of log between two sparse index entries. Kafka: 4096. */
  'index.interval.bytes': number;
  /** Most bytes an offset index may hold; a full index rolls the segment. Kafka: 10 MiB. */
  'segment.index.bytes': number;
  /** Largest batch accepted. Kafka: 1 MiB + 12 bytes of log overhead. */
  'max.message.bytes': number;
  /** fsync after this many records appended since the last flush. Kafka: never (leave it to the OS). */
  'flush.messages': number;
  /** fsync when the oldest unflushed append is this old. Kafka: never. */
  'flush.ms': number;
  /** Delete segments whose newest record is older than this; -1 keeps them. Kafka: 7 days. */
  'retention.ms': number;
  /** Delete old segments while the log is larger than this; -1 means no limit. Kafka: -1. */
  'retention.bytes': number;
  /** 'delete', 'compact', or 'compact,delete'. Kafka: delete. */
  'cleanup.policy': string;
  /** How long a tombstone stays readable after the cleaner first reaches it. Kafka: 1 day. */
  'delete.retention.ms': number;
  /** Clean only when dirty bytes / total bytes reach this. Kafka: 0.5. */
  'min.cleanable.dirty.ratio': number;
  /** A record younger than this is never compacted. Kafka: 0. */
  'min.compaction.lag.ms': number;
  /** How long a deleted segment waits under its `.deleted` name. Kafka: 1 minute; samsa deletes at once (0). */
  'file.delete.delay.ms': number;
}

/** Number.MAX_SAFE_INTEGER stands for Kafka's Long.MAX_VALUE ("never"). */
export const NEVER = Number.MAX_SAFE_INTEGER;

export const DEFAULT_LOG_CONFIG: Readonly<LogConfig> = Object.freeze({
  'segment.bytes': 1024 * 1024 * 1024,
  'segment.ms': 7 * 24 * 60 * 60 * 1000,
  'index.interval.bytes': 4096,
  'segment.index.bytes': 10 * 1024 * 1024,
  'max.message.bytes': 1024 * 1024 + 12,
  'flush.messages': NEVER,
  'flush.ms': NEVER,
  'retention.ms': 7 * 24 * 60 * 60 * 1000,
  'retention.bytes': -1,
  'cleanup.policy': 'delete',
  'delete.retention.ms': 24 * 60 * 60 * 1000,
  'min.cleanable.dirty.ratio': 0.5,
  'min.compaction.lag.ms': 0,
  'file.delete.delay.ms': 0,
});

const MINIMUMS: Partial<Record<keyof LogConfig, number>> = {
  'segment.bytes': 14, // Kafka's floor: a log overhead and a little more
  'segment.ms': 1,
  'index.interval.bytes': 0,
  'segment.index.bytes': 8 * 4, // room for a few entries
  'max.message.bytes': 0,
  'flush.messages': 1,
  'flush.ms': 0,
  'retention.ms': -1,
  'retention.bytes': -1,
  'delete.retention.ms': 0,
  'min.compaction.lag.ms': 0,
  'file.delete.delay.ms': 0,
};

/** Fills in defaults and checks every value; throws InvalidConfigError naming the bad key. */
export function resolveLogConfig(overrides: Partial<LogConfig> = {}): LogConfig {
  if (overrides === null || typeof overrides !== 'object')
    throw new TypeError('config must be an object');
  const config: LogConfig = { ...DEFAULT_LOG_CONFIG };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    if (!(key in DEFAULT_LOG_CONFIG))
      throw new InvalidConfigError(`unknown log config key '${key}'`);
    const name = key as keyof LogConfig;
    if (name === 'cleanup.policy') {
      config[name] = parseCleanupPolicy(value);
      continue;
    }
    const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    if (typeof n !== 'number' || Number.isNaN(n)) {
      throw new InvalidConfigError(
        `log config '${key}' must be a number, got ${JSON.stringify(value)}`,
      );
    }
    if (name === 'min.cleanable.dirty.ratio') {
      if (n < 0 || n > 1) throw new InvalidConfigError(`'${key}' must be between 0 and 1`);
    } else {
      if (!Number.isSafeInteger(n))
        throw new InvalidConfigError(`'${key}' must be an integer, got ${n}`);
      const min = MINIMUMS[name] ?? 0;
      if (n < min) throw new InvalidConfigError(`'${key}' must be at least ${min}, got ${n}`);
    }
    (config as unknown as Record<string, number>)[name] = n;
  }
  if (config['segment.bytes'] > 2 ** 31 - 1) {
    throw new InvalidConfigError(
      `'segment.bytes' must fit in 31 bits (index positions are u32, Kafka uses i32)`,
    );
  }
  return config;
}

function parseCleanupPolicy(value: unknown): string {
  if (typeof value !== 'string') throw new InvalidConfigError(`'cleanup.policy' must be a string`);
  const parts = value
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const ok = parts.length > 0 && parts.every((p) => p === 'delete' || p === 'compact');
  if (!ok)
    throw new InvalidConfigError(`'cleanup.policy' must be delete, compact or compact,delete`);
  return [...new Set(parts)].sort().join(',');
}

export function isCompacted(config: LogConfig): boolean {
  return config['cleanup.policy'].includes('compact');
}
