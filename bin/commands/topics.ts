/**
 * `samsa topics create|list|describe|delete`: Kafka's kafka-topics.sh, over
 * the admin client. Exit status: 0 done, 1 the broker refused or could not
 * be reached, 2 usage error.
 */
import type { Command } from 'commander';
import type { CommandModule } from '../command.js';
import { brokerOption, collect, configPairs, integer, withAdmin } from './client-common.js';

interface CommonOptions {
  broker: string;
}

const out = (line = '') => process.stdout.write(`${line}\n`);

export const topics: CommandModule = {
  register(program: Command): void {
    const parent = program
      .command('topics')
      .description('create, list, describe and delete topics on a broker')
      .addHelpText(
        'after',
        '\nExamples:' +
          '\n  samsa topics create page-views --partitions 3 --config retention.ms=86400000' +
          '\n  samsa topics list' +
          '\n  samsa topics describe page-views --json' +
          '\n  samsa topics delete page-views',
      );

    brokerOption(parent.command('create'))
      .description('create a topic')
      .argument('<name>', 'the topic')
      .option('--partitions <n>', "partition count (default: the broker's num.partitions)")
      .option('--replication-factor <n>', "replicas per partition (default: the broker's)")
      .option('--config <key=value>', 'a topic config, Kafka names (repeat for more)', collect)
      .action(
        (
          name: string,
          o: CommonOptions & { partitions?: string; replicationFactor?: string; config?: string[] },
        ) =>
          withAdmin(o, async (admin) => {
            const created = await admin.createTopic({
              name,
              numPartitions: integer(o.partitions, '--partitions', 1) ?? -1,
              replicationFactor: integer(o.replicationFactor, '--replication-factor', 1) ?? -1,
              configs: configPairs(o.config),
            });
            const n = created.numPartitions;
            out(`Created topic ${name} with ${n} partition${n === 1 ? '' : 's'}.`);
          }),
      );

    brokerOption(parent.command('list'))
      .description('list the topics, one per line')
      .action((o: CommonOptions) =>
        withAdmin(o, async (admin) => {
          for (const name of await admin.listTopics()) out(name);
        }),
      );

    brokerOption(parent.command('describe'))
      .description('partitions, leaders and configs of a topic')
      .argument('<name>', 'the topic')
      .option('--json', 'print one JSON object')
      .action((name: string, o: CommonOptions & { json?: boolean }) =>
        withAdmin(o, async (admin) => {
          const [topic] = await admin.describeTopics([name]);
          const configs = await admin.describeConfigs({ type: 'topic', name });
          const set = configs.filter((c) => !c.isDefault);
          if (o.json) {
            const all = Object.fromEntries(configs.map((c) => [c.name, c.value]));
            out(JSON.stringify({ ...topic, configs: all }));
            return;
          }
          const shown = set.map((c) => `${c.name}=${c.value ?? ''}`).join(',');
          out(`Topic: ${name}\tPartitionCount: ${topic!.partitions.length}\tConfigs: ${shown}`);
          for (const p of topic!.partitions) {
            out(
              `\tTopic: ${name}\tPartition: ${p.partition}\tLeader: ${p.leader}` +
                `\tReplicas: ${p.replicas.join(',')}\tIsr: ${p.isr.join(',')}`,
            );
          }
        }),
      );

    brokerOption(parent.command('delete'))
      .description('delete a topic and all its records')
      .argument('<name>', 'the topic')
      .action((name: string, o: CommonOptions) =>
        withAdmin(o, async (admin) => {
          await admin.deleteTopic(name);
          out(`Deleted topic ${name}.`);
        }),
      );
  },
};
