/**
 * Helpers shared by the inspectLog tests. Importing this module gives each test a fresh
 * empty directory in `dir` (a live binding, reassigned before each test, removed after).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { type AppendRecord, Log, segmentFileName } from '../src/log/index.js';

export const CONFIG = { 'segment.bytes': 1024, 'index.interval.bytes': 200 };
export const START = 1_700_000_000_000;

export interface Appended {
  baseOffset: number;
  lastOffset: number;
  records: AppendRecord[];
}

export let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'samsa-inspect-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Appends `count` batches of 1–3 records (some tombstones) and closes the log. */
export async function buildLog(count = 40): Promise<Appended[]> {
  const log = await Log.open(dir, CONFIG);
  const appended: Appended[] = [];
  for (let i = 0; i < count; i++) {
    const records: AppendRecord[] = Array.from({ length: 1 + (i % 3) }, (_, j) => ({
      key: Buffer.from(`key-${i}-${j}`),
      value: i % 7 === 3 && j === 0 ? null : Buffer.from(`value-${i}-${j}`),
      headers: j === 1 ? [{ key: 'h', value: Buffer.from(`hv-${i}`) }] : [],
      timestamp: START + i,
    }));
    const { baseOffset, lastOffset } = log.append(records);
    appended.push({ baseOffset, lastOffset, records });
  }
  await log.close();
  return appended;
}

export function logFile(base: number): string {
  return join(dir, segmentFileName(base, '.log'));
}
