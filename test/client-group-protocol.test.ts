/**
 * The consumer protocol's bytes (subscription, assignment): round trips,
 * defaults, and defensive decoding of bytes another member wrote.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
} from '../src/client/group/consumer-protocol.js';
import { pack } from '../src/protocol/msgpack.js';

const topicPartitions = fc.array(
  fc.record({
    topic: fc.string({ maxLength: 10 }),
    partitions: fc.array(fc.integer({ min: 0, max: 0x7fffffff }), { maxLength: 5 }),
  }),
  { maxLength: 4 },
);
const userData = fc.option(
  fc.uint8Array({ maxLength: 16 }).map((a) => Buffer.from(a)),
  { nil: null },
);

describe('consumer protocol', () => {
  it('round-trips a subscription', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string(), { maxLength: 5 }),
        userData,
        topicPartitions,
        (topics, ud, owned) => {
          const s = { version: 0, topics, userData: ud, ownedPartitions: owned };
          expect(decodeSubscription(encodeSubscription(s))).toEqual(s);
        },
      ),
    );
  });

  it('round-trips an assignment', () => {
    fc.assert(
      fc.property(topicPartitions, userData, (partitions, ud) => {
        const a = { version: 0, partitions, userData: ud };
        expect(decodeAssignment(encodeAssignment(a))).toEqual(a);
      }),
    );
  });

  it('writes version 0 and fills in what was left out', () => {
    expect(decodeSubscription(encodeSubscription({ topics: ['t'] }))).toEqual({
      version: 0,
      topics: ['t'],
      userData: null,
      ownedPartitions: [],
    });
    // A later version's unknown fields are ignored.
    expect(decodeSubscription(pack({ version: 3, topics: ['x'], rackId: 'r1' }))).toMatchObject({
      version: 3,
      topics: ['x'],
    });
  });

  it('reads an empty assignment (a SyncGroup answered with an error) as no partitions', () => {
    expect(decodeAssignment(Buffer.alloc(0))).toEqual({
      version: 0,
      partitions: [],
      userData: null,
    });
  });

  it('refuses bad bytes with an error that names the field', () => {
    const bad = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return error as { code: string; message: string };
      }
      throw new Error('no error');
    };
    expect(bad(() => decodeSubscription(Buffer.from([0xc1])))).toMatchObject({
      code: 'CLIENT_INVALID_GROUP_METADATA',
    });
    expect(bad(() => decodeSubscription(pack({ version: 0, topics: [1] }))).message).toContain(
      'subscription.topics[0] must be a string',
    );
    expect(
      bad(() =>
        decodeAssignment(pack({ version: 0, partitions: [{ topic: 't', partitions: [-1] }] })),
      ).message,
    ).toContain('assignment.partitions[0].partitions[0]');
    expect(bad(() => decodeAssignment(pack([1, 2])))).toMatchObject({
      code: 'CLIENT_INVALID_GROUP_METADATA',
    });
  });

  it('never crashes on arbitrary bytes: a result or a CLIENT_INVALID_GROUP_METADATA', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (raw) => {
        for (const decode of [decodeSubscription, decodeAssignment]) {
          try {
            decode(Buffer.from(raw));
          } catch (error) {
            expect(error).toMatchObject({ code: 'CLIENT_INVALID_GROUP_METADATA' });
          }
        }
      }),
    );
  });
});
