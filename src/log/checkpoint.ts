/**
 * A checkpoint file: a few named offsets that must survive a crash, written
 * so that a reader sees either the old file or the new one, never half of
 * each (write a temporary file, fsync it, rename it over the old one, fsync
 * the directory). The text format is readable with `cat`:
 *
 *   0                      format version
 *   recovery-point 1234    name, space, value; one per line
 *   crc 2cbf3a51           CRC-32C of the lines above (a flipped digit is caught)
 *
 * An unreadable checkpoint is treated as absent: every value it holds is one
 * the log can recompute more slowly (recovery from offset 0, say).
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { crc32c } from './batch-header.js';

const VERSION = '0';
/** The checkpoint file in each log directory, and the names of the values it holds. */
export const CHECKPOINT_FILE = 'checkpoint';
export const RECOVERY_POINT = 'recovery-point';
export const LOG_START_OFFSET = 'log-start-offset';
export const CLEANER_OFFSET = 'cleaner-offset';
export const TMP_SUFFIX = '.tmp';

export function readCheckpoint(path: string): Map<string, number> {
  const values = new Map<string, number>();
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return values;
  }
  const lines = text.split('\n').filter((l) => l !== '');
  if (lines[0] !== VERSION || lines.length < 2) return values;
  const body = lines.slice(0, -1);
  if (lines.at(-1) !== `crc ${crcOf(body)}`) return values;
  for (const line of body.slice(1)) {
    const match = /^([a-z.-]+) (-?\d{1,16})$/.exec(line);
    if (!match) return new Map(); // damaged: trust none of it
    values.set(match[1]!, Number(match[2]));
  }
  return values;
}

/** Writes the checkpoint atomically; the fsyncs run off the event loop. */
let writes = 0;
/** A name no other write in this process uses; leftovers end in .tmp and are removed on open. */
function temporaryName(path: string): string {
  return `${path}.${process.pid}.${++writes}${TMP_SUFFIX}`;
}

function format(values: ReadonlyMap<string, number>): string {
  const lines = [VERSION];
  for (const [name, value] of values) lines.push(`${name} ${value}`);
  lines.push(`crc ${crcOf(lines)}`);
  return lines.join('\n') + '\n';
}

function crcOf(lines: string[]): string {
  return crc32c(Buffer.from(lines.join('\n')))
    .toString(16)
    .padStart(8, '0');
}

export async function writeCheckpoint(
  path: string,
  values: ReadonlyMap<string, number>,
): Promise<void> {
  const tmp = temporaryName(path);
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(format(values));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
  fsyncDir(dirname(path));
}

/** The same, blocking: for rare paths (truncation) where the order of writes matters more. */
export function writeCheckpointSync(path: string, values: ReadonlyMap<string, number>): void {
  const tmp = temporaryName(path);
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, format(values));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncDir(dirname(path));
}

export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some platforms cannot fsync a directory; the rename is still atomic there.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
