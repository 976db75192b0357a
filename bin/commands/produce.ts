/**
 * `samsa produce --topic T`: one record per line of stdin (Kafka's
 * kafka-console-producer.sh), sent as they come, then a summary: how many
 * went to which partition and offsets. With `--key-separator S` the text
 * before the first S is the key; a line without S gets no key.
 * Exit status: 0 all sent, 1 a send failed, 2 usage error.
 */
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { Producer, type RecordMetadata, stringSerde } from '../../src/client/index.js';
import { type CommandModule, UsageError } from '../command.js';
import { brokerAddress, brokerOption, clientAction, integer } from './client-common.js';

interface ProduceOptions {
  broker: string;
  topic: string;
  keySeparator?: string;
  acks: string;
  partition?: string;
  lingerMs?: string;
}

/** Sends not yet acknowledged before reading more of stdin. */
const MAX_OUTSTANDING = 1000;

export const produce: CommandModule = {
  register(program: Command): void {
    brokerOption(program.command('produce'))
      .description('send each line of stdin as a record')
      .requiredOption('--topic <topic>', 'the topic')
      .option('--key-separator <s>', 'split each line at the first <s> into key and value')
      .option('--acks <acks>', '0, 1 or all: how much of a write to wait for', 'all')
      .option('--partition <n>', 'send every record to this partition')
      .option('--linger-ms <ms>', 'wait this long to fill a batch', '0')
      .addHelpText(
        'after',
        '\nExamples:' +
          "\n  printf 'a\\nb\\n' | samsa produce --topic page-views" +
          "\n  echo 'user-1:clicked' | samsa produce --topic page-views --key-separator :",
      )
      .action((o: ProduceOptions) => runProduce(o));
  },
};

async function runProduce(o: ProduceOptions): Promise<void> {
  const acks =
    o.acks === 'all' || o.acks === '-1'
      ? 'all'
      : o.acks === '1'
        ? 1
        : o.acks === '0'
          ? 0
          : undefined;
  if (acks === undefined) throw new UsageError(`--acks must be 0, 1 or all, got '${o.acks}'`);
  if (o.keySeparator === '') throw new UsageError('--key-separator must not be empty');
  const partition = integer(o.partition, '--partition');
  const producer = new Producer<string, string>({
    brokers: brokerAddress(o.broker),
    acks,
    lingerMs: integer(o.lingerMs, '--linger-ms'),
    keySerializer: stringSerde.serialize,
    valueSerializer: stringSerde.serialize,
    reconnectBackoffMaxMs: 200,
    deliveryTimeoutMs: 30_000,
    maxBlockMs: 30_000,
  });
  const summary = new Map<number, { count: number; first: number; last: number }>();
  const outstanding = new Set<Promise<void>>();
  let failure: unknown;
  const note = (meta: RecordMetadata) => {
    const s = summary.get(meta.partition) ?? { count: 0, first: meta.offset, last: meta.offset };
    s.count += 1;
    s.first = Math.min(s.first, meta.offset);
    s.last = Math.max(s.last, meta.offset);
    summary.set(meta.partition, s);
  };
  await clientAction(async () => {
    try {
      for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
        if (failure !== undefined) break;
        const sep = o.keySeparator === undefined ? -1 : line.indexOf(o.keySeparator);
        const record = {
          key: sep < 0 ? null : line.slice(0, sep),
          value: sep < 0 ? line : line.slice(sep + o.keySeparator!.length),
          ...(partition === undefined ? {} : { partition }),
        };
        const sent: Promise<void> = producer
          .send(o.topic, [record])
          .then(([meta]) => note(meta!))
          .catch((err: unknown) => void (failure ??= err))
          .finally(() => outstanding.delete(sent));
        outstanding.add(sent);
        if (outstanding.size >= MAX_OUTSTANDING) await Promise.race(outstanding);
      }
      await Promise.all(outstanding);
    } finally {
      await producer.close().catch(() => undefined);
    }
    if (failure !== undefined) throw failure;
  }).finally(() => printSummary(o.topic, summary, acks));
}

function printSummary(
  topic: string,
  summary: Map<number, { count: number; first: number; last: number }>,
  acks: 0 | 1 | 'all',
): void {
  const total = [...summary.values()].reduce((n, s) => n + s.count, 0);
  process.stdout.write(`Sent ${total} record${total === 1 ? '' : 's'} to ${topic}`);
  if (acks === 0 || total === 0) {
    process.stdout.write(acks === 0 && total > 0 ? ' (acks=0: offsets unknown)\n' : '\n');
    return;
  }
  process.stdout.write(':\n');
  for (const [partition, s] of [...summary].sort((a, b) => a[0] - b[0]))
    process.stdout.write(`  partition ${partition}: ${s.count} at offsets ${s.first}..${s.last}\n`);
}
