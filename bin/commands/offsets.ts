/**
 * `samsa offsets --topic T`: the earliest and latest offset of each
 * partition (Kafka's GetOffsetShell). The latest is the high watermark: the
 * offset the next record will get.
 */
import type { Command } from 'commander';
import { Admin } from '../../src/client/index.js';
import type { CommandModule } from '../command.js';
import { brokerAddress, brokerOption, clientAction } from './client-common.js';

interface OffsetsOptions {
  broker: string;
  topic: string;
  json?: boolean;
}

export const offsets: CommandModule = {
  register(program: Command): void {
    brokerOption(program.command('offsets'))
      .description('earliest and latest offset of each partition of a topic')
      .requiredOption('--topic <topic>', 'the topic')
      .option('--json', 'print one JSON object')
      .action(async (o: OffsetsOptions) => {
        const admin = new Admin({ brokers: brokerAddress(o.broker), reconnectBackoffMaxMs: 200 });
        try {
          await clientAction(async () => {
            const earliest = await admin.listOffsets(o.topic, 'earliest');
            const latest = await admin.listOffsets(o.topic, 'latest');
            const rows = earliest.map((e, i) => ({
              partition: e.partition,
              earliest: e.offset,
              latest: latest[i]!.offset,
            }));
            if (o.json) {
              process.stdout.write(`${JSON.stringify({ topic: o.topic, partitions: rows })}\n`);
              return;
            }
            process.stdout.write('PARTITION\tEARLIEST\tLATEST\n');
            for (const r of rows)
              process.stdout.write(`${r.partition}\t${r.earliest}\t${r.latest}\n`);
          });
        } finally {
          await admin.close();
        }
      });
  },
};
