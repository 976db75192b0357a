/**
 * Which offsets partitions a coordinator serves (ownership.ts): a broker
 * alone owns all; in a cluster, loading then owned on election, nothing on
 * resignation, stale epochs ignored, an unknown (negative) epoch never stale,
 * a load overtaken by a resignation or a second load never finishing.
 */
import { describe, expect, it } from 'vitest';
import { OffsetsPartitions } from '../src/broker/group/ownership.js';
import { ErrorCode } from '../src/protocol/index.js';

describe('OffsetsPartitions', () => {
  it('owns every partition for a broker alone', () => {
    const alone = new OffsetsPartitions(true);
    expect([0, 7, 49].map((p) => alone.status(p))).toEqual([0, 0, 0]);
  });

  it('loads, then owns, what it is elected for; unloads on resignation', () => {
    const o = new OffsetsPartitions(false);
    expect(o.status(3)).toBe(ErrorCode.NOT_COORDINATOR);
    const e = o.elect(3, 1);
    expect(e).toEqual({ kind: 'load', token: expect.any(Number) });
    expect(o.status(3)).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    expect(o.isLoading).toBe(true);
    expect(o.elect(3, 2)).toEqual({ kind: 'already' });
    expect(o.loaded(3, (e as { token: number }).token)).toBe(true);
    expect(o.status(3)).toBe(0);
    expect(o.ownedPartitions()).toEqual([3]);
    expect(o.epochOf(3)).toBe(2);
    expect(o.resign(3, 1)).toBe('stale');
    expect(o.status(3)).toBe(0);
    expect(o.resign(3, 3)).toBe('unload');
    expect(o.status(3)).toBe(ErrorCode.NOT_COORDINATOR);
    expect(o.resign(3, 3)).toBe('not-owned');
    expect(o.elect(3, 2)).toEqual({ kind: 'stale' });
  });

  it('never finishes a load that a resignation or a newer load overtook', () => {
    const o = new OffsetsPartitions(false);
    const first = o.elect(0, 1) as { token: number };
    expect(o.resign(0, 2)).toBe('unload');
    const second = o.elect(0, 3) as { token: number };
    expect(o.loaded(0, first.token)).toBe(false);
    expect(o.status(0)).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    o.failed(0, second.token);
    expect(o.status(0)).toBe(ErrorCode.NOT_COORDINATOR);
    expect(o.loaded(0, second.token)).toBe(false);
  });

  it('takes a resignation with an unknown epoch (a deleted partition) whatever it led at', () => {
    const o = new OffsetsPartitions(false);
    const e = o.elect(1, 5) as { token: number };
    o.loaded(1, e.token);
    expect(o.resign(1, -1)).toBe('unload');
    expect(o.epochOf(1)).toBe(5);
    expect(() => o.elect(1, 1.5)).toThrow(TypeError);
  });
});
