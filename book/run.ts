/**
 * `npm run book` runs every walkthrough in order; `npm run book -- 04-the-log`
 * runs one (any unambiguous prefix works too: `npm run book -- 04`). Arguments
 * after the name go to the walkthrough: `npm run book -- 04-the-log --keep`.
 *
 * Each walkthrough runs as its own node process with this terminal as its
 * output; its exit code is its verdict.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url)); // dist/book
const WALKTHROUGH = /^\d\d-.*\.js$/;

function walkthroughs(): string[] {
  return readdirSync(HERE)
    .filter((name) => WALKTHROUGH.test(name))
    .sort()
    .map((name) => name.slice(0, -'.js'.length));
}

function run(name: string, args: readonly string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(HERE, `${name}.js`), ...args], {
      stdio: 'inherit',
    });
    child.on('error', (err) => {
      console.error(`could not start ${name}: ${err.message}`);
      resolve(1);
    });
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

async function main(): Promise<number> {
  const [wanted, ...args] = process.argv.slice(2);
  const all = walkthroughs();
  if (wanted !== undefined) {
    const name = wanted.replace(/\.(ts|js|md)$/, '').replace(/^.*\//, '');
    const matches = all.includes(name) ? [name] : all.filter((n) => n.startsWith(name));
    if (matches.length !== 1) {
      console.error(
        matches.length === 0
          ? `no walkthrough named '${wanted}'. There are: ${all.join(', ')}`
          : `'${wanted}' could be any of: ${matches.join(', ')}`,
      );
      return 2;
    }
    return run(matches[0]!, args);
  }
  if (all.length === 0) {
    console.error(`no walkthroughs in ${HERE}: did tsc run?`);
    return 2;
  }
  const results: { name: string; code: number; ms: number }[] = [];
  for (const name of all) {
    console.log(`\n━━━ ${name} ━━━\n`);
    const start = Date.now();
    const code = await run(name, []);
    results.push({ name, code, ms: Date.now() - start });
  }
  console.log('\nSummary:');
  for (const r of results) {
    const verdict = (r.code === 0 ? 'ok' : `FAILED (exit ${r.code})`).padEnd(16);
    console.log(`  ${verdict} ${r.name} (${(r.ms / 1000).toFixed(1)} s)`);
  }
  const failed = results.filter((r) => r.code !== 0).length;
  console.log(failed === 0 ? `All ${results.length} walkthroughs passed.` : `${failed} failed.`);
  return failed === 0 ? 0 : 1;
}

process.exitCode = await main();
