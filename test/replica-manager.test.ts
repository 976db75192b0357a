/**
 * The replica manager on three brokers in one process (replica-support.ts):
 * roles from the controller's images, followers that converge to their
 * leader byte for byte, the HW over the ISR, ISR shrink and expansion
 * through AlterPartition, acks=all, a leader change that leaves the old
 * leader with a divergent tail, and what a follower answers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, type RequestBody } from '../src/protocol/index.js';
import { batch, fetchBody, produceBody, recordingLogger, values } from './broker-support.js';
import { TestCluster, logBytes } from './replica-support.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

async function start(o: Parameters<typeof TestCluster.start>[0] = {}) {
  cluster = await TestCluster.start(o);
  return cluster;
}

function produce(
  c: TestCluster,
  id: number,
  vals: string[],
  o: { acks?: 0 | 1 | -1; timeoutMs?: number; topic?: string } = {},
) {
  const body = { ...produceBody(o.topic ?? 't', 0, batch(vals), o.acks ?? 1) };
  body.timeoutMs = o.timeoutMs ?? 30_000;
  return c.call(id, 'Produce', body).then((r) => r.topics[0]!.partitions[0]!);
}

function fetchFrom(c: TestCluster, id: number, offset: number, replicaId?: number) {
  const body: RequestBody<'Fetch'> = fetchBody('t', 0, offset);
  return c
    .call(id, 'Fetch', replicaId === undefined ? body : { ...body, replicaId })
    .then((r) => r.topics[0]!.partitions[0]!);
}

/** Until every replica's log is the leader's, byte for byte, and the HWs agree. */
async function converged(c: TestCluster, ids: number[], leader: number, topic = 't') {
  const lead = c.partition(leader, topic);
  await c.until(
    () =>
      ids.every((id) => {
        const p = c.partition(id, topic);
        return p.logEndOffset === lead.logEndOffset && p.highWatermark === lead.highWatermark;
      }) && lead.highWatermark === lead.logEndOffset,
    'the replicas to converge',
  );
  for (const id of ids) expect(logBytes(c.partition(id, topic))).toEqual(logBytes(lead));
}

describe('roles from the image', () => {
  it('the preferred replica leads, the others follow and converge byte for byte', async () => {
    const c = await start();
    await c.createTopic('t', [1, 2, 3]);
    expect(c.registration('t')).toMatchObject({ leader: 1, replicas: [1, 2, 3], isr: [1, 2, 3] });
    expect([1, 2, 3].map((id) => c.partition(id, 't').role)).toEqual([
      'leader',
      'follower',
      'follower',
    ]);
    for (let i = 0; i < 20; i++)
      expect((await produce(c, 1, [`a${i}`, `b${i}`])).errorCode).toBe(0);
    await converged(c, [2, 3], 1);
    expect(c.partition(2, 't').logEndOffset).toBe(40);
    // The followers' batches keep the leader's offsets and epochs.
    expect(c.partition(3, 't').log.epochs.latestEpoch).toBe(0);
  });

  it('over TCP: followers fetch with client Connections and converge', async () => {
    const c = await start({ wire: true });
    await c.createTopic('t', [1, 2, 3]);
    for (let i = 0; i < 10; i++) await produce(c, 1, [`a${i}`]);
    expect((await produce(c, 1, ['last'], { acks: -1 })).errorCode).toBe(0);
    await converged(c, [2, 3], 1);
    expect(c.partition(3, 't').logEndOffset).toBe(11);
  });

  it('a topic this broker holds no replica of is not created here; produce and fetch say where to go', async () => {
    const c = await start();
    await c.createTopic('t', [1, 2]);
    expect(c.node(3).broker.topics.get('t')).toBeUndefined();
    expect((await produce(c, 3, ['x'])).errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    expect((await fetchFrom(c, 3, 0)).errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
  });

  it('produce auto-creates a missing topic through the controller', async () => {
    const c = await start();
    const answer = await produce(c, 3, ['x'], { topic: 'auto' });
    const registration = c.registration('auto');
    expect(registration.replicas).toHaveLength(1); // default.replication.factor
    const held = registration.leader === 3;
    expect(answer.errorCode).toBe(held ? 0 : ErrorCode.NOT_LEADER_OR_FOLLOWER);
    expect(c.node(3).broker.topics.get('auto') !== undefined).toBe(held);
  });

  it('a follower refuses produce and consumer fetches: NOT_LEADER_OR_FOLLOWER', async () => {
    const c = await start();
    await c.createTopic('t', [1, 2, 3]);
    await produce(c, 1, ['a']);
    await converged(c, [2], 1);
    expect((await produce(c, 2, ['x'])).errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    expect((await produce(c, 2, ['x'], { acks: -1 })).errorCode).toBe(
      ErrorCode.NOT_LEADER_OR_FOLLOWER,
    );
    expect((await fetchFrom(c, 2, 0)).errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    expect((await fetchFrom(c, 2, 0, 3)).errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    expect(c.partition(2, 't').logEndOffset).toBe(1);
  });

  it('the leader refuses a fetch from a broker that is not an assigned replica', async () => {
    const c = await start({ brokers: 3 });
    await c.createTopic('t', [1, 2]);
    const withEpoch = { ...fetchBody('t', 0, 0), replicaId: 3 };
    withEpoch.topics[0]!.partitions[0]!.currentLeaderEpoch = 0;
    const a = await c.call(1, 'Fetch', withEpoch);
    expect(a.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.UNKNOWN_LEADER_EPOCH);
    expect((await fetchFrom(c, 1, 0, 3)).errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    expect(c.partition(1, 't').followers.has(3)).toBe(false);
  });

  it('a config change in the image reaches every replica; the log keeps only log configs', async () => {
    const c = await start();
    await c.createTopic('t', [1, 2, 3]);
    for (let i = 0; i < 5; i++) await produce(c, 1, [`a${i}`]);
    await c.event({
      type: 'AlterTopicConfigs',
      topic: 't',
      configs: { 'segment.bytes': '200000', 'min.insync.replicas': '3' },
    });
    for (const id of [1, 2, 3]) {
      expect(c.node(id).broker.topics.get('t')!.configs).toEqual({ 'segment.bytes': '200000' });
      expect(c.partition(id, 't').minInsyncReplicas).toBe(3);
    }
    expect((await produce(c, 1, ['b'], { acks: -1 })).errorCode).toBe(0);
    await converged(c, [2, 3], 1);
  });

  it('a deleted topic is closed and removed on every replica', async () => {
    const c = await start();
    await c.createTopic('t', [1, 2, 3]);
    await produce(c, 1, ['a']);
    await converged(c, [2, 3], 1);
    await c.event({ type: 'DeleteTopic', name: 't' });
    for (const id of [1, 2, 3]) expect(c.node(id).broker.topics.get('t')).toBeUndefined();
  });
});

describe('the high watermark and acks=all', () => {
  it('the HW waits for every ISR member; acks=all answers once it passes the batch', async () => {
    const c = await start();
    await c.createTopic('t', [1, 2, 3]);
    const answer = await produce(c, 1, ['a', 'b'], { acks: -1 });
    expect(answer).toMatchObject({ errorCode: 0, baseOffset: 0 });
    const leader = c.partition(1, 't');
    expect(leader.highWatermark).toBe(2);
    for (const id of [2, 3]) expect(c.partition(id, 't').logEndOffset).toBe(2);
  });

  it('a consumer reads only below the HW, and a waiting consumer is woken when it moves', async () => {
    const c = await start();
    await c.createTopic('t', [1, 2, 3]);
    c.cut.add(3); // the HW now waits for broker 3
    await produce(c, 1, ['a']);
    const leader = c.partition(1, 't');
    expect(leader.highWatermark).toBe(0);
    expect((await fetchFrom(c, 1, 0)).records.length).toBe(0);
    const body = { ...fetchBody('t', 0, 0, { maxWaitMs: 60_000, minBytes: 1 }) };
    const waiting = c.call(1, 'Fetch', body);
    c.cut.delete(3);
    const got = (await waiting).topics[0]!.partitions[0]!;
    expect(values(got.records)).toEqual(['a']);
    expect(got.highWatermark).toBe(1);
  });

  it('acks=all times out with REQUEST_TIMED_OUT while a stopped follower is still in the ISR', async () => {
    const c = await start({ lagMs: 10_000 });
    await c.createTopic('t', [1, 2, 3]);
    c.cut.add(3);
    const pending = produce(c, 1, ['a'], { acks: -1, timeoutMs: 500 });
    await c.until(() => c.partition(2, 't').logEndOffset === 1, 'broker 2 to copy the record');
    c.scheduler.advance(500);
    const answer = await pending;
    expect(answer.errorCode).toBe(ErrorCode.REQUEST_TIMED_OUT);
    expect(c.registration('t').isr).toEqual([1, 2, 3]);
    // The record is in the leader's log all the same (Kafka's behaviour too).
    expect(c.partition(1, 't').logEndOffset).toBe(1);
  });

  it('NOT_ENOUGH_REPLICAS before the append when the ISR is below min.insync.replicas', async () => {
    const c = await start({ lagMs: 1_000 });
    await c.createTopic('t', [1, 2, 3], { 'min.insync.replicas': '2' });
    expect(c.partition(1, 't').minInsyncReplicas).toBe(2);
    c.cut.add(2);
    c.cut.add(3);
    await produce(c, 1, ['a']); // a follower whose log ends where the leader's does is never behind
    c.scheduler.advance(1_600); // two ISR checks: both followers lag past 1000 ms
    await c.until(() => c.isr(1) === '1', 'the ISR to shrink');
    const answer = await produce(c, 1, ['a'], { acks: -1 });
    expect(answer.errorCode).toBe(ErrorCode.NOT_ENOUGH_REPLICAS);
    expect(c.partition(1, 't').logEndOffset).toBe(1);
    // acks=1 is not held to it.
    expect((await produce(c, 1, ['b'], { acks: 1 })).errorCode).toBe(0);
  });

  it('NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR shrinks below the minimum while waiting', async () => {
    const c = await start({ lagMs: 1_000 });
    await c.createTopic('t', [1, 2, 3], { 'min.insync.replicas': '2' });
    c.cut.add(2);
    c.cut.add(3);
    const pending = produce(c, 1, ['a'], { acks: -1, timeoutMs: 60_000 });
    c.scheduler.advance(1_600);
    const answer = await pending;
    expect(answer.errorCode).toBe(ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND);
    expect(c.registration('t').isr).toEqual([1]);
    expect(c.partition(1, 't').highWatermark).toBe(1);
  });

  it('acks=all answers NOT_LEADER_OR_FOLLOWER when leadership moves while it waits', async () => {
    const c = await start();
    await c.createTopic('t', [1, 2, 3]);
    c.cut.add(2);
    c.cut.add(3);
    const pending = produce(c, 1, ['a'], { acks: -1, timeoutMs: 60_000 });
    c.cut.delete(2);
    await c.event({ type: 'BrokerFenced', brokerId: 1 }); // broker 2 leads now; 1 hears of it
    const answer = await pending;
    expect(answer.errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
  });
});

describe('the ISR', () => {
  it('a follower stopped past replica.lag.time.max.ms is shrunk out, and rejoins once caught up', async () => {
    const logger = recordingLogger();
    const c = await start({ lagMs: 1_000, logger });
    await c.createTopic('t', [1, 2, 3]);
    await produce(c, 1, ['a']);
    await converged(c, [2, 3], 1);
    c.cut.add(3);
    await produce(c, 1, ['b']);
    await c.until(() => c.partition(2, 't').logEndOffset === 2, 'broker 2 to copy');
    c.scheduler.advance(1_600);
    await c.until(() => c.isr(1) === '1,2', 'broker 3 to leave the ISR');
    expect(c.registration('t').isr).toEqual([1, 2]);
    const leader = c.partition(1, 't');
    await c.until(() => leader.highWatermark === 2, 'the HW to pass broker 3');
    expect((await produce(c, 1, ['c'], { acks: -1 })).errorCode).toBe(0);
    // Back: it catches up, and its leader proposes it again.
    c.cut.delete(3);
    await c.push(c.node(3));
    await c.until(() => c.isr(1) === '1,2,3', 'broker 3 to rejoin');
    await converged(c, [2, 3], 1);
    const said = logger.lines.join('\n');
    expect(said).toMatch(/change the ISR of t-0 from \[1,2,3\] to \[1,2\]: broker 3 not caught up/);
    expect(said).toMatch(/to \[1,2,3\]: broker 3 has caught up/);
  });

  it('a proposal refused as stale waits for the next image, which settles it', async () => {
    const c = await start({ lagMs: 1_000 });
    await c.createTopic('t', [1, 2, 3]);
    const p = c.partition(1, 't');
    const proposal = p.proposeIsr([1, 2]);
    p.isrRefused(proposal, true); // say INVALID_UPDATE_VERSION: nothing else is proposed meanwhile
    expect(p.pendingIsr).toBe(proposal);
    expect(p.outOfSyncReplicas(c.scheduler.now() + 60_000, 1_000)).toBeUndefined();
    // The image that explains it: another change bumped the partition epoch.
    await c.event({
      type: 'AlterPartition',
      brokerId: 1,
      topic: 't',
      partition: 0,
      leaderEpoch: 0,
      partitionEpoch: 0,
      newIsr: [1, 3],
    });
    expect(p.pendingIsr).toBeUndefined();
    expect(p.isr).toEqual(new Set([1, 3]));
    // Any other refusal makes way for the next proposal at once.
    const again = p.proposeIsr([1]);
    p.isrRefused(again, false);
    expect(p.pendingIsr).toBeUndefined();
  });
});

describe('a restart', () => {
  it('serves nothing until the first image, then follows and catches up', async () => {
    const c = await start();
    await c.createTopic('t', [1, 2, 3]);
    for (let i = 0; i < 3; i++) await produce(c, 1, [`a${i}`]);
    await converged(c, [2, 3], 1);
    c.cut.add(3);
    await produce(c, 1, ['b']);
    await c.restart(3);
    const p = c.partition(3, 't');
    expect(p.role).toBe('none');
    expect(p.logEndOffset).toBe(3);
    expect((await produce(c, 3, ['x'])).errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    c.cut.delete(3);
    await c.push(c.node(3));
    expect(c.partition(3, 't').role).toBe('follower');
    await converged(c, [2, 3], 1);
  });
});

describe('the log start offset', () => {
  it("a follower behind the leader's log start is emptied and fetches from there; followers follow the log start", async () => {
    const logger = recordingLogger();
    const c = await start({ lagMs: 1_000, logger });
    c.cut.add(3); // before anything: not even an answer in flight reaches it
    await c.createTopic('t', [1, 2, 3]);
    for (let i = 0; i < 10; i++) await produce(c, 1, [`a${i}`]);
    await c.until(() => c.partition(2, 't').logEndOffset === 10, 'broker 2 to copy');
    c.scheduler.advance(1_600);
    await c.until(() => c.isr(1) === '1,2', 'broker 3 to leave the ISR');
    await c.until(() => c.partition(1, 't').highWatermark === 10, 'the HW');
    const deleted = await c.call(1, 'DeleteRecords', {
      topics: [{ name: 't', partitions: [{ partitionIndex: 0, offset: 8 }] }],
      timeoutMs: 1_000,
    });
    expect(deleted.topics[0]!.partitions[0]).toMatchObject({ errorCode: 0, lowWatermark: 8 });
    await produce(c, 1, ['b']); // an answer to broker 2 carries the new log start
    await c.until(
      () => c.partition(2, 't').logStartOffset === 8,
      'broker 2 to follow the log start',
    );
    c.cut.delete(3);
    await c.push(c.node(3));
    await c.until(() => c.isr(1) === '1,2,3', 'broker 3 to rejoin');
    await converged(c, [2, 3], 1);
    expect(c.partition(3, 't').logStartOffset).toBe(8);
    expect(values(logBytes(c.partition(3, 't')))).toEqual(['a8', 'a9', 'b']);
    expect(logger.lines.join('\n')).toMatch(/emptied t-0: the leader's log starts at 8/);
  });
});

describe('a leader change', () => {
  it('the old leader, cut off, appends a divergent tail with acks=1, then truncates it', async () => {
    const logger = recordingLogger();
    const c = await start({ logger });
    await c.createTopic('t', [1, 2, 3]);
    for (let i = 0; i < 5; i++) await produce(c, 1, [`a${i}`]);
    await converged(c, [2, 3], 1);
    // Broker 1 drops off the network: it still thinks it leads epoch 0.
    c.cut.add(1);
    await c.event({ type: 'BrokerFenced', brokerId: 1 });
    expect(c.registration('t')).toMatchObject({ leader: 2, leaderEpoch: 1, isr: [2, 3] });
    expect((await produce(c, 1, ['lost1', 'lost2'])).errorCode).toBe(0);
    expect(c.partition(1, 't').logEndOffset).toBe(7);
    for (const v of ['b0', 'b1', 'b2'])
      expect((await produce(c, 2, [v], { acks: -1 })).errorCode).toBe(0);
    expect(c.partition(2, 't').highWatermark).toBe(8);
    // Back: it learns it follows broker 2, truncates its tail and copies the new one.
    c.cut.delete(1);
    await c.event({ type: 'BrokerUnfenced', brokerId: 1 });
    expect(c.partition(1, 't').role).toBe('follower');
    await converged(c, [1, 3], 2);
    const all = await fetchFrom(c, 2, 0);
    expect(values(all.records)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'b0', 'b1', 'b2']);
    expect(logger.lines.join('\n')).toMatch(
      /truncated t-0 to 5: its tail diverged from the leader's epoch 0/,
    );
    await c.until(() => c.isr(2) === '1,2,3', 'broker 1 to rejoin');
  });

  it('a follower whose image lags is fenced by its new leader and waits for the image', async () => {
    const logger = recordingLogger();
    const c = await start({ logger });
    await c.createTopic('t', [1, 2, 3]);
    await produce(c, 1, ['a']);
    await c.event({ type: 'BrokerFenced', brokerId: 1 }); // broker 2 leads epoch 1
    await c.event({ type: 'BrokerUnfenced', brokerId: 1 });
    await c.until(() => c.isr(2) === '1,2,3', 'broker 1 to rejoin the ISR');
    c.deaf.add(3); // broker 3 still follows broker 2 at epoch 1
    await c.event({ type: 'ElectPreferredLeaders' }); // broker 1 leads epoch 2
    expect(c.registration('t')).toMatchObject({ leader: 1, leaderEpoch: 2 });
    await c.until(
      () => logger.lines.some((l) => /stopped fetching t-0 from broker 2: .* newer than 1/.test(l)),
      'broker 3 to be fenced',
    );
    expect(c.partition(3, 't').leaderEpoch).toBe(1);
    c.deaf.delete(3);
    await c.push(c.node(3));
    await produce(c, 1, ['b'], { acks: -1 });
    await converged(c, [2, 3], 1);
  });

  it('a fetch naming a newer leader epoch than the leader knows gets UNKNOWN_LEADER_EPOCH', async () => {
    const c = await start();
    await c.createTopic('t', [1, 2, 3]);
    const body = { ...fetchBody('t', 0, 0), replicaId: 2 };
    body.topics[0]!.partitions[0]!.currentLeaderEpoch = 1;
    const ahead = await c.call(1, 'Fetch', body);
    expect(ahead.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.UNKNOWN_LEADER_EPOCH);
  });
});
