/**
 * Benchmark dispatcher: `npm run bench -- <name> [flags]`.
 *
 * Each benchmark is a module under bench/ exporting `run(argv)`; adding one
 * (produce, consume, compaction, groups, replication) is one entry in
 * BENCHMARKS below. Modules are imported lazily, so a benchmark only pays for
 * what it loads. `npm run bench -- <name> --help` prints that benchmark's flags.
 *
 * Exit status: 0 on success, 1 when a benchmark fails (or, with --check, misses
 * a target), 2 on a bad command line (unknown benchmark, bad flag).
 */
import { UsageError } from './stats.js';

/** What a benchmark module provides. `run` may set process.exitCode. */
export interface BenchModule {
  run(argv: string[]): Promise<void>;
}

interface BenchEntry {
  summary: string;
  load: () => Promise<BenchModule>;
}

const BENCHMARKS: Readonly<Record<string, BenchEntry>> = {
  log: {
    summary: 'storage engine: encode, decode, append+fsync, sequential read vs plain fs',
    load: () => import('./log.js'),
  },
  produce: {
    summary:
      'client → broker process: records/s produced (acks=1), round trip p50/p99, vs plain TCP → file',
    load: () => import('./produce.js'),
  },
  consume: {
    summary: 'the same run as produce; the figure to read is records/s consumed from the beginning',
    load: () => import('./consume.js'),
  },
  compaction: {
    summary: 'cleaner: MiB/s cleaning a 1 GiB log (10% live), append p99 with and without a pass',
    load: () => import('./compaction.js'),
  },
  groups: {
    summary:
      'consumer groups: SIGKILL to takeover with 45 s and 1 s sessions; a group of 1, 2, 4 member processes reading 8 partitions',
    load: () => import('./groups.js'),
  },
  replication: {
    summary:
      'three broker processes: produce records/s with RF 1 and 3, acks 1 and all; leader SIGKILL to the first acked record',
    load: () => import('./replication.js'),
  },
};

function usage(): string {
  const names = Object.keys(BENCHMARKS);
  const width = Math.max(...names.map((n) => n.length));
  const lines = names.map((n) => `  ${n.padEnd(width)}  ${BENCHMARKS[n]!.summary}`);
  return [
    'usage: npm run bench -- <benchmark> [flags]   (flags: npm run bench -- <benchmark> --help)',
    '',
    'benchmarks:',
    ...lines,
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    process.stderr.write(usage() + '\n');
    return name === undefined ? 2 : 0;
  }
  const entry = Object.hasOwn(BENCHMARKS, name) ? BENCHMARKS[name] : undefined;
  if (!entry) {
    process.stderr.write(`unknown benchmark '${name}'\n\n${usage()}\n`);
    return 2;
  }
  try {
    const module = await entry.load();
    await module.run(rest);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof UsageError || isParseArgsError(err)) {
      process.stderr.write(`${name}: ${(err as Error).message}\n`);
      return 2;
    }
    throw err;
  }
}

/** node:util parseArgs throws TypeErrors with ERR_PARSE_ARGS_* codes for unknown or malformed flags. */
function isParseArgsError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

main(process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status;
  },
  (err: unknown) => {
    process.stderr.write(
      `bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = 1;
  },
);
