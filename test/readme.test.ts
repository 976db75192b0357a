/**
 * The README's code must run as written: each ```ts block under the headings
 * below is saved inside the package (so `import ... from 'samsa'` resolves to
 * this package by its own name) and run with node in a temporary directory.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from './support/temp.js';

const root = join(import.meta.dirname, '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

function block(heading: string): string {
  const at = readme.indexOf(`## ${heading}\n`);
  const match = /```ts\n([\s\S]*?)```/.exec(readme.slice(at));
  if (at < 0 || !match) throw new Error(`no ts block under "## ${heading}"`);
  return match[1]!;
}

describe('README examples', () => {
  for (const heading of ['The log, from code', 'A broker inside your tests']) {
    it(`runs "${heading}"`, () => {
      const dir = join(root, 'dist', 'readme');
      mkdirSync(dir, { recursive: true });
      const script = join(dir, `${heading.replace(/\W+/g, '-')}.mjs`);
      writeFileSync(script, block(heading));
      const out = execFileSync(process.execPath, [script], { cwd: tempDir(), timeout: 30_000 });
      expect(out.toString()).toMatch(/\d/); // it printed offsets
    });
  }
});
