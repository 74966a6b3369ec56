// Channel cooldowns shared by several daemons (cluster/shared-health.ts) against an in-memory
// stand-in for the Redis record (same rules as the Lua: max(until), one probe claim), on a clock
// the test moves: what a node mirrors from a read (Redis's clock converted to its own), what it
// publishes (failures, and successes only of keys that failed: nothing on the happy path), the
// probe claim, answers that left Redis before a local change reached it, and Redis being away.
import { describe, expect, it } from 'vitest';
import { HealthBook } from '../../src/daemon/gateway/routing/health.js';
import { SharedHealth } from '../../src/daemon/cluster/shared-health.js';
import type { AcquireState } from '../../src/daemon/coord/coordinator.js';
import type { CooldownRecord } from '../../src/daemon/coord/redis-health.js';

const T0 = 1_767_225_600_000;
/** Redis's clock runs this far ahead of the nodes' */
const SKEW = 10_000;

/** The shared record as the Lua scripts keep it, with calls counted and Redis switchable off. */
class FakeRecord {
  now = T0;
  down = false;
  /** calls that fail while Redis stays reachable (a timeout) */
  flaky = 0;
  readonly records = new Map<string, { failures: number; until: number }>();
  readonly claims = new Map<string, string>();
  calls: string[] = [];

  client(node: string) {
    const run = async <T>(what: string, fn: () => T): Promise<T> => {
      this.calls.push(`${node}:${what}`);
      await Promise.resolve();
      if (this.down) throw new Error('coordination store unavailable');
      if (this.flaky > 0) {
        this.flaky -= 1;
        throw new Error('command timed out');
      }
      return fn();
    };
    const redisNow = () => this.now + SKEW;
    return {
      reachable: () => !this.down,
      failure: (ch: number, i: number, ra?: number) =>
        run('failure', () => {
          const r = this.records.get(`${ch}:${i}`) ?? { failures: 0, until: 0 };
          r.failures += 1;
          r.until = Math.max(r.until, redisNow() + (ra ?? 5_000 * 2 ** (r.failures - 1)));
          this.records.set(`${ch}:${i}`, r);
          this.claims.delete(`${ch}:${i}`);
          return { ...r };
        }),
      success: (ch: number, i: number) =>
        run('success', () => {
          this.records.delete(`${ch}:${i}`);
          this.claims.delete(`${ch}:${i}`);
        }),
      tryAcquire: (ch: number, i: number) =>
        run('tryAcquire', (): { state: AcquireState; until: number } => {
          const r = this.records.get(`${ch}:${i}`);
          if (!r) return { state: 'FREE', until: 0 };
          if (this.claims.has(`${ch}:${i}`)) return { state: 'PROBING', until: r.until };
          if (redisNow() < r.until) return { state: 'COOLING', until: r.until };
          this.claims.set(`${ch}:${i}`, node);
          return { state: 'PROBE', until: r.until };
        }),
      releaseProbe: (ch: number, i: number) =>
        run('releaseProbe', () => {
          if (this.claims.get(`${ch}:${i}`) === node) this.claims.delete(`${ch}:${i}`);
        }),
      readAll: () =>
        run('readAll', () => ({
          now: redisNow(),
          records: [...this.records].map(([k, r]): CooldownRecord => {
            const [channelId, index] = k.split(':').map(Number) as [number, number];
            return { channelId, index, ...r };
          }),
        })),
    };
  }
}

/** n nodes, each after its first read (as SharedHealth.start does at once: it learns the clock offset) */
async function cluster(n = 2) {
  const redis = new FakeRecord();
  const nodes = Array.from({ length: n }, (_, k) => {
    const book = new HealthBook(() => redis.now);
    const sync = new SharedHealth({ book, cooldowns: redis.client(`n${k}`), now: () => redis.now });
    book.attach(sync);
    return { book, sync };
  });
  for (const node of nodes) await node.sync.sync();
  redis.calls = [];
  return { redis, nodes, at: (ms: number) => (redis.now = T0 + ms) };
}

/** lets the fake's answers (a microtask or two away) arrive */
const settle = () => new Promise((r) => setImmediate(r));

describe('SharedHealth', () => {
  it('a healthy key costs no Redis call: routing, successes and releases stay local', async () => {
    const { redis, nodes } = await cluster(1);
    const { book } = nodes[0]!;
    for (let k = 0; k < 100; k++) {
      expect(book.tryAcquire(1, 0)).toBe(true);
      book.success(1, 0);
      book.release(1, 0);
    }
    await settle();
    expect(redis.calls).toEqual([]);
  });

  it('a failure on one node is mirrored by the others at their next read, on their own clock', async () => {
    const { redis, nodes, at } = await cluster(3);
    const [a, b, c] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]];
    a.book.failure(1, 0, 30_000);
    await settle();
    expect(redis.records.get('1:0')).toEqual({ failures: 1, until: T0 + SKEW + 30_000 });
    expect(b.book.isAvailable(1, 0)).toBe(true);
    await b.sync.sync();
    await c.sync.sync();
    for (const n of [b, c]) {
      expect(n.book.isAvailable(1, 0)).toBe(false);
      expect(n.book.waitMs(1, 0)).toBe(30_000); // Redis's clock taken off
    }
    at(29_999);
    expect(b.book.tryAcquire(1, 0)).toBe(false);
  });

  it('a shorter re-cool never shortens a longer one (max), on the node that re-cooled too', async () => {
    const { nodes } = await cluster(2);
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
    a.book.failure(1, 0, 60_000);
    await settle();
    b.book.failure(1, 0, 1_000);
    expect(b.book.waitMs(1, 0)).toBe(1_000);
    await settle();
    expect(b.book.waitMs(1, 0)).toBe(60_000);
  });

  it('one success clears the key everywhere; a read without the record clears it', async () => {
    const { redis, nodes, at } = await cluster(2);
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
    a.book.failure(1, 0, 1_000);
    await settle();
    await b.sync.sync();
    expect(b.book.isAvailable(1, 0)).toBe(false);
    at(1_000);
    // a request that was out before the bench answers on a
    a.book.success(1, 0);
    await settle();
    expect(redis.records.size).toBe(0);
    await b.sync.sync();
    expect(b.book.tryAcquire(1, 0)).toBe(true);
    expect(b.book.waitMs(1, 0)).toBe(0);
  });

  it('when the cooldown ends, exactly one node gets the probe; the others skip until its result', async () => {
    const { redis, nodes, at } = await cluster(3);
    nodes[0]!.book.failure(1, 0, 1_000);
    await settle();
    for (const n of nodes) await n.sync.sync();
    at(1_000);
    // every node's first pick after the end asks for the claim and skips the key
    for (const n of nodes) expect(n.book.tryAcquire(1, 0)).toBe(false);
    await settle();
    const picks = nodes.map((n) => [n.book.tryAcquire(1, 0), n.book.tryAcquire(1, 0)]);
    expect(picks.flat().filter(Boolean)).toHaveLength(1);
    const prober = nodes[picks.findIndex((p) => p[0])]!;
    for (const n of nodes) if (n !== prober) expect(n.book.waitMs(1, 0)).toBe(1_000);
    // asking again while the probe is out changes nothing
    at(1_300);
    for (const n of nodes) n.book.tryAcquire(1, 0);
    await settle();
    expect(nodes.flatMap((n) => [n.book.tryAcquire(1, 0)]).filter(Boolean)).toHaveLength(0);
    // the probe fails: benched again everywhere, for the new (longer) time
    prober.book.failure(1, 0, 5_000);
    await settle();
    for (const n of nodes) await n.sync.sync();
    for (const n of nodes) expect(n.book.waitMs(1, 0)).toBe(5_000);
    expect(redis.claims.size).toBe(0);
  });

  it('a probe ended without a verdict, or a claim no request used, is given back', async () => {
    const { redis, nodes, at } = await cluster(2);
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
    a.book.failure(1, 0, 1_000);
    await settle();
    at(1_000);
    a.book.tryAcquire(1, 0);
    await settle();
    expect(a.book.tryAcquire(1, 0)).toBe(true);
    a.book.release(1, 0);
    await settle();
    expect(redis.claims.size).toBe(0);
    // a claims again, but no request of a's comes: after 2 s b may take it
    at(1_300);
    a.book.tryAcquire(1, 0);
    await settle();
    expect(redis.claims.get('1:0')).toBe('n0');
    await b.sync.sync();
    b.book.tryAcquire(1, 0);
    await settle();
    expect(b.book.tryAcquire(1, 0)).toBe(false);
    at(3_300);
    await a.sync.sync();
    expect(redis.claims.size).toBe(0);
    expect(a.book.waitMs(1, 0)).toBe(1_000); // a holds no claim any more
    b.book.tryAcquire(1, 0);
    await settle();
    expect(b.book.tryAcquire(1, 0)).toBe(true);
  });

  it('a read that left Redis before a local change reached it does not undo the change', async () => {
    const { redis, nodes } = await cluster(1);
    const { book, sync } = nodes[0]!;
    const stale = sync.sync(); // its read is answered before the failure is published
    book.failure(1, 0, 30_000);
    await stale;
    await settle();
    expect(redis.calls).toEqual(['n0:readAll', 'n0:failure']);
    expect(book.waitMs(1, 0)).toBe(30_000);
    // and a read sent before a success was taken does not bench the key again
    const before = sync.sync();
    book.success(1, 0);
    await before;
    expect(book.waitMs(1, 0)).toBe(0);
  });

  it('a claim call that fails while Redis is reachable is asked again, not decided alone', async () => {
    const { redis, nodes, at } = await cluster(2);
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
    a.book.failure(1, 0, 1_000);
    await settle();
    await b.sync.sync();
    at(1_000);
    redis.flaky = 1;
    expect(a.book.tryAcquire(1, 0)).toBe(false);
    await settle();
    expect(a.book.tryAcquire(1, 0)).toBe(false); // no claim: asked too recently to ask again
    expect(b.book.tryAcquire(1, 0)).toBe(false);
    await settle();
    expect(b.book.tryAcquire(1, 0)).toBe(true);
    at(1_300);
    expect(a.book.tryAcquire(1, 0)).toBe(false);
    await settle();
    expect(a.book.tryAcquire(1, 0)).toBe(false);
  });

  it('Redis away: local cooldowns stand, a success is sent once it is back, probes are decided alone', async () => {
    const { redis, nodes, at } = await cluster(2);
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
    a.book.failure(1, 0, 1_000);
    await settle();
    await b.sync.sync();
    redis.down = true;
    a.book.failure(2, 0, 20_000);
    await settle();
    expect(a.book.waitMs(2, 0)).toBe(20_000);
    await expect(a.sync.sync()).rejects.toThrow();
    expect(a.book.waitMs(2, 0)).toBe(20_000);
    // b's cooldown of 1:0 ends while Redis is away: b probes on its own
    at(1_000);
    expect(b.book.tryAcquire(1, 0)).toBe(false);
    await settle();
    expect(b.book.tryAcquire(1, 0)).toBe(true);
    b.book.success(1, 0);
    await settle();
    redis.down = false;
    // Redis back: a's read does not clear a's own cooldown Redis never took ...
    await a.sync.sync();
    expect(a.book.waitMs(2, 0)).toBe(19_000);
    // ... and b's success reaches Redis at b's next round, before b reads the record again
    expect(redis.records.has('1:0')).toBe(true);
    await b.sync.sync();
    expect(redis.records.has('1:0')).toBe(false);
    expect(b.book.waitMs(1, 0)).toBe(0);
  });
});
