/**
 * The `leader-epoch-checkpoint` file in a log directory, in Kafka's text
 * format so that the two can be compared with `cat`:
 *
 *   0          format version
 *   2          number of entries
 *   0 0        epoch, space, start offset; oldest first
 *   3 1200
 *
 * A write replaces the file atomically (temporary file, fsync, rename, fsync
 * the directory), so a crash leaves the old file or the new one. Like Kafka's
 * format it has no checksum; the log bounds the cache it loads by its own
 * offsets (`loadLeaderEpochCache`), which is what Kafka's loader does too.
 *
 * A missing or empty file is an empty cache (a new log, or a log from before
 * replication). Anything else that does not parse is a
 * REPLICATION_CORRUPT_EPOCH_CHECKPOINT error: unlike the log's own
 * checkpoint, this file is not a hint that may be dropped in silence, because
 * a follower truncates by it.
 */
import {
  closeSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { TMP_SUFFIX, fsyncDir } from '../log/checkpoint.js';
import { CorruptEpochCheckpointError } from './errors.js';
import { type EpochEntry, LeaderEpochCache } from './leader-epoch-cache.js';

export const LEADER_EPOCH_CHECKPOINT_FILE = 'leader-epoch-checkpoint';
const VERSION = 0;
const MAX_EPOCH = 2 ** 31 - 1;

export function leaderEpochCheckpointPath(dir: string): string {
  return join(dir, LEADER_EPOCH_CHECKPOINT_FILE);
}

// #region format
export function formatLeaderEpochCheckpoint(entries: readonly EpochEntry[]): string {
  const lines = [String(VERSION), String(entries.length)];
  for (const { epoch, startOffset } of entries) lines.push(`${epoch} ${startOffset}`);
  return lines.join('\n') + '\n';
}

/** Kafka's CheckpointReadBuffer rules: a version, a count, then exactly that many entries. */
export function parseLeaderEpochCheckpoint(text: string, path: string): EpochEntry[] {
  const lines = text.split('\n').map((line) => line.replace(/\r$/, ''));
  if (lines.at(-1) === '') lines.pop(); // the newline that ends the last line
  if (lines.length === 0) return [];
  const corrupt = (reason: string) => new CorruptEpochCheckpointError(path, reason);
  if (!/^\d+$/.test(lines[0]!) || Number(lines[0]) !== VERSION)
    throw corrupt(`unknown version line ${JSON.stringify(lines[0])} (expected ${VERSION})`);
  if (lines.length === 1) return [];
  if (!/^\d{1,9}$/.test(lines[1]!))
    throw corrupt(`malformed entry count ${JSON.stringify(lines[1])}`);
  const expected = Number(lines[1]);
  const entries: EpochEntry[] = [];
  for (const line of lines.slice(2)) {
    const match = /^\s*(\d{1,10})\s+(\d{1,16})\s*$/.exec(line);
    const epoch = Number(match?.[1]);
    const startOffset = Number(match?.[2]);
    if (!match || epoch > MAX_EPOCH || !Number.isSafeInteger(startOffset))
      throw corrupt(`malformed entry ${JSON.stringify(line)}`);
    entries.push({ epoch, startOffset });
  }
  if (entries.length !== expected)
    throw corrupt(`expected ${expected} entries, found ${entries.length}`);
  return entries;
}
// #endregion format

/** The entries in `dir`'s checkpoint, oldest first; none when the file does not exist. */
export function readLeaderEpochCheckpoint(dir: string): EpochEntry[] {
  const path = leaderEpochCheckpointPath(dir);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return parseLeaderEpochCheckpoint(text, path);
}

/**
 * Opens the cache of a log whose offsets are [logStartOffset, logEndOffset):
 * entries past the log end (a truncation whose checkpoint write a crash lost)
 * and before the log start are cut, as Kafka's LogLoader does.
 */
export function loadLeaderEpochCache(
  dir: string,
  bounds: { logStartOffset: number; logEndOffset: number },
): LeaderEpochCache {
  const cache = new LeaderEpochCache(readLeaderEpochCheckpoint(dir));
  cache.truncateFromEnd(bounds.logEndOffset);
  cache.truncateFromStart(bounds.logStartOffset);
  return cache;
}

// #region write
/**
 * Writes the file atomically. Writes may overlap (an async one still
 * fsyncing when a later one starts): each uses its own temporary name, and
 * one that finishes after a newer write has already renamed is dropped, so
 * the newest call always wins.
 */
export async function writeLeaderEpochCheckpoint(
  dir: string,
  entries: readonly EpochEntry[],
): Promise<void> {
  const sequence = ++writesStarted;
  const text = formatLeaderEpochCheckpoint(entries); // the entries as they are now
  const tmp = temporaryName(dir, sequence);
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  install(dir, tmp, sequence); // synchronous, so no other write slips between check and rename
}

/** The same, blocking: for the rare paths (becoming leader, truncation) that must not race. */
export function writeLeaderEpochCheckpointSync(dir: string, entries: readonly EpochEntry[]): void {
  const sequence = ++writesStarted;
  const tmp = temporaryName(dir, sequence);
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, formatLeaderEpochCheckpoint(entries));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  install(dir, tmp, sequence);
}

let writesStarted = 0;
/** The newest sequence number renamed into place, per file. */
const installed = new Map<string, number>();

function install(dir: string, tmp: string, sequence: number): void {
  const path = leaderEpochCheckpointPath(dir);
  if ((installed.get(path) ?? 0) > sequence) {
    rmSync(tmp, { force: true }); // a newer write already landed
    return;
  }
  renameSync(tmp, path);
  installed.set(path, sequence);
  fsyncDir(dir);
}

/**
 * Copied in spirit from src/log/checkpoint.ts (its helper is not exported): a
 * name no other write in this process uses, ending in .tmp so that the log
 * loader removes leftovers when the log is opened.
 */
function temporaryName(dir: string, sequence: number): string {
  return `${leaderEpochCheckpointPath(dir)}.${process.pid}.${sequence}${TMP_SUFFIX}`;
}
// #endregion write
