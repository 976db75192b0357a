/**
 * `samsa topics create|list|describe|delete`: Kafka's kafka-topics.sh, over
 * the admin client. `create` sends -1 for what is not given (the broker's
 * `num.partitions`, `default.replication.factor`); `describe` adds the HW
 * and each replica's log end offset (layout: topics-describe.ts). Exit
 * status: 0 done, 1 the broker refused or could not be reached, 2 usage error.
 */
import type { Command } from 'commander';
import type { CommandModule } from '../command.js';
import { brokerOption, collect, configPairs, integer, withAdmin } from './client-common.js';
import { describeTopicJson, describeTopicLines } from './topics-describe.js';

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
          '\n  samsa topics create orders --partitions 6 --replication-factor 3' +
          '\n  samsa topics list' +
          '\n  samsa topics describe page-views --json' +
          '\n  samsa topics delete page-views',
      );

    brokerOption(parent.command('create'))
      .description('create a topic')
      .argument('<name>', 'the topic')
      .option('--partitions <n>', "partition count (default: the broker's num.partitions)")
      .option(
        '--replication-factor <n>',
        "replicas per partition (default: the broker's default.replication.factor)",
      )
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
      .description(
        'partitions, leaders, replicas and configs of a topic, ' +
          "with the high watermark and each replica's log end offset",
      )
      .argument('<name>', 'the topic')
      .option('--json', 'print one JSON object')
      .action((name: string, o: CommonOptions & { json?: boolean }) =>
        withAdmin(o, async (admin) => {
          const [topic] = await admin.describeReplicas([name]);
          const configs = await admin.describeConfigs({ type: 'topic', name });
          if (o.json) out(JSON.stringify(describeTopicJson(topic!, configs)));
          else for (const line of describeTopicLines(topic!, configs)) out(line);
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
