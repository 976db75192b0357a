/**
 * Controller failover: stale controller epochs are refused, fenced controllers'
 * pushes ignored, and a change commits once every live broker has it. A random
 * history keeps one image per broker, as pushed and persisted, and shows that a
 * new controller starts from every committed change.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  acceptsPush,
  applyEvent,
  committedMetadataOffset,
  diffImages,
  emptyImage,
  newerImage,
} from '../src/cluster/index.js';
import { BROKERS, World, opArb } from './cluster-controller-support.js';

describe('controller failover', () => {
  it('refuses a controller epoch that is not above the image’s', () => {
    const world = new World();
    const r = applyEvent(world.image, {
      type: 'BecomeController',
      brokerId: 2,
      controllerEpoch: 1,
      liveBrokerIds: BROKERS,
    });
    expect(r.error?.error).toBe('STALE_CONTROLLER_EPOCH');
    expect(r.image).toBe(world.image);
  });

  it('brokers ignore pushes from a fenced (older) controller', () => {
    expect(
      acceptsPush(
        { controllerEpoch: 2, metadataOffset: 5 },
        { controllerEpoch: 1, metadataOffset: 9 },
      ),
    ).toBe(false);
    expect(
      acceptsPush(
        { controllerEpoch: 2, metadataOffset: 5 },
        { controllerEpoch: 2, metadataOffset: 5 },
      ),
    ).toBe(false);
    expect(
      acceptsPush(
        { controllerEpoch: 2, metadataOffset: 5 },
        { controllerEpoch: 2, metadataOffset: 6 },
      ),
    ).toBe(true);
    expect(
      acceptsPush(
        { controllerEpoch: 2, metadataOffset: 5 },
        { controllerEpoch: 3, metadataOffset: 1 },
      ),
    ).toBe(true);
  });

  it('commits a change once every live broker has acknowledged it', () => {
    const controller = { controllerId: 1, controllerEpoch: 1, metadataOffset: 10 };
    const acks = new Map([
      [2, 10],
      [3, 8],
      [4, 3],
    ]);
    expect(committedMetadataOffset(controller, acks, [1, 2, 3, 4])).toBe(3);
    expect(committedMetadataOffset(controller, acks, [1, 2, 3])).toBe(8); // 4 fenced: not waited for
    expect(committedMetadataOffset(controller, new Map(), [1])).toBe(10);
  });

  it('a new controller starts from every committed change while one broker that acknowledged it runs', () => {
    // Each broker keeps the image it last persisted. The controller pushes each new image to some
    // live brokers (a push cut short by its death reaches only a few). When it dies, the next one
    // takes the newest image among the live brokers and bumps the controller epoch.
    fc.assert(
      fc.property(
        fc.array(fc.tuple(opArb, fc.array(fc.boolean(), { minLength: 4, maxLength: 4 })), {
          minLength: 5,
          maxLength: 50,
        }),
        (steps) => {
          const world = new World();
          const persisted = new Map(BROKERS.map((b) => [b, world.image]));
          let committed = world.image.metadataOffset;
          // The brokers that acknowledged the latest committed offset (live when it was reached).
          let holders = new Set(BROKERS);
          let lost = false;
          const leaderEpochsActedOn = new Map<string, number>();
          for (const [op, reached] of steps) {
            let event = world.event(op);
            if (event === undefined) continue;
            if (event.type === 'BecomeController') {
              const start = [...world.up].map((b) => persisted.get(b)!).reduce(newerImage);
              // Guaranteed while one broker that acknowledged the commit runs; if all of them are
              // down, the change is down with them (docs/cluster.md: what this is not).
              if ([...world.up].some((b) => holders.has(b))) {
                expect(start.metadataOffset).toBeGreaterThanOrEqual(committed);
              } else {
                lost = true;
              }
              event = { ...event, controllerEpoch: start.controllerEpoch + 1 };
              world.image = start;
            }
            const result = applyEvent(world.image, event);
            world.image = result.image;
            const controller = world.image.controllerId;
            persisted.set(controller, world.image);
            BROKERS.forEach((b, i) => {
              if (world.up.has(b) && reached[i] && acceptsPush(persisted.get(b)!, world.image))
                persisted.set(b, world.image);
            });
            const acks = new Map(BROKERS.map((b) => [b, persisted.get(b)!.metadataOffset]));
            const nowCommitted = committedMetadataOffset(world.image, acks, world.up);
            if (nowCommitted > committed) {
              committed = nowCommitted;
              holders = new Set([...world.up].filter((b) => acks.get(b)! >= committed));
            }
            // Brokers act only on committed images: no leader epoch is ever handed out twice.
            if (!lost && nowCommitted === world.image.metadataOffset) {
              for (const c of diffImages(emptyImage([]), world.image)) {
                const key = `${c.topic}-${c.partition}`;
                expect(c.after.leaderEpoch).toBeGreaterThanOrEqual(
                  leaderEpochsActedOn.get(key) ?? 0,
                );
                leaderEpochsActedOn.set(key, c.after.leaderEpoch);
              }
            }
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
