/**
 * kill -9 a `samsa broker` process in the middle of a stream of acks=1
 * produces, restart it on the same data dir, and check that everything it
 * acknowledged is there, in order and intact. acks=1 promises the page cache,
 * and a killed process leaves the page cache behind, so nothing acknowledged
 * may be lost (a power cut is another matter: that needs a flush).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../src/protocol/index.js';
import { RawClient, batch, fetchBody, produceBody, values } from './broker-support.js';
import { tempDir } from './support/temp.js';

const samsa = join(import.meta.dirname, '..', 'dist', 'bin', 'samsa.js');

/** Starts `samsa broker --port 0` and resolves with the process and the port it printed. */
function spawnBroker(dataDir: string): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [samsa, 'broker', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = /listening on [\d.]+:(\d+)/.exec(stdout);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.once('exit', (code) => reject(new Error(`broker exited with ${code}: ${stderr}`)));
  });
}

const exited = (child: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );

describe('a broker process killed with SIGKILL', () => {
  it('keeps everything it acknowledged, and a SIGTERM exits 0', async () => {
    const dataDir = tempDir('samsa-broker-kill-');
    const acked = new Map<number, string>(); // offset → value
    for (let round = 0; round < 3; round++) {
      const { child, port } = await spawnBroker(dataDir);
      const client = await RawClient.connect(port);
      const gone = exited(child);
      // Pipelined produces, 8 in flight; kill once enough were acknowledged this round.
      let sent = 0;
      let ackedThisRound = 0;
      await new Promise<void>((resolve) => {
        const next = (): void => {
          if (client.closed) return resolve();
          const value = `r${round}-${sent++}`.padEnd(50, '.');
          client.send('Produce', produceBody('kill', 0, batch([value]), 1)).then(
            (r) => {
              const p = r.body?.topics[0]?.partitions[0];
              if (p?.errorCode === ErrorCode.NONE) {
                acked.set(p.baseOffset, value);
                if (++ackedThisRound === 300 + round * 200) child.kill('SIGKILL');
              }
              next();
            },
            () => resolve(), // the connection died with the broker
          );
        };
        for (let i = 0; i < 8; i++) next();
      });
      expect((await gone).signal).toBe('SIGKILL');
      expect(ackedThisRound).toBeGreaterThanOrEqual(300 + round * 200);
    }

    const { child, port } = await spawnBroker(dataDir);
    const client = await RawClient.connect(port);
    const got = new Map<number, string>();
    let offset = 0;
    while (true) {
      const f = await client.call('Fetch', fetchBody('kill', 0, offset));
      const part = f.topics[0]!.partitions[0]!;
      expect(part.errorCode).toBe(0);
      const records = values(part.records);
      if (records.length === 0) break;
      for (const v of records) got.set(offset++, v);
    }
    expect(acked.size).toBeGreaterThanOrEqual(1500);
    for (const [o, v] of acked) expect(got.get(o)).toBe(v);
    const gone = exited(child);
    child.kill('SIGTERM');
    expect(await gone).toEqual({ code: 0, signal: null });
    client.close();
  });
});
