/** Helpers shared by the cleaner tests: a settable clock, the rule as a model, and log checks. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { type Log, type LogConfig, type RecordBatch, decodeBatches } from '../src/log/index.js';
import type { Plain } from './support/records.js';

export const T0 = 1_700_000_000_000;

/** A config with cleanup.policy compact. */
export const compacted = (overrides: Partial<LogConfig> = {}): Partial<LogConfig> => ({
  'cleanup.policy': 'compact',
  ...overrides,
});

/** A clock the test moves by hand. */
export class TestClock {
  constructor(public now = T0) {}
  readonly read = (): number => this.now;
}

/** A record of the model, with the time a pass first reached it (for tombstone horizons). */
export interface ModelRecord extends Plain {
  reachedAt?: number;
}

/**
 * The cleaner's rule applied to a model of the log by a pass at `now` that
 * cleaned [.., end): a record below `end` goes when a record of its key sits
 * at a later offset below `end`, or when it is a tombstone that a pass at
 * least `deleteRetentionMs` ago already reached.
 */
export function applyPass(
  model: ModelRecord[],
  end: number,
  now: number,
  deleteRetentionMs: number,
): ModelRecord[] {
  const latest = new Map<string | null, number>();
  for (const r of model) if (r.offset < end && r.key !== null) latest.set(r.key, r.offset);
  const kept = model.filter((r) => {
    if (r.offset >= end) return true;
    if (r.key !== null && latest.get(r.key)! > r.offset) return false;
    if (r.value === null && r.reachedAt !== undefined && r.reachedAt + deleteRetentionMs <= now)
      return false;
    return true;
  });
  for (const r of kept) if (r.offset < end && r.reachedAt === undefined) r.reachedAt = now;
  return kept;
}

export function stripModel(model: readonly ModelRecord[]): Plain[] {
  return model.map(({ offset, timestamp, key, value }) => ({ offset, timestamp, key, value }));
}

/** Each segment starts where the one before it ends. */
export function expectContiguous(log: Log): void {
  const segments = log.segments;
  for (let i = 1; i < segments.length; i++) {
    expect(segments[i]!.baseOffset).toBe(segments[i - 1]!.lastOffset + 1);
  }
}

/** The bytes of every file in the directory whose name ends with `suffix`. */
export function filesEndingWith(dir: string, suffix: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const name of readdirSync(dir).sort()) {
    if (name.endsWith(suffix)) files.set(name, readFileSync(join(dir, name)));
  }
  return files;
}

/** Temporary files a swap or a delete leaves behind while it runs. */
export function temporaryFiles(dir: string): string[] {
  return readdirSync(dir).filter((n) => /\.(cleaned|swap|deleted|tmp)$/.test(n));
}

/** Every batch of the log, across segments, CRCs checked. */
export function allBatches(log: Log): RecordBatch[] {
  const batches: RecordBatch[] = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const read = decodeBatches(log.read(offset, { maxBytes: 1 << 20 }));
    if (read.length === 0) break;
    batches.push(...read);
    offset = read[read.length - 1]!.lastOffset + 1;
  }
  return batches;
}
