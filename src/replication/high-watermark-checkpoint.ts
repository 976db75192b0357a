/**
 * The `replication-offset-checkpoint` file at the top of a data dir: the
 * high watermark of every partition, in Kafka's text format (its
 * OffsetCheckpointFile), so that the two can be compared with `cat`:
 *
 *   0              format version
 *   2              number of entries
 *   orders 0 42    topic, partition, high watermark; sorted by topic, then partition
 *   orders 1 17
 *
 * Topic names hold no spaces (Kafka's legal characters), so a line splits
 * cleanly. Written on a schedule and at close, never on the append path: a
 * stale, lower high watermark is safe (it hides records until the HW moves
 * again, and a leader that is the only in-sync replica moves it to its log
 * end offset at once). A write replaces the file atomically (temporary file,
 * fsync, rename, fsync the directory), so a crash leaves the old file or the
 * new one. Like Kafka's file it has no checksum; a file that does not parse
 * throws REPLICATION_CORRUPT_OFFSET_CHECKPOINT and the broker ignores it.
 */
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { TMP_SUFFIX, fsyncDir } from '../log/checkpoint.js';
import { CorruptOffsetCheckpointError } from './errors.js';

export const HIGH_WATERMARK_CHECKPOINT_FILE = 'replication-offset-checkpoint';
const VERSION = 0;

export interface PartitionOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** The key the broker looks a partition up by: topic names have no spaces. */
export const partitionKey = (topic: string, partition: number) => `${topic} ${partition}`;

// #region format
export function formatOffsetCheckpoint(entries: readonly PartitionOffset[]): string {
  const sorted = [...entries].sort((a, b) =>
    a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1,
  );
  const lines = [String(VERSION), String(sorted.length)];
  for (const { topic, partition, offset } of sorted) lines.push(`${topic} ${partition} ${offset}`);
  return lines.join('\n') + '\n';
}

/** Kafka's CheckpointReadBuffer rules: a version, a count, then exactly that many entries. */
export function parseOffsetCheckpoint(text: string, path: string): PartitionOffset[] {
  const lines = text.split('\n').map((line) => line.replace(/\r$/, ''));
  if (lines.at(-1) === '') lines.pop();
  const corrupt = (reason: string) => new CorruptOffsetCheckpointError(path, reason);
  if (lines.length === 0) throw corrupt('the file is empty');
  if (lines[0] !== String(VERSION))
    throw corrupt(`unknown version line ${JSON.stringify(lines[0])} (expected ${VERSION})`);
  if (lines.length < 2 || !/^\d{1,9}$/.test(lines[1]!))
    throw corrupt(`malformed entry count ${JSON.stringify(lines[1] ?? '')}`);
  const expected = Number(lines[1]);
  const entries: PartitionOffset[] = [];
  for (const line of lines.slice(2)) {
    const match = /^(\S+) (\d{1,9}) (\d{1,16})$/.exec(line);
    const offset = Number(match?.[3]);
    if (!match || !Number.isSafeInteger(offset))
      throw corrupt(`malformed entry ${JSON.stringify(line)}`);
    entries.push({ topic: match[1]!, partition: Number(match[2]), offset });
  }
  if (entries.length !== expected)
    throw corrupt(`expected ${expected} entries, found ${entries.length}`);
  return entries;
}
// #endregion format

/**
 * The high watermarks in `dataDir`'s checkpoint, by partitionKey; empty when
 * the file does not exist. Removes temporary files a crash left behind.
 * Throws CorruptOffsetCheckpointError when the file does not parse.
 */
export function readOffsetCheckpoint(dataDir: string): Map<string, number> {
  for (const name of readdirSync(dataDir))
    if (name.startsWith(`${HIGH_WATERMARK_CHECKPOINT_FILE}.`) && name.endsWith(TMP_SUFFIX))
      rmSync(join(dataDir, name), { force: true });
  const path = join(dataDir, HIGH_WATERMARK_CHECKPOINT_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw err;
  }
  const offsets = new Map<string, number>();
  for (const e of parseOffsetCheckpoint(text, path))
    offsets.set(partitionKey(e.topic, e.partition), e.offset);
  return offsets;
}

// #region write
let writes = 0;

/**
 * Writes the file atomically; the fsyncs run off the event loop. The caller
 * runs one write at a time (the newest values win because they come last).
 */
export async function writeOffsetCheckpoint(
  dataDir: string,
  entries: readonly PartitionOffset[],
): Promise<void> {
  const path = join(dataDir, HIGH_WATERMARK_CHECKPOINT_FILE);
  const tmp = `${path}.${process.pid}.${++writes}${TMP_SUFFIX}`;
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(formatOffsetCheckpoint(entries));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
  fsyncDir(dataDir);
}
// #endregion write
