/**
 * Every walkthrough in book/ is a test: it checks its chapter's claims and
 * exits non-zero when one fails. New walkthroughs (book/NN-*.ts) are picked up
 * by name. They run compiled, from dist/book, which `npm test` builds first.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const TIMEOUT_MS = 60_000;

const walkthroughs = readdirSync(join(ROOT, 'book'))
  .filter((name) => /^\d\d-.*\.ts$/.test(name))
  .sort()
  .map((name) => name.slice(0, -'.ts'.length));

function runNode(script: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], { cwd: ROOT, timeout: TIMEOUT_MS });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ code, output: signal ? `${output}\n(killed by ${signal})` : output }),
    );
  });
}

describe('book walkthroughs', () => {
  it('finds at least one walkthrough', () => {
    expect(walkthroughs.length).toBeGreaterThan(0);
  });

  for (const name of walkthroughs) {
    it(
      name,
      async () => {
        const script = join(ROOT, 'dist', 'book', `${name}.js`);
        expect(existsSync(script), `${script} is missing: run \`npx tsc -p .\` first`).toBe(true);
        const { code, output } = await runNode(script);
        expect(code, `${name} exited with ${code}. Its output:\n${output}`).toBe(0);
      },
      TIMEOUT_MS + 5_000,
    );
  }
});
