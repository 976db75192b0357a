/**
 * The static cluster config (`--cluster id@host:port,...`) and the liveness
 * tracker: heartbeats, session expiry, and who each broker takes for the
 * controller. Time is a parameter, so nothing sleeps.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ClusterError,
  type ClusterConfig,
  Liveness,
  clusterConfig,
  controllerAmong,
  formatClusterBrokers,
  parseClusterBrokers,
  peerIds,
} from '../src/cluster/index.js';

const SPEC = '1@127.0.0.1:9101,2@127.0.0.1:9102,3@127.0.0.1:9103';

function config(brokerId: number, extra: Partial<Parameters<typeof clusterConfig>[0]> = {}) {
  return clusterConfig({
    brokerId,
    cluster: SPEC,
    'broker.heartbeat.interval.ms': 100,
    'broker.session.timeout.ms': 500,
    ...extra,
  });
}

function invalid(f: () => unknown, pattern: RegExp): void {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ClusterError);
    expect((e as ClusterError).code).toBe('CLUSTER_INVALID_CONFIG');
    expect((e as Error).message).toMatch(pattern);
    return;
  }
  expect.fail('no error thrown');
}

describe('the --cluster string', () => {
  it('parses id@host:port entries, sorted by id', () => {
    expect(parseClusterBrokers(' 3@localhost:9103, 1@127.0.0.1:9101,2@[::1]:9102')).toEqual([
      { id: 1, host: '127.0.0.1', port: 9101 },
      { id: 2, host: '::1', port: 9102 },
      { id: 3, host: 'localhost', port: 9103 },
    ]);
  });

  it('formats back to a string that parses the same', () => {
    const brokers = parseClusterBrokers('2@[::1]:9102,1@127.0.0.1:9101');
    expect(parseClusterBrokers(formatClusterBrokers(brokers))).toEqual(brokers);
  });

  it('refuses malformed entries, duplicate ids and duplicate addresses', () => {
    invalid(() => parseClusterBrokers(''), /empty/);
    invalid(() => parseClusterBrokers('1@127.0.0.1'), /not id@host:port/);
    invalid(() => parseClusterBrokers('x@127.0.0.1:9101'), /not id@host:port/);
    invalid(() => parseClusterBrokers('1@127.0.0.1:9101,,2@127.0.0.1:9102'), /not id@host:port/);
    invalid(() => parseClusterBrokers('-1@127.0.0.1:9101'), /not id@host:port/);
    invalid(() => parseClusterBrokers('1@127.0.0.1:0'), /out of range/);
    invalid(() => parseClusterBrokers('1@127.0.0.1:70000'), /out of range/);
    invalid(() => parseClusterBrokers('4294967296@h:1'), /too large/);
    invalid(() => parseClusterBrokers('1@a:1,1@b:2'), /id 1 appears twice/);
    invalid(() => parseClusterBrokers('1@Host:1,2@host:1'), /address host:1 appears twice/);
  });

  it('needs the broker’s own id in the list and a session of at least two heartbeats', () => {
    invalid(() => clusterConfig({ brokerId: 4, cluster: SPEC }), /broker 4 is not in/);
    invalid(() => config(1, { 'broker.session.timeout.ms': 150 }), /at least twice/);
    invalid(() => config(1, { 'broker.heartbeat.interval.ms': 0 }), /positive/);
    const c = clusterConfig({ brokerId: 2, cluster: SPEC });
    expect(c).toMatchObject({ brokerId: 2, heartbeatIntervalMs: 2000, sessionTimeoutMs: 9000 });
    expect(peerIds(c)).toEqual([1, 3]);
  });

  it('round-trips any list of distinct brokers', () => {
    const brokersArb = fc
      .uniqueArray(fc.integer({ min: 0, max: 2 ** 31 - 1 }), { minLength: 1, maxLength: 8 })
      .map((ids) => ids.map((id, i) => ({ id, host: `h${i}.local`, port: 1 + i })));
    fc.assert(
      fc.property(brokersArb, (brokers) => {
        const parsed = parseClusterBrokers(formatClusterBrokers(brokers));
        expect(parsed).toEqual([...brokers].sort((a, b) => a.id - b.id));
      }),
      { numRuns: 100 },
    );
  });
});

describe('liveness', () => {
  it('counts a peer live within one session of its last heartbeat, and reports each death once', () => {
    const l = new Liveness(config(2), 0);
    expect(l.liveBrokers(0)).toEqual([2]);
    expect(l.recordHeartbeat(1, 10)).toBe(true); // first contact: a return
    expect(l.recordHeartbeat(1, 110)).toBe(false);
    expect(l.recordHeartbeat(3, 50)).toBe(true);
    expect(l.liveBrokers(500)).toEqual([1, 2, 3]);
    expect(l.expire(549)).toEqual([]);
    expect(l.isLive(3, 550)).toBe(false); // 500 ms of silence
    expect(l.expire(550)).toEqual([3]);
    expect(l.expire(600)).toEqual([]); // reported once
    expect(l.expire(610)).toEqual([1]);
    expect(l.recordHeartbeat(3, 700)).toBe(true); // back
    expect(l.liveBrokers(700)).toEqual([2, 3]);
  });

  it('ignores heartbeats from brokers outside the cluster and never moves time back', () => {
    const l = new Liveness(config(1), 0);
    expect(l.recordHeartbeat(9, 10)).toBe(false);
    expect(l.liveBrokers(10)).toEqual([1]);
    l.recordHeartbeat(2, 400);
    l.recordHeartbeat(2, 100); // a late, older heartbeat
    expect(l.isLive(2, 850)).toBe(true);
  });

  it('takes the lowest live id for the controller, waiting one session for silent lower peers', () => {
    const l = new Liveness(config(3), 1000);
    expect(l.expectedControllerId(1000)).toBe(1); // 1 and 2 not heard yet: grace
    l.recordHeartbeat(2, 1100);
    expect(l.expectedControllerId(1200)).toBe(1);
    expect(l.expectedControllerId(1500)).toBe(2); // grace over, 1 never came
    expect(l.expectedControllerId(1700)).toBe(3); // 2 silent for a session
    l.recordHeartbeat(1, 1800);
    expect(l.expectedControllerId(1800)).toBe(1);
  });

  it('knows the freshest image among live peers and the highest controller epoch seen', () => {
    const l = new Liveness(config(2), 0);
    const own = { controllerEpoch: 3, metadataOffset: 40 };
    l.recordHeartbeat(1, 0, { controllerEpoch: 4, metadataOffset: 41 });
    l.recordHeartbeat(3, 0, { controllerEpoch: 3, metadataOffset: 45 });
    expect(l.fresherPeer(own, 100)).toEqual({
      brokerId: 1,
      version: { controllerEpoch: 4, metadataOffset: 41 },
    });
    expect(l.fresherPeer(own, 600)).toBeUndefined(); // both silent now
    expect(l.highestControllerEpochSeen(own)).toBe(4);
  });

  it('agrees with controllerAmong whenever every broker has been heard from', () => {
    const c: ClusterConfig = config(2);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(1, 3), fc.integer({ min: 0, max: 2000 })), {
          maxLength: 20,
        }),
        fc.integer({ min: 0, max: 3000 }),
        (beats, now) => {
          const l = new Liveness(c, 0);
          for (const [id, t] of [...beats].sort((a, b) => a[1] - b[1])) l.recordHeartbeat(id, t);
          const live = l.liveBrokers(now);
          expect(live).toContain(2);
          if (now >= c.sessionTimeoutMs || beats.some(([id]) => id === 1)) {
            expect(l.expectedControllerId(now)).toBe(controllerAmong(live));
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
