/**
 * The Lua scripts of the shared channel cooldowns and the half-open probe claim (SCALEOUT.md
 * 2(c)), on Redis's clock (conventions in scripts.ts).
 */
import { script } from './redis-client.js';
import { HELPERS } from './scripts.js';

/**
 * A retryable failure of one channel key (HealthBook.failure): failures + 1, and the cooldown
 * ends at max(the end already set, now + wait), so a shorter re-cool never shortens a longer one
 * (LiteLLM #40130). wait = Retry-After when given (capped), else base x 2^(failures-1) capped.
 * The probe claim is dropped. The record outlives the cooldown (the failure count drives the
 * backoff until a success) by keepMs, and is listed in the index (scored by when it lapses) that
 * COOL_READ reads.
 * KEYS: cooldown hash, probe claim, index. ARGV: retryAfterMs (0: none), baseMs, maxMs,
 * maxRetryAfterMs, keepMs, index member. Returns {failures, until}.
 */
export const COOL_FAILURE = script(
  'coolFailure',
  HELPERS +
    `
local ra, base, max, maxRa = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local now = nowMs()
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
local wait
if ra > 0 then wait = math.min(ra, maxRa) else wait = math.min(max, base * 2 ^ (failures - 1)) end
local untilMs = math.max(tonumber(redis.call('HGET', KEYS[1], 'until') or '0'), now + wait)
redis.call('HSET', KEYS[1], 'until', fmt(untilMs))
redis.call('PEXPIREAT', KEYS[1], fmt(untilMs + tonumber(ARGV[5])))
redis.call('ZADD', KEYS[3], fmt(untilMs + tonumber(ARGV[5])), ARGV[6])
redis.call('DEL', KEYS[2])
return {failures, fmt(untilMs)}
`,
);

/**
 * A channel key answered (HealthBook.success): its record, its probe claim and its index entry
 * go. KEYS: cooldown hash, probe claim, index. ARGV: index member. Returns 1 when there was a record.
 */
export const COOL_SUCCESS = script(
  'coolSuccess',
  `
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('DEL', KEYS[2])
return redis.call('DEL', KEYS[1])
`,
);

/**
 * Every channel key with a failure on record, for a node's periodic mirror: one call whose cost
 * follows the keys that failed, not the number of channels. Lapsed index entries are pruned.
 * The records are read by name from the members ("channelId:index") under the prefix, so this
 * assumes one Redis (not Redis Cluster), like the rest of the coordinator.
 * KEYS: index. ARGV: key prefix. Returns {nowMs, member, failures, until, member, ...}.
 */
export const COOL_READ = script(
  'coolRead',
  HELPERS +
    `
local now = nowMs()
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', fmt(now))
local out = {fmt(now)}
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local r = redis.call('HMGET', ARGV[1] .. 'cd:' .. m, 'failures', 'until')
  if r[1] then
    table.insert(out, m)
    table.insert(out, r[1])
    table.insert(out, r[2] or '0')
  else
    redis.call('ZREM', KEYS[1], m)
  end
end
return out
`,
);

/**
 * May this channel key take a request (HealthBook.tryAcquire)? 'FREE' with no failures on
 * record, 'COOLING' before the cooldown ends, 'PROBING' while another claim is out, else it
 * claims the half-open probe (SET NX PX, so exactly one node in the cluster probes): 'PROBE'.
 * KEYS: cooldown hash, probe claim. ARGV: owner, probeTtlMs.
 * Returns {state, until}.
 */
export const COOL_ACQUIRE = script(
  'coolAcquire',
  HELPERS +
    `
local failures = tonumber(redis.call('HGET', KEYS[1], 'failures') or '0')
if failures == 0 then return {'FREE', '0'} end
local untilMs = redis.call('HGET', KEYS[1], 'until') or '0'
if redis.call('EXISTS', KEYS[2]) == 1 then return {'PROBING', untilMs} end
if nowMs() < tonumber(untilMs) then return {'COOLING', untilMs} end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {'PROBE', untilMs} end
return {'PROBING', untilMs}
`,
);

/** Deletes a claim only when this owner holds it. KEYS: claim. ARGV: owner. Returns 1 or 0. */
export const DELETE_IF_OWNER = script(
  'deleteIfOwner',
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`,
);
