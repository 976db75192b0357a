/** Flags of `npm run bench -- produce` and `-- consume`: the help text and their parsing. */
import { parseArgs } from 'node:util';
import { KiB, UsageError, parseIntFlag } from './stats.js';

export const HELP = (name: string): string => `usage: npm run bench -- ${name} [flags]
  --records N          records to produce, then consume (default 1,000,000; 1m works too)
  --record-bytes R     key + value bytes per record (default 100)
  --key-bytes K        of which key bytes (default 10)
  --batch-size B       producer batch.size, and the baseline's chunk size (default 16384; 16k works)
  --linger-ms MS       producer linger.ms (default 0)
  --max-in-flight N    producer max.in.flight.requests.per.connection, and the baseline's window (default 5)
  --send-records N     records per producer.send call (default 1000)
  --sends-in-flight N  producer.send calls outstanding at once (default 64)
  --round-trips N      sequential one-record sends timed, and as many sink round trips (default 10,000)
  --phases LIST        which phases to run, comma-separated (default produce,plain,consume,rtt)
  --warmup N           records produced to a warm-up topic first (default 50,000; 0 for none)
  --dir DIR            broker data dir and sink file under DIR (default: the OS temp dir)
  --keep               keep the files written (default: removed at the end)
  --broker-node-args=S node flags for the broker process, e.g. --broker-node-args="--cpu-prof --cpu-prof-dir=/tmp/prof"
  --json               print one JSON line with every figure instead of the table
  --check              exit 1 when a target is missed`;

export const PHASES = ['produce', 'plain', 'consume', 'rtt'] as const;
export type Phase = (typeof PHASES)[number];

export interface Options {
  records: number;
  recordBytes: number;
  keyBytes: number;
  batchSize: number;
  lingerMs: number;
  maxInFlight: number;
  sendRecords: number;
  sendsInFlight: number;
  roundTrips: number;
  warmup: number;
  phases: ReadonlySet<Phase>;
  dir: string | undefined;
  keep: boolean;
  brokerNodeArgs: string[];
  json: boolean;
  check: boolean;
}

export function parseOptions(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      records: { type: 'string' },
      'record-bytes': { type: 'string' },
      'key-bytes': { type: 'string' },
      'batch-size': { type: 'string' },
      'linger-ms': { type: 'string' },
      'max-in-flight': { type: 'string' },
      'send-records': { type: 'string' },
      'sends-in-flight': { type: 'string' },
      'round-trips': { type: 'string' },
      warmup: { type: 'string' },
      phases: { type: 'string' },
      dir: { type: 'string' },
      keep: { type: 'boolean', default: false },
      'broker-node-args': { type: 'string' },
      json: { type: 'boolean', default: false },
      check: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return undefined;
  const int = (name: string, fallback: number, min = 1, bytes = false): number =>
    parseIntFlag(name, (values as Record<string, unknown>)[name] as string | undefined, {
      fallback,
      min,
      bytes,
    });
  const o: Options = {
    records: int('records', 1_000_000),
    recordBytes: int('record-bytes', 100, 1, true),
    keyBytes: int('key-bytes', 10, 0, true),
    batchSize: int('batch-size', 16 * KiB, 1, true),
    lingerMs: int('linger-ms', 0, 0),
    maxInFlight: int('max-in-flight', 5),
    sendRecords: int('send-records', 1000),
    sendsInFlight: int('sends-in-flight', 64),
    roundTrips: int('round-trips', 10_000),
    warmup: int('warmup', 50_000, 0),
    phases: new Set(
      (values.phases ?? PHASES.join(',')).split(',').map((p) => {
        if (!(PHASES as readonly string[]).includes(p))
          throw new UsageError(`--phases takes ${PHASES.join(', ')}; not '${p}'`);
        return p as Phase;
      }),
    ),
    dir: values.dir,
    keep: values.keep,
    brokerNodeArgs: (values['broker-node-args'] ?? '').split(/\s+/).filter((s) => s !== ''),
    json: values.json,
    check: values.check,
  };
  if (o.phases.has('consume') && !o.phases.has('produce'))
    throw new UsageError('--phases: consume needs produce');
  if (o.keyBytes > o.recordBytes) throw new UsageError('--key-bytes cannot exceed --record-bytes');
  return o;
}
