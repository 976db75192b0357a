/**
 * One member of a consumer group, as its own process, for
 * `npm run bench -- groups`:
 *
 *   node dist/bench/groups-member.js --broker H:P --topic T --group G --name N
 *        [--session-timeout-ms MS] [--hold] [--trace] [--assign P,P,...]
 *
 * It counts the records it reads and never prints them; on stdout, one line
 * per fact, each with the time it happened (ms since the epoch, sub-ms, the
 * same clock in every process of the machine):
 *   assigned <t> <p,p,...>    after each rebalance: the partitions it reads now
 *   count <t> <n>             at most every 50 ms: records read so far, t of the last one
 *                             (stamped when the burst of buffered records ends, not per
 *                             record: a clock read per record cost ~5% of the read time)
 *   rec <t> <partition> <offset>   every record (--trace only: for low rates)
 * With --hold it pauses every partition it is given until a line `go` comes
 * on stdin, so that N members can join first and all start at once.
 * With --assign it joins no group: it is assigned those partitions and reads
 * them from the beginning (the baseline the group's figures compare with).
 * SIGTERM: it closes the consumer (commit, leave) and exits 0.
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { Consumer, type TopicPartition } from '../src/client/index.js';

const { values: o } = parseArgs({
  options: {
    broker: { type: 'string' },
    topic: { type: 'string' },
    group: { type: 'string' },
    name: { type: 'string', default: 'member' },
    'session-timeout-ms': { type: 'string', default: '45000' },
    hold: { type: 'boolean', default: false },
    trace: { type: 'boolean', default: false },
    assign: { type: 'string' },
  },
});

const clock = (): number => performance.timeOrigin + performance.now();
const say = (line: string): void => void process.stdout.write(`${line}\n`);

const session = Number(o['session-timeout-ms']);
let go = !o.hold;
let count = 0;
/** `count` and the time of its last record, stamped together (see `stamp`). */
let stamped = 0;
let last = 0;
let stamping = false;
/**
 * Runs once the records already buffered have been read (setImmediate comes
 * after the microtasks that hand them out), so `last` is the time of the last
 * of them to within microseconds, for one clock read per burst.
 */
const stamp = (): void => {
  stamping = false;
  last = clock();
  stamped = count;
};
const consumer = new Consumer({
  brokers: o.broker!,
  clientId: o.name,
  groupId: o.assign === undefined ? o.group! : undefined,
  autoOffsetReset: 'earliest',
  sessionTimeoutMs: session,
  heartbeatIntervalMs: Math.max(1, Math.min(3000, Math.floor(session / 3))),
  autoCommitIntervalMs: 1000,
  fetchMaxWaitMs: 100,
  onPartitionsAssigned: (tps: TopicPartition[]) => {
    if (!go) consumer.pause(tps);
    say(`assigned ${clock().toFixed(1)} ${tps.map((tp) => tp.partition).join(',')}`);
  },
});
if (o.assign === undefined) consumer.subscribe([o.topic!]);
else {
  const tps = o.assign.split(',').map((p) => ({ topic: o.topic!, partition: Number(p) }));
  consumer.assign(tps);
  consumer.seekToBeginning();
  if (!go) consumer.pause(tps);
  say(`assigned ${clock().toFixed(1)} ${o.assign}`);
}

if (o.hold)
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim() !== 'go') return;
    go = true;
    consumer.resume(consumer.assignment());
  });

let reported = 0;
const report = setInterval(() => {
  if (stamped !== reported) say(`count ${last.toFixed(1)} ${(reported = stamped)}`);
}, 50);

const stop = (): void => void consumer.close();
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

for await (const record of consumer) {
  count++;
  if (o.trace) say(`rec ${clock().toFixed(1)} ${record.partition} ${record.offset}`);
  if (!stamping) {
    stamping = true;
    setImmediate(stamp);
  }
}
clearInterval(report);
if (stamped !== count) stamp();
say(`count ${last.toFixed(1)} ${count}`);
process.exit(0);
