/**
 * The redemption brake's failure window on Redis (tenants/redeem-limits.ts, TENANTS.md 5.4), so
 * that every daemon of a deployment counts the same failures: without it an attacker spreading
 * guesses over N nodes gets N times the attempts. Each subject (`user:<id>`, `ip:<address>`) is a
 * ZSET of failure ids scored by Redis's clock (never a node's, so skewed nodes agree), trimmed to
 * the window and to the newest `limit` on every write, and expiring a window after its last
 * failure. One script checks both subjects, one records a failure against both.
 */
import { randomUUID } from 'node:crypto';
import { CoordKeys } from './keys.js';
import { script, type CoordClient } from './redis-client.js';

/** What the brake needs of a window every node shares. */
export interface SharedRedeemWindow {
  /** ms until the user and the address both have fewer than `limit` failures in the window (0: now) */
  check(userId: number, ip: string, limit: number): Promise<number>;
  /** counts one failure against the user and the address */
  fail(userId: number, ip: string, limit: number): Promise<void>;
}

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
`;

/** KEYS: the subjects' ZSETs; ARGV: windowMs, limit. Returns the wait in ms (0: allowed). */
const CHECK = script(
  'redeem_check',
  `${NOW}
local wait = 0
for _, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local n = redis.call('ZCARD', key)
  if n >= limit then
    -- allowed again once enough failures have left the window
    local freed = redis.call('ZRANGE', key, n - limit, n - limit, 'WITHSCORES')
    local w = tonumber(freed[2]) + window - now
    if w > wait then wait = w end
  end
end
return wait
`,
);

/** KEYS: the subjects' ZSETs; ARGV: windowMs, limit, a failure id unique to this failure. */
const FAIL = script(
  'redeem_fail',
  `${NOW}
for _, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  redis.call('ZADD', key, now, ARGV[3])
  -- only the newest limit failures matter to the check
  redis.call('ZREMRANGEBYRANK', key, 0, -(limit + 1))
  redis.call('PEXPIRE', key, window)
end
return 1
`,
);

export class RedisRedeemWindow implements SharedRedeemWindow {
  private readonly keys: CoordKeys;

  constructor(
    private readonly client: CoordClient,
    private readonly windowMs: number,
  ) {
    this.keys = new CoordKeys(client.prefix);
  }

  async check(userId: number, ip: string, limit: number): Promise<number> {
    const wait = await this.client.run(CHECK, this.subjects(userId, ip), [this.windowMs, limit]);
    return Number(wait);
  }

  async fail(userId: number, ip: string, limit: number): Promise<void> {
    await this.client.run(FAIL, this.subjects(userId, ip), [this.windowMs, limit, randomUUID()]);
  }

  private subjects(userId: number, ip: string): string[] {
    return [this.keys.redeemFailures(`user:${userId}`), this.keys.redeemFailures(`ip:${ip}`)];
  }
}
