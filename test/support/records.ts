/** Small helpers to build records and compare what a log returns. */
import { type AppendRecord, type LogRecord, decodeBatches } from '../../src/log/index.js';

export function rec(key: string | null, value: string | null, timestamp?: number): AppendRecord {
  return {
    key: key === null ? null : Buffer.from(key),
    value: value === null ? null : Buffer.from(value),
    ...(timestamp === undefined ? {} : { timestamp }),
  };
}

/** A record reduced to comparable plain values. */
export interface Plain {
  offset: number;
  timestamp: number;
  key: string | null;
  value: string | null;
}

export function plain(r: LogRecord): Plain {
  return {
    offset: r.offset,
    timestamp: r.timestamp,
    key: r.key === null ? null : r.key.toString('hex'),
    value: r.value === null ? null : r.value.toString('hex'),
  };
}

/** Every record of the log from `from` to the end, read with small reads. */
export function readAll(
  log: { read(offset: number, o?: { maxBytes?: number }): Buffer; logEndOffset: number },
  from: number,
  maxBytes = 300,
): Plain[] {
  const out: Plain[] = [];
  let offset = from;
  while (offset < log.logEndOffset) {
    const batches = decodeBatches(log.read(offset, { maxBytes }));
    if (batches.length === 0) break;
    for (const batch of batches) {
      for (const r of batch.records) if (r.offset >= offset) out.push(plain(r));
      offset = batch.lastOffset + 1;
    }
  }
  return out;
}
