/**
 * The redemption brake shared through Redis (coord/redeem-window.ts, tenants/redeem-limits.ts
 * RedeemBrake), on the run's real Redis: two brakes on one prefix are two nodes, and failures
 * counted on one refuse on the other at the same count as one node; the window is trimmed to the
 * newest `limit` failures and expires; with Redis cut off (a proxy in front of it) a node's own
 * failures still refuse at the limit and no call fails for Redis's sake.
 */
import { createServer } from 'node:net';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { BcError } from '../../src/shared/errors.js';
import { CoordClient, connectRedis } from '../../src/daemon/coord/redis-client.js';
import { CoordKeys } from '../../src/daemon/coord/keys.js';
import { RedisRedeemWindow } from '../../src/daemon/coord/redeem-window.js';
import { REDEEM_WINDOW_MS, RedeemBrake, RedeemLimits } from '../../src/daemon/tenants/redeem-limits.js';
import { Proxy } from '../support/tcp-proxy.js';
import { freshRedisPrefix, redisUrl } from '../support/stores.js';

const LIMIT = 3;
const opened: Redis[] = [];

afterEach(() => {
  for (const r of opened.splice(0)) r.disconnect();
});

async function client(prefix: string, url = redisUrl()): Promise<CoordClient> {
  const r = connectRedis(url, { commandTimeoutMs: 2_000 });
  opened.push(r);
  if (r.status !== 'ready') await new Promise<void>((ok) => r.once('ready', () => ok()));
  return new CoordClient(r, prefix);
}

/** A node's brake: its own window, and the shared one on `c`. */
function node(c: CoordClient, windowMs = REDEEM_WINDOW_MS): RedeemBrake {
  const shared = new RedisRedeemWindow(c, windowMs);
  return new RedeemBrake(new RedeemLimits(windowMs), () => shared);
}

/** The Retry-After of a refusal, or null when the attempt is allowed. */
async function refusal(p: Promise<void>): Promise<number | null> {
  try {
    await p;
    return null;
  } catch (err) {
    expect(err).toBeInstanceOf(BcError);
    expect((err as BcError).code).toBe('RATE_LIMITED');
    return (err as BcError).retryAfterS ?? -1;
  }
}

describe('redemption failures shared through Redis', () => {
  it('failures on two nodes refuse on both at the same count as on one node', async () => {
    const prefix = freshRedisPrefix();
    const [a, b] = [node(await client(prefix)), node(await client(prefix))];
    // user 1 from one address: 2 failures on a, 1 on b
    for (const [n, brake] of [a, b, a].entries()) {
      expect(await refusal(brake.check(1, '10.0.0.1', LIMIT)), `attempt ${n + 1}`).toBeNull();
      await brake.fail(1, '10.0.0.1', LIMIT);
    }
    for (const brake of [a, b]) {
      const wait = await refusal(brake.check(1, '10.0.0.1', LIMIT));
      expect(wait).toBeGreaterThan(REDEEM_WINDOW_MS / 1000 - 30);
      expect(wait).toBeLessThanOrEqual(REDEEM_WINDOW_MS / 1000);
    }
    // the same user from another address, and another user from the same address: refused too
    expect(await refusal(b.check(1, '10.0.0.2', LIMIT))).not.toBeNull();
    expect(await refusal(b.check(2, '10.0.0.1', LIMIT))).not.toBeNull();
    // anyone else is not
    expect(await refusal(b.check(2, '10.0.0.2', LIMIT))).toBeNull();
    // a limit of 0 turns the brake off
    expect(await refusal(a.check(1, '10.0.0.1', 0))).toBeNull();
  });

  it('keeps the newest `limit` failures per subject, expiring a window after the last', async () => {
    const prefix = freshRedisPrefix();
    const c = await client(prefix);
    const brake = node(c, 1_500);
    for (let i = 0; i < LIMIT + 4; i++) await brake.fail(7, '10.0.0.7', LIMIT);
    const keys = new CoordKeys(prefix);
    const user = keys.redeemFailures('user:7');
    expect(await c.redis.zcard(user)).toBe(LIMIT);
    expect(await c.redis.zcard(keys.redeemFailures('ip:10.0.0.7'))).toBe(LIMIT);
    const ttl = await c.redis.pttl(user);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(1_500);
    // the shared window alone refuses (a brake whose own window is empty), until the window passes
    const other = node(c, 1_500);
    const wait = await refusal(other.check(7, '10.0.0.8', LIMIT));
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(wait).toBeLessThanOrEqual(2);
    await expect.poll(() => refusal(other.check(7, '10.0.0.8', LIMIT)), { timeout: 5_000 }).toBeNull();
  });

  it('Redis cut off: the node’s own failures still refuse at the limit, and nothing fails for Redis', async () => {
    const prefix = freshRedisPrefix();
    const proxy = new Proxy(await freePort(), Number(new URL(redisUrl()).port));
    await proxy.open();
    try {
      const brake = node(await client(prefix, `redis://127.0.0.1:${proxy.port}`));
      await brake.fail(3, '10.0.0.3', LIMIT);
      await proxy.cut();
      // two more failures while Redis is away: counted here, no error for Redis's sake
      for (let i = 0; i < LIMIT - 1; i++) {
        expect(await refusal(brake.check(3, '10.0.0.3', LIMIT))).toBeNull();
        await brake.fail(3, '10.0.0.3', LIMIT);
      }
      expect(await refusal(brake.check(3, '10.0.0.3', LIMIT))).not.toBeNull();
      // another subject on the node: allowed (Redis away does not refuse every redemption)
      expect(await refusal(brake.check(4, '10.0.0.4', LIMIT))).toBeNull();
    } finally {
      await proxy.cut().catch(() => undefined);
    }
  });
});

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((ok) => s.close(() => ok()));
  return port;
}
