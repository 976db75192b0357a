/**
 * acks=all, after the append: the answer waits until the partition's high
 * watermark passes the appended batch, so that every in-sync replica holds
 * it (Kafka's DelayedProduce in the produce purgatory). A wait is woken by
 * its partition (every HW move, role or ISR change and close calls the
 * partition's waiters) and checked at once, in the same turn; nothing polls.
 *
 * Outcomes, per partition (Kafka's checkEnoughReplicasReachOffset):
 * - the HW reached the batch and the ISR holds min.insync.replicas: done;
 * - the HW reached it but the ISR shrank below min.insync.replicas
 *   meanwhile: NOT_ENOUGH_REPLICAS_AFTER_APPEND (the records are in, but
 *   fewer copies than asked for);
 * - this broker stopped leading, or leads a later epoch (the batch may have
 *   been truncated away), or the partition closed: NOT_LEADER_OR_FOLLOWER;
 * - `timeoutMs` passed first: REQUEST_TIMED_OUT. The timer is the
 *   scheduler's, so tests move time by hand.
 */
import { type ErrorName, ProtocolError } from '../../protocol/index.js';
import { AcksAll, acksAllStatus } from '../../replication/high-watermark.js';
import type { Scheduler } from '../group/scheduler.js';
import type { Partition } from '../partition.js';

export interface AcksWait {
  readonly partition: Partition;
  /** One past the batch's last offset: the HW must reach it. */
  readonly requiredOffset: number;
  /** The leader epoch the batch was appended in. */
  readonly leaderEpoch: number;
}

/** Where a wait stands now: undefined while it must go on waiting. */
export function acksOutcome(wait: AcksWait): 'done' | ErrorName | undefined {
  const p = wait.partition;
  if (p.isClosed || p.role !== 'leader' || p.leaderEpoch !== wait.leaderEpoch)
    return 'NOT_LEADER_OR_FOLLOWER';
  const status = acksAllStatus(
    p.highWatermark,
    wait.requiredOffset,
    p.isr.size,
    p.minInsyncReplicas,
  );
  if (status === AcksAll.WAITING) return undefined;
  return status === AcksAll.DONE ? 'done' : 'NOT_ENOUGH_REPLICAS_AFTER_APPEND';
}

/** The message a failed wait answers with. */
export function acksMessage(wait: AcksWait, error: ErrorName, timeoutMs: number): string {
  const p = wait.partition;
  const where = `${p.name} (offsets below ${wait.requiredOffset})`;
  switch (error) {
    case 'REQUEST_TIMED_OUT':
      return `${where}: the in-sync replicas [${[...p.isr].join(',')}] did not all have the records within ${timeoutMs} ms`;
    case 'NOT_ENOUGH_REPLICAS_AFTER_APPEND':
      return `${where}: appended, but the ISR [${[...p.isr].join(',')}] is smaller than min.insync.replicas=${p.minInsyncReplicas}`;
    default:
      return `${where}: this broker no longer leads it at epoch ${wait.leaderEpoch}`;
  }
}

/**
 * Waits for every one of `waits`; resolves with one outcome per wait (undefined
 * for done, else the error's name). Never rejects. `register` lets the
 * caller end every wait at once (the ReplicaManager closing).
 */
export function awaitAcks(
  waits: readonly AcksWait[],
  timeoutMs: number,
  scheduler: Scheduler,
  register?: (stop: () => void) => () => void,
): Promise<(ErrorName | undefined)[]> {
  const outcomes: (ErrorName | undefined)[] = [];
  let open = 0;
  return new Promise((resolve) => {
    const unsubscribe: (() => void)[] = [];
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      cancel();
      unregister();
      for (const u of unsubscribe) u();
      resolve(outcomes);
    };
    const settle = (i: number, outcome: 'done' | ErrorName) => {
      if (finished || i in outcomes) return;
      outcomes[i] = outcome === 'done' ? undefined : outcome;
      if (--open === 0) finish();
    };
    const endAll = (error: ErrorName) => {
      waits.forEach((_, i) => settle(i, error));
      finish();
    };
    const cancel = scheduler.schedule(timeoutMs, () => endAll('REQUEST_TIMED_OUT'));
    const unregister = register?.(() => endAll('NOT_LEADER_OR_FOLLOWER')) ?? (() => {});
    // A settled slot is `in outcomes` (its value may be undefined: done); an open one is not.
    waits.forEach((wait, i) => {
      const now = acksOutcome(wait);
      if (now !== undefined) {
        outcomes[i] = now === 'done' ? undefined : now;
        return;
      }
      open++;
      unsubscribe.push(
        wait.partition.onChange(() => {
          const outcome = acksOutcome(wait);
          if (outcome !== undefined) settle(i, outcome);
        }),
      );
    });
    if (open === 0) finish();
  });
}

/** One wait as a promise: resolves when done, rejects with the ProtocolError otherwise. */
export async function awaitOneAck(
  wait: AcksWait,
  timeoutMs: number,
  scheduler: Scheduler,
  register?: (stop: () => void) => () => void,
): Promise<void> {
  const [error] = await awaitAcks([wait], timeoutMs, scheduler, register);
  if (error !== undefined) throw new ProtocolError(error, acksMessage(wait, error, timeoutMs));
}
