/**
 * kill -9 a process in the middle of appending, several times over, and check
 * what the restart recovers: a dense prefix of offsets, every record intact,
 * nothing lost that the writer saw flushed, and appends that continue.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Log, decodeRecords } from '../src/log/index.js';
import { tempDir } from './support/temp.js';

const writer = join(import.meta.dirname, 'fixtures', 'log-writer.mjs');

/** Starts the writer, waits for `flushes` flush reports, kills it with SIGKILL; returns the last one. */
function runAndKill(dir: string, flushes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [writer, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let seen = 0;
    let lastFlushed = 0;
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n')) {
        const m = /^flushed (\d+)$/.exec(line);
        if (!m) continue;
        lastFlushed = Number(m[1]);
        if (++seen === flushes) child.kill('SIGKILL');
      }
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(lastFlushed);
      else reject(new Error(`writer exited with ${code}: ${stderr}`));
    });
  });
}

describe('kill -9 while appending', () => {
  it('recovers a dense, intact prefix that holds everything flushed', async () => {
    const dir = tempDir('samsa-kill-');
    for (let round = 0; round < 4; round++) {
      const flushed = await runAndKill(dir, 5 + round * 7);
      const log = await Log.open(dir, { 'segment.bytes': 8 * 1024 });
      try {
        expect(log.logEndOffset).toBeGreaterThanOrEqual(flushed);
        let offset = 0;
        while (offset < log.logEndOffset) {
          const records = decodeRecords(log.read(offset, { maxBytes: 256 * 1024 }));
          for (const r of records) {
            expect(r.offset).toBe(offset);
            expect(r.key!.toString()).toBe(`k${offset}`);
            expect(r.value!.toString()).toBe(`value-${offset}`);
            offset++;
          }
        }
        expect(offset).toBe(log.logEndOffset);
        expect(log.segments.length).toBeGreaterThan(round === 0 ? 0 : 1);
      } finally {
        await log.close();
      }
    }
  });
});
