/**
 * What every walkthrough shares: a temporary data directory that goes away at
 * the end (unless `--keep`), plain narration, and `check`, which turns the
 * chapter's claims into the exit code so CI runs each walkthrough as a test.
 *
 * Narration prints what the code observed; a walkthrough never prints a
 * sentence it did not just verify or measure.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** `--keep` leaves the data directory in place so a reader can poke at it afterwards. */
export const keep = process.argv.includes('--keep');

const WIDTH = 80;
const INDENT = '    ';

// #region lifecycle
/** Runs `body` with a fresh temporary directory, removed afterwards unless `--keep`. */
export async function withTempDir<T>(name: string, body: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), `samsa-${name}-`));
  say(
    `Data directory: ${dir}${keep ? ' (kept: --keep)' : ' (removed at the end; --keep keeps it)'}`,
  );
  try {
    return await body(dir);
  } finally {
    if (keep) say(`The data directory is still there: ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs a walkthrough's main: an exception is a failed check, and the checks are summed up. */
export async function runWalkthrough(title: string, main: () => Promise<void>): Promise<void> {
  console.log(`# ${title}\n`);
  try {
    await main();
  } catch (err) {
    check(false, `the walkthrough ran to the end (it threw: ${(err as Error).stack ?? err})`);
  }
  console.log();
  if (failures.length === 0) console.log(`All ${passed} checks passed.`);
  else {
    console.log(`${failures.length} of ${passed + failures.length} checks FAILED:`);
    for (const f of failures) console.log(`  - ${f}`);
  }
}
// #endregion lifecycle

// #region narration
export function heading(title: string): void {
  console.log(`\n## ${title}\n`);
}

/** A paragraph of narration, wrapped. */
export function say(text: string): void {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (line !== '' && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  console.log(lines.join('\n'));
}

/** Observed data, indented as a block under the narration. */
export function show(lines: string | readonly string[]): void {
  for (const l of typeof lines === 'string' ? lines.split('\n') : lines) console.log(INDENT + l);
}

/** A table cell standing for "no value": it does not stop a column of numbers being right-aligned. */
export const NONE = '—';

/** Rows as aligned columns (numbers right-aligned), shown as a block. */
export function table(header: readonly string[], rows: readonly (string | number)[][]): void {
  const all = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  const numeric = header.map(
    (_, c) =>
      rows.some((r) => typeof r[c] === 'number') &&
      rows.every((r) => typeof r[c] === 'number' || r[c] === NONE),
  );
  show(
    all.map((r) =>
      r
        .map((cell, c) => (numeric[c] ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
        .join('  ')
        .trimEnd(),
    ),
  );
}

/** A count and a noun: `plural(1, 'segment')` is `1 segment`, `plural(3, 'batch', 'batches')` is `3 batches`. */
export function plural(count: number, noun: string, nouns = noun + 's'): string {
  return `${count} ${count === 1 ? noun : nouns}`;
}

/** Bytes as hex pairs: `00 00 00 07`. */
export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    .toString('hex')
    .replace(/(..)(?!$)/g, '$1 ');
}

/** A number as fixed-width hex: `0x000003fc`. */
export function hexNumber(n: number, digits = 8): string {
  return '0x' + n.toString(16).padStart(digits, '0');
}

/** The files of a directory with their sizes, sorted by name: what `ls -l` would show. */
export function listFiles(dir: string): { name: string; size: number }[] {
  return readdirSync(dir)
    .sort()
    .map((name) => ({ name, size: statSync(join(dir, name)).size }));
}

/** A file of fixed-width entries (an index), cut into its entries; a partial tail is left out. */
export function entries(bytes: Buffer, width: number): Buffer[] {
  return Array.from({ length: Math.floor(bytes.length / width) }, (_, i) =>
    bytes.subarray(i * width, (i + 1) * width),
  );
}

/** A logger (the shape src/log's Logger has) that keeps warnings and errors to print later. */
export function collectingLogger(
  messages: string[],
): Record<'debug' | 'info' | 'warn' | 'error', (m: string) => void> {
  const keepIt = (m: string): void => void messages.push(m);
  return { debug: () => {}, info: () => {}, warn: keepIt, error: keepIt };
}
// #endregion narration

// #region check
const failures: string[] = [];
let passed = 0;

/** States a claim of the chapter; a false one is reported and makes the exit code 1. */
export function check(condition: unknown, message: string): boolean {
  if (condition) {
    passed++;
    console.log(`  ✓ ${message}`);
    return true;
  }
  failures.push(message);
  process.exitCode = 1;
  console.log(`  ✗ CHECK FAILED: ${message}`);
  return false;
}
// #endregion check

// #region child
/** A child node process whose stdout lines are collected as they arrive. */
export interface ChildLines {
  readonly process: ChildProcess;
  readonly lines: string[];
  /** Resolves once `ready(lines)` holds; rejects on timeout or when the child exits first. */
  waitFor(ready: (lines: readonly string[]) => boolean, timeoutMs: number): Promise<void>;
  /** Sends `signal` and resolves when the child has exited and its stdout is drained. */
  kill(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `node script ...args`, with stderr passed through. */
export function spawnNode(script: string, args: readonly string[]): ChildLines {
  const child = spawn(process.execPath, [script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const listeners = new Set<() => void>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const l of listeners) l();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  return {
    process: child,
    lines,
    waitFor(ready, timeoutMs) {
      return new Promise((resolve, reject) => {
        const done = (err?: Error): void => {
          listeners.delete(test);
          clearTimeout(timer);
          if (err) reject(err);
          else resolve();
        };
        const test = (): void => {
          if (ready(lines)) done();
        };
        const timer = setTimeout(
          () => done(new Error(`the child said nothing ready within ${timeoutMs} ms`)),
          timeoutMs,
        );
        listeners.add(test);
        void exited.then(() => done(new Error('the child exited before it was ready')));
        test();
      });
    },
    kill(signal) {
      child.kill(signal);
      return exited;
    },
  };
}
// #endregion child
