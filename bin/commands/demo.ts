/**
 * `samsa demo`: what `npm start` runs until the broker exists. Appends a
 * thousand page-view records to a log under the data directory (it grows on
 * every run, and each run reopens and recovers it first), shows what is on
 * disk, and says what to try next.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { Log, consoleLogger } from '../../src/log/index.js';
import type { CommandModule } from '../command.js';

interface DemoOptions {
  dataDir: string;
  records: string;
}

export const demo: CommandModule = {
  register(program: Command): void {
    program
      .command('demo')
      .description('append records to a demo log, show its segments, and say what to try next')
      .option('--data-dir <dir>', 'where the demo log lives', './samsa-data')
      .option('--records <n>', 'how many records to append', '1000')
      .action(async (options: DemoOptions) => {
        process.exitCode = await runDemo(options);
      });
  },
};

async function runDemo(options: DemoOptions): Promise<number> {
  const count = Number(options.records);
  if (!Number.isSafeInteger(count) || count < 1) {
    process.stderr.write(`samsa demo: --records must be a positive integer\n`);
    return 2;
  }
  const dir = join(options.dataDir, 'page-views-0');
  const log = await Log.open(
    dir,
    { 'segment.bytes': 16 * 1024 },
    { logger: consoleLogger('info') },
  );
  const first = log.logEndOffset;
  const perBatch = 100;
  for (let done = 0; done < count; done += perBatch) {
    const records = [];
    for (let i = 0; i < Math.min(perBatch, count - done); i++) {
      const offset = log.logEndOffset + i;
      records.push({
        key: Buffer.from(`user-${offset % 7}`),
        value: Buffer.from(JSON.stringify({ event: 'page-viewed', page: `/p/${offset % 13}` })),
      });
    }
    log.append(records);
    if (process.stderr.isTTY) {
      process.stderr.write(`\rappended ${Math.min(done + perBatch, count)} of ${count} records`);
    }
  }
  if (process.stderr.isTTY) process.stderr.write('\n');
  await log.flush();
  const out = (line = '') => process.stdout.write(line + '\n');
  out(`Appended offsets ${first}..${log.logEndOffset - 1} to the log in ${dir}.`);
  out(
    `It now holds offsets [${log.logStartOffset}, ${log.logEndOffset}) in ${log.segments.length} segment(s):`,
  );
  out('  base offset  last offset      bytes  index entries  file');
  for (const s of log.segments) {
    out(
      `  ${String(s.baseOffset).padStart(11)}  ${String(s.lastOffset).padStart(11)}  ` +
        `${String(s.size).padStart(9)}  ${String(s.indexEntries).padStart(13)}  ${s.path}`,
    );
  }
  await log.close();
  out();
  out('What next:');
  const next: [string, string][] = [
    [`npx samsa dump-log ${dir} --index`, 'batches and index entries, checked'],
    ['npm run book -- 04-the-log', 'the log chapter, run and explained'],
    ['npm run bench -- log', 'the log against plain fs'],
    ['npm test', 'every test, crash tests included'],
  ];
  const width = Math.max(...next.map(([command]) => command.length));
  for (const [command, what] of next) out(`  ${command.padEnd(width)}   ${what}`);
  out('Run npm start again: the log reopens, recovers and grows. The TCP broker comes next.');
  return 0;
}
