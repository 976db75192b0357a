/**
 * `samsa broker` (what `npm start` runs): it says where it listens and what
 * to try next, with commands that exist, and a SIGTERM stops it with exit 0.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { tempDir } from './support/temp.js';

const samsa = join(import.meta.dirname, '..', 'dist', 'bin', 'samsa.js');

it('prints where it listens and what to try next, and stops on SIGTERM', async () => {
  const dataDir = tempDir('samsa-broker-cli-');
  const child = spawn(process.execPath, [samsa, 'broker', '--port', '0', '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes('Ctrl-C stops the broker')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`broker exited with ${code}`)));
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  expect(await exit).toBe(0);

  const port = /listening on 127\.0\.0\.1:(\d+)/.exec(stdout)?.[1];
  expect(port).toBeDefined();
  const broker = `--broker 127.0.0.1:${port}`;
  expect(stdout).toContain(`data dir ${dataDir}`);
  expect(stdout).toContain(`npx samsa topics create page-views --partitions 3 ${broker}`);
  expect(stdout).toContain(`echo hello | npx samsa produce --topic page-views ${broker}`);
  expect(stdout).toContain(`npx samsa consume --topic page-views --from-beginning ${broker}`);
  expect(stdout).toContain(`npx samsa consume --topic page-views --group viewers ${broker}`);
  expect(stdout).toContain(`npx samsa groups describe viewers ${broker}`);
  expect(stdout).toContain(`npx samsa dump-log ${dataDir}/page-views-0`);
  expect(stdout).toContain('samsa broker stopped');
});
