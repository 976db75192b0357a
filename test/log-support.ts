/** Helpers shared by the Log tests: a small-segment config and a batch filler. */
import type { Log } from '../src/log/index.js';
import { rec } from './support/records.js';

/** Small segments and a dense index, so a few batches span several files. */
export const small = { 'segment.bytes': 1024, 'index.interval.bytes': 128 };

/** Appends `batches` batches of `perBatch` records, keys k<b>-<i>, timestamps from t0. */
export function fill(log: Log, batches: number, perBatch = 3, t0 = 1000): void {
  for (let b = 0; b < batches; b++) {
    const records = [];
    for (let i = 0; i < perBatch; i++)
      records.push(rec(`k${b}-${i}`, `value ${b}-${i}`, t0 + b * 10 + i));
    log.append(records);
  }
}
