/**
 * `samsa consume --topic T`: records to stdout, one per line (Kafka's
 * kafka-console-consumer.sh): the value as UTF-8, or `key<TAB>value` with
 * `--print-key`, or one JSON object per line with `--json`. Starts at the
 * end unless `--from-beginning` or `--offset N`; stops after
 * `--max-messages`, after `--timeout-ms` without a record, or on Ctrl-C.
 *
 * With `--group G` it joins consumer group G instead of reading every
 * partition: the group's members share the partitions, each starts where
 * the group committed (`--from-beginning` only where nothing is committed),
 * positions are committed as it goes (every `--auto-commit-interval-ms`)
 * and when it stops, and on SIGINT/SIGTERM it leaves the group at once so
 * the others take its partitions without waiting for its session to end.
 * Rebalances are reported on stderr.
 * Exit status: 0 stopped as asked, 1 the broker failed, 2 usage error.
 */
import type { Command } from 'commander';
import { Admin, Consumer, type TopicPartition } from '../../src/client/index.js';
import { type CommandModule, UsageError } from '../command.js';
import { brokerAddress, brokerOption, clientAction, collect, integer } from './client-common.js';
import { type GroupConsumeOptions, groupConsumerOptions } from './consume-group.js';

interface ConsumeOptions extends GroupConsumeOptions {
  broker: string;
  topic: string;
  partition?: string;
  fromBeginning?: boolean;
  offset?: string;
  maxMessages?: string;
  timeoutMs?: string;
  printKey?: boolean;
  json?: boolean;
}

export const consume: CommandModule = {
  register(program: Command): void {
    brokerOption(program.command('consume'))
      .description('print the records of a topic, one per line')
      .requiredOption('--topic <topic>', 'the topic')
      .option('--partition <n>', 'read this partition only (default: all)')
      .option('--from-beginning', 'start at the earliest record, not the end')
      .option('--offset <n>', 'start at this offset (needs --partition)')
      .option('--max-messages <n>', 'stop after this many records')
      .option('--timeout-ms <ms>', 'stop after this long without a record')
      .option('--print-key', 'print key<TAB>value')
      .option('--json', 'print each record as a JSON object')
      .option('--group <id>', 'join this consumer group: share the partitions, commit offsets')
      .option('--client-id <id>', 'the client id brokers (and groups describe) show')
      .option(
        '--session-timeout-ms <ms>',
        'with --group: silent this long, the member is dropped (default 45000)',
      )
      .option(
        '--heartbeat-interval-ms <ms>',
        'with --group: heartbeat this often (default: 3000, or a third of the session timeout if smaller)',
      )
      .option(
        '--auto-commit-interval-ms <ms>',
        'with --group: commit positions this often (default 5000)',
      )
      .option(
        '--assignor <name>',
        'with --group: range or roundrobin (repeat: preferred first; default range)',
        collect,
      )
      .addHelpText(
        'after',
        '\nExamples:' +
          '\n  samsa consume --topic page-views --from-beginning --max-messages 10' +
          '\n  samsa consume --topic page-views --partition 0 --offset 42 --json --timeout-ms 1000' +
          '\n  samsa consume --topic page-views --group dashboards --from-beginning',
      )
      .action((o: ConsumeOptions) => runConsume(o));
  },
};

async function runConsume(o: ConsumeOptions): Promise<void> {
  const brokers = brokerAddress(o.broker);
  const only = integer(o.partition, '--partition');
  const offset = integer(o.offset, '--offset');
  const max = integer(o.maxMessages, '--max-messages', 1);
  const timeoutMs = integer(o.timeoutMs, '--timeout-ms', 1);
  if (offset !== undefined && only === undefined)
    throw new UsageError('--offset needs --partition (an offset belongs to one partition)');
  if (offset !== undefined && o.fromBeginning)
    throw new UsageError('give --from-beginning or --offset, not both');
  const group = groupConsumerOptions(o, only !== undefined);
  let count = 0;
  await clientAction(async () => {
    const common = {
      brokers,
      clientId: o.clientId,
      reconnectBackoffMaxMs: 200,
      fetchMaxWaitMs: 200,
    };
    let consumer: Consumer;
    if (group !== undefined) {
      consumer = new Consumer({ ...common, ...group });
      consumer.subscribe([o.topic]);
    } else {
      const partitions = await partitionsOf(brokers, o.topic, only);
      consumer = new Consumer(common);
      consumer.assign(partitions);
      if (offset !== undefined) consumer.seek(partitions[0]!, offset);
      else if (o.fromBeginning) consumer.seekToBeginning();
      else consumer.seekToEnd();
    }
    let timer: NodeJS.Timeout | undefined;
    const stop = () => void consumer.close();
    const arm = () => {
      if (timeoutMs === undefined) return;
      clearTimeout(timer);
      timer = setTimeout(stop, timeoutMs);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      arm();
      for await (const record of consumer) {
        arm();
        const key = record.key === null ? 'null' : record.key.toString('utf8');
        const value = record.value === null ? 'null' : record.value.toString('utf8');
        let line: string;
        if (o.json) {
          line = JSON.stringify({
            topic: record.topic,
            partition: record.partition,
            offset: record.offset,
            timestamp: record.timestamp,
            key: record.key === null ? null : key,
            value: record.value === null ? null : value,
          });
        } else line = o.printKey ? `${key}\t${value}` : value;
        process.stdout.write(`${line}\n`);
        count += 1;
        if (max !== undefined && count >= max) break;
      }
    } finally {
      clearTimeout(timer);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      await consumer.close();
    }
  });
  process.stderr.write(`Processed a total of ${count} message${count === 1 ? '' : 's'}\n`);
}

async function partitionsOf(
  brokers: string,
  topic: string,
  only: number | undefined,
): Promise<TopicPartition[]> {
  const admin = new Admin({ brokers, reconnectBackoffMaxMs: 200 });
  try {
    const [described] = await admin.describeTopics([topic]);
    const all = described!.partitions.map((p) => p.partition);
    if (only !== undefined && !all.includes(only))
      throw new UsageError(`topic ${topic} has partitions 0..${all.length - 1}, not ${only}`);
    return (only === undefined ? all : [only]).map((partition) => ({ topic, partition }));
  } finally {
    await admin.close();
  }
}
