/**
 * A service, as chapter 5 means it: a consumer group (one or more members in
 * this process) reacting to the records of some topics, each member reading
 * its own loop until stopped. Values are JSON.
 */
import { type ConsumerRecord, jsonSerde, stringSerde } from '../../src/index.js';
import type { BookBroker } from './client.js';

export type Event = ConsumerRecord<string | null, Record<string, unknown>>;

export interface Service {
  readonly group: string;
  /** Every event each member handled, by member client id. */
  readonly handled: Map<string, Event[]>;
  /** Failures of the handler (it keeps going: this is a walkthrough, not a retry policy). */
  readonly failures: string[];
  /** Closes every member: each commits, leaves the group and ends its loop. */
  stop(): Promise<void>;
}

/** Starts `members` consumers of group `group` subscribed to `topics`, calling `handle` per event. */
export function startService(
  b: BookBroker,
  group: string,
  topics: readonly string[],
  handle: (event: Event, member: string) => Promise<void> | void,
  members = 1,
): Service {
  const handled = new Map<string, Event[]>();
  const failures: string[] = [];
  const loops: Promise<void>[] = [];
  const consumers = Array.from({ length: members }, (_, i) => {
    const clientId = members === 1 ? group : `${group}-${i + 1}`;
    const consumer = b.consumer({
      clientId,
      groupId: group,
      autoOffsetReset: 'earliest',
      sessionTimeoutMs: 2000,
      heartbeatIntervalMs: 100,
      autoCommitIntervalMs: 100,
      keyDeserializer: stringSerde.deserialize,
      valueDeserializer: jsonSerde.deserialize as (b: Buffer | null) => Record<string, unknown>,
    });
    consumer.subscribe(topics);
    handled.set(clientId, []);
    loops.push(
      (async () => {
        for await (const event of consumer) {
          handled.get(clientId)!.push(event);
          try {
            await handle(event, clientId);
          } catch (err) {
            failures.push(`${clientId}: ${(err as Error).message}`);
          }
        }
      })(),
    );
    return consumer;
  });
  return {
    group,
    handled,
    failures,
    async stop() {
      await Promise.all(consumers.map((c) => c.close()));
      await Promise.allSettled(loops);
    },
  };
}

/** `orders-1@0`: where an event is, for the narration. */
export const at = (e: Event): string => `${e.topic}-${e.partition}@${e.offset}`;
