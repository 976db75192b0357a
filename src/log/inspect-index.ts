/**
 * Reads a segment's `.index` and `.timeindex` read-only and checks each entry
 * against the batches found in the `.log` (see inspect-batches.ts). Indexes
 * are derived data: a missing one is information, not damage; an entry that
 * names the wrong batch is damage the log repairs by rebuilding the index.
 *
 * Offsets in both files are relative to the segment's base offset; the
 * reports here give them absolute.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { BatchReport } from './inspect-batches.js';
import { OFFSET_ENTRY_WIDTH, OFFSET_WIDTH } from './offset-index.js';
import { TIME_ENTRY_WIDTH, TIMESTAMP_WIDTH } from './time-index.js';

export interface OffsetIndexEntryReport {
  slot: number;
  /** The last offset of the batch the entry points at (absolute). */
  offset: number;
  position: number;
  /** A batch starts at `position` and its last offset is `offset`. */
  agrees: boolean;
  /** Greater than the entry before in both offset and position. */
  increasing: boolean;
}

export interface TimeIndexEntryReport {
  slot: number;
  timestamp: number;
  offset: number;
  /** The batch whose last offset is `offset` exists and its max timestamp is `timestamp`. */
  agrees: boolean;
  /** Greater than the entry before in both timestamp and offset. */
  increasing: boolean;
}

export interface IndexFileReport<Entry> {
  path: string;
  exists: boolean;
  entries: Entry[];
  /** Bytes of a partial entry at the end (a torn write); the log drops them on open. */
  partialBytes: number;
}

export function inspectOffsetIndex(
  path: string,
  baseOffset: number,
  batches: readonly BatchReport[],
  problems: string[],
  notes: string[],
): IndexFileReport<OffsetIndexEntryReport> {
  const byPosition = new Map(batches.map((b) => [b.position, b]));
  return readEntries(path, OFFSET_ENTRY_WIDTH, notes, (buf, at, slot, prev) => {
    const offset = baseOffset + buf.readUInt32BE(at);
    const position = buf.readUInt32BE(at + OFFSET_WIDTH);
    const batch = byPosition.get(position);
    const agrees = batch !== undefined && batch.lastOffset === offset;
    const increasing = !prev || (offset > prev.offset && position > prev.position);
    const entry = `${basename(path)} entry ${slot} (offset ${offset} at byte ${position})`;
    if (!agrees) {
      const why = batch
        ? `the batch there ends at offset ${batch.lastOffset}`
        : `no batch starts at byte ${position}`;
      problems.push(`${entry} does not match the log: ${why}`);
    }
    if (!increasing) problems.push(`${entry} does not increase on the entry before it`);
    return { slot, offset, position, agrees, increasing };
  });
}

export function inspectTimeIndex(
  path: string,
  baseOffset: number,
  batches: readonly BatchReport[],
  problems: string[],
  notes: string[],
): IndexFileReport<TimeIndexEntryReport> {
  const byLastOffset = new Map(batches.map((b) => [b.lastOffset, b]));
  return readEntries(path, TIME_ENTRY_WIDTH, notes, (buf, at, slot, prev) => {
    const timestamp = Number(buf.readBigInt64BE(at));
    const offset = baseOffset + buf.readUInt32BE(at + TIMESTAMP_WIDTH);
    const batch = byLastOffset.get(offset);
    const agrees = batch !== undefined && batch.maxTimestamp === timestamp;
    const increasing = !prev || (timestamp > prev.timestamp && offset > prev.offset);
    const entry = `${basename(path)} entry ${slot} (timestamp ${timestamp} at offset ${offset})`;
    if (!agrees) {
      const why = batch
        ? `the batch ending there has max timestamp ${batch.maxTimestamp}`
        : `no batch ends at offset ${offset}`;
      problems.push(`${entry} does not match the log: ${why}`);
    }
    if (!increasing) problems.push(`${entry} does not increase on the entry before it`);
    return { slot, timestamp, offset, agrees, increasing };
  });
}

function readEntries<Entry>(
  path: string,
  width: number,
  notes: string[],
  decode: (buf: Buffer, at: number, slot: number, prev: Entry | undefined) => Entry,
): IndexFileReport<Entry> {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    notes.push(`${basename(path)} is missing (an index is derived: the log rebuilds it on open)`);
    return { path, exists: false, entries: [], partialBytes: 0 };
  }
  const entries: Entry[] = [];
  const count = Math.floor(buf.length / width);
  for (let slot = 0; slot < count; slot++)
    entries.push(decode(buf, slot * width, slot, entries[slot - 1]));
  const partialBytes = buf.length - count * width;
  if (partialBytes > 0)
    notes.push(`${basename(path)} ends with ${partialBytes} bytes of a partial entry`);
  return { path, exists: true, entries, partialBytes };
}
