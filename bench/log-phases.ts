/**
 * What `npm run bench -- log` times (bench/log.ts parses flags and prints):
 * the workload, one function per phase, and `measure`, which runs every
 * phase --runs times. samsa and plain fs runs alternate (append, write,
 * append, write, ...), so noise from the rest of the machine hits both, and
 * plain fs handles the very same encoded buffers samsa does: same bytes,
 * same order, same write sizes; reads use the same 1 MiB request size and a
 * fresh buffer per call, as log.read returns one. Every phase checks what it
 * did (records decoded, bytes on disk, bytes read back) so a fast wrong
 * answer cannot pass.
 */
import { randomFillSync } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import {
  type AppendRecord,
  DEFAULT_LOG_CONFIG,
  Log,
  decodeBatches,
  encodeBatch,
  readBatchHeader,
} from '../src/log/index.js';
import { MiB, Progress, type Throughput, throughput, timeAsync, timeSync } from './stats.js';

export const READ_CHUNK = MiB;
/** Distinct record arrays built up front; batches cycle through them (see buildWorkload). */
const POOL_BATCHES = 256;

/** The flags measure() needs. */
export interface WorkloadOptions {
  records: number;
  recordBytes: number;
  keyBytes: number;
  batchBytes: number;
  runs: number;
}

// #region workload
export interface Workload {
  /** The records of each batch; arrays are shared between batches (a pool). */
  batches: AppendRecord[][];
  recordsPerBatch: number;
}

/**
 * Keys are the record number in ASCII, zero-padded; values are random bytes.
 * Only POOL_BATCHES distinct record arrays exist (~38k records at the
 * defaults, a few MiB, more than a CPU cache holds): holding a million record
 * objects would put multi-second GC pauses into the timed phases.
 */
export function buildWorkload(o: WorkloadOptions): Workload {
  const record = (i: number, slab: Buffer, at: number): AppendRecord => {
    slab.write(String(i).padStart(o.keyBytes, '0').slice(-o.keyBytes), at, 'latin1');
    return {
      key: slab.subarray(at, at + o.keyBytes),
      value: slab.subarray(at + o.keyBytes, at + o.recordBytes),
    };
  };
  const records = (count: number, first = 0): AppendRecord[] => {
    const slab = randomFillSync(Buffer.allocUnsafe(count * o.recordBytes));
    return Array.from({ length: count }, (_, i) => record(first + i, slab, i * o.recordBytes));
  };
  // Records per batch: the most whose encoded batch fits in batchBytes (at least one).
  const sample = records(2);
  const perRecord = encodeBatch(sample).length - encodeBatch(sample.slice(0, 1)).length;
  let perBatch = Math.max(1, Math.min(o.records, Math.floor(o.batchBytes / perRecord) + 1));
  while (perBatch > 1 && encodeBatch(records(perBatch)).length > o.batchBytes) perBatch--;
  const batchCount = Math.ceil(o.records / perBatch);
  const pool = Array.from({ length: Math.min(batchCount, POOL_BATCHES) }, (_, b) =>
    records(perBatch, b * perBatch),
  );
  const batches = Array.from({ length: batchCount }, (_, b) => pool[b % pool.length]!);
  const last = o.records - (batchCount - 1) * perBatch;
  batches[batchCount - 1] = batches[batchCount - 1]!.slice(0, last);
  return { batches, recordsPerBatch: perBatch };
}
// #endregion workload

// #region phases
/** Encodes every batch; returns them all when `keep`, else only the last (the rest is garbage). */
function encodeAll(
  batches: AppendRecord[][],
  progress: Progress,
  label: string,
  keep: boolean,
): Buffer[] {
  const out: Buffer[] = [];
  for (let b = 0; b < batches.length; b++) {
    const batch = encodeBatch(batches[b]!);
    if (keep || b === batches.length - 1) out.push(batch);
    if ((b & 255) === 0) progress.update(label, b, batches.length);
  }
  return out;
}

function decodeAll(encoded: Buffer[]): number {
  let records = 0;
  for (const buf of encoded)
    for (const batch of decodeBatches(buf)) records += batch.records.length;
  return records;
}

async function appendAll(
  log: Log,
  encoded: Buffer[],
  progress: Progress,
  label: string,
): Promise<void> {
  for (let b = 0; b < encoded.length; b++) {
    log.appendBatch(encoded[b]!);
    if ((b & 255) === 0) progress.update(label, b, encoded.length);
  }
  await log.flush();
}

function plainWrite(path: string, encoded: Buffer[]): number {
  const fd = openSync(path, 'w');
  try {
    return timeSync(() => {
      for (const buf of encoded)
        for (let done = 0; done < buf.length;) done += writeSync(fd, buf, done);
      fsyncSync(fd);
    });
  } finally {
    closeSync(fd);
  }
}

/** Reads the log from its start; returns records seen (from headers) and bytes read. */
function readLog(log: Log): { records: number; bytes: number } {
  let records = 0;
  let bytes = 0;
  for (let offset = log.logStartOffset; offset < log.logEndOffset;) {
    const buf = log.read(offset, { maxBytes: READ_CHUNK });
    if (buf.length === 0) throw new Error(`log.read(${offset}) returned nothing`);
    for (let pos = 0; pos < buf.length;) {
      const header = readBatchHeader(buf, pos);
      records += header.recordCount;
      offset = header.lastOffset + 1;
      pos += header.size;
    }
    bytes += buf.length;
  }
  return { records, bytes };
}

function plainRead(path: string): number {
  const fd = openSync(path, 'r');
  let bytes = 0;
  try {
    while (true) {
      const got = readSync(fd, Buffer.allocUnsafe(READ_CHUNK), 0, READ_CHUNK, null);
      if (got === 0) break;
      bytes += got;
    }
  } finally {
    closeSync(fd);
  }
  return bytes;
}
// #endregion phases

// #region measure
type Phase = 'encode' | 'decode' | 'append' | 'plainAppend' | 'read' | 'plainRead';

export interface Measured extends Record<Phase, Throughput> {
  encodedBytes: number;
}

export async function measure(
  o: WorkloadOptions,
  work: Workload,
  root: string,
  progress: Progress,
): Promise<Measured> {
  const n = o.records;
  const runs = Array.from({ length: o.runs }, (_, r) => r);
  const tag = (phase: string, r: number): string => `log: ${phase} run ${r + 1}/${o.runs}`;
  const times: Record<Phase, number[]> = {
    encode: [],
    decode: [],
    append: [],
    plainAppend: [],
    read: [],
    plainRead: [],
  };

  // Timed encode runs drop their output as a producer would (keeping 100 MiB per
  // run alive made the first runs twice as slow); the batches the later phases
  // use are encoded once more, untimed.
  for (const r of runs) {
    progress.step(tag('encode', r));
    times.encode.push(timeSync(() => encodeAll(work.batches, progress, tag('encode', r), false)));
  }
  const encoded = encodeAll(work.batches, progress, 'log: encoding for the next phases', true);
  const bytes = encoded.reduce((sum, b) => sum + b.length, 0);
  for (const r of runs) {
    progress.step(tag('decode', r));
    let decoded = 0;
    times.decode.push(timeSync(() => void (decoded = decodeAll(encoded))));
    if (decoded !== n) throw new Error(`decoded ${decoded} records, expected ${n}`);
  }

  // The last run's files are kept for the read phase.
  const config = {
    'max.message.bytes': Math.max(DEFAULT_LOG_CONFIG['max.message.bytes'], o.batchBytes),
  };
  let log: Log | undefined;
  const plainPath = join(root, 'plain.bin');
  const samsaAppend = async (r: number): Promise<void> => {
    if (log) await log.close();
    rmSync(join(root, 'log'), { recursive: true, force: true });
    const fresh = await Log.open(join(root, 'log'), config);
    log = fresh;
    progress.step(tag('append', r));
    times.append.push(await timeAsync(() => appendAll(fresh, encoded, progress, tag('append', r))));
    if (log.size !== bytes) throw new Error(`log holds ${log.size} bytes, expected ${bytes}`);
  };
  const plainAppend = (r: number): void => {
    progress.step(tag('plain fs write', r));
    rmSync(plainPath, { force: true });
    times.plainAppend.push(plainWrite(plainPath, encoded));
  };
  const samsaRead = (r: number): void => {
    progress.step(tag('read', r));
    let seen = { records: 0, bytes: 0 };
    times.read.push(timeSync(() => void (seen = readLog(log!))));
    if (seen.records !== n || seen.bytes !== bytes)
      throw new Error(`read ${seen.records} records in ${seen.bytes} B, expected ${n} in ${bytes}`);
  };
  const plainReadBack = (r: number): void => {
    progress.step(tag('plain fs read', r));
    let got = 0;
    times.plainRead.push(timeSync(() => void (got = plainRead(plainPath))));
    if (got !== bytes) throw new Error(`plain read got ${got} bytes, expected ${bytes}`);
  };
  // samsa and plain fs alternate, taking turns to go first (ABBA), so neither
  // always meets a colder page cache or a busier disk.
  for (const r of runs) {
    if (r % 2 === 0) await samsaAppend(r);
    plainAppend(r);
    if (r % 2 === 1) await samsaAppend(r);
  }
  for (const r of runs) {
    if (r % 2 === 0) samsaRead(r);
    plainReadBack(r);
    if (r % 2 === 1) samsaRead(r);
  }
  await log?.close();
  const t = (k: Phase): Throughput => throughput(times[k], n, bytes);
  return {
    encode: t('encode'),
    decode: t('decode'),
    append: t('append'),
    plainAppend: t('plainAppend'),
    read: t('read'),
    plainRead: t('plainRead'),
    encodedBytes: bytes,
  };
}
// #endregion measure
