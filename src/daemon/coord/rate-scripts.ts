/**
 * The Lua scripts of the shared rate limits (SCALEOUT.md 2(b)): rpm and tpm minute windows and
 * concurrency leases, taken and released atomically on Redis's clock (conventions in scripts.ts).
 */
import { script } from './redis-client.js';
import { HELPERS } from './scripts.js';

/**
 * Puts a request's concurrency leases back after Redis lost them (restarted empty), unless the
 * request was released meanwhile (its release marker) or Redis still has them.
 * KEYS: release marker, then the conc sets (key's, user's). ARGV: requestId, leaseMs.
 * Returns how many leases it put back.
 */
export const RESTORE_SLOT = script(
  'restoreSlot',
  HELPERS +
    `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local leaseMs = tonumber(ARGV[2])
local deadline = fmt(nowMs() + leaseMs)
local n = 0
for i = 2, #KEYS do
  if not redis.call('ZSCORE', KEYS[i], ARGV[1]) then
    redis.call('ZADD', KEYS[i], deadline, ARGV[1])
    redis.call('PEXPIRE', KEYS[i], fmt(leaseMs * 2))
    n = n + 1
  end
end
return n
`,
);

/**
 * The sum of a minute window (HASH epochSecond -> amount) and the seconds until its oldest
 * counted bucket leaves it (limits.ts MinuteWindow.sum/resetS); older buckets are deleted.
 */
const WINDOW = `
local function window(k, nowS)
  local all = redis.call('HGETALL', k)
  local total, oldest = 0, nowS
  for i = 1, #all, 2 do
    local s, v = tonumber(all[i]), tonumber(all[i + 1])
    if nowS - s < 60 then
      total = total + v
      if v > 0 and s < oldest then oldest = s end
    else
      redis.call('HDEL', k, all[i])
    end
  end
  return total, math.max(1, oldest + 60 - nowS)
end
`;

/**
 * Admits one request under the key's limits and its user's (RateLimiter.admit, both subjects,
 * all or nothing): concurrency leases first, then requests per minute, then tokens per minute,
 * the key before the user. On success each subject counts the request in its rpm window and
 * holds a concurrency lease (ZSET requestId -> deadline) until release or the deadline.
 * KEYS: ready, then per subject rpm, tpm, conc. ARGV: requestId, estTokens, leaseMs, then per
 * subject rpm, tpm, concurrency (-1: no limit).
 * Returns {'OK'} | {'NOT_READY'} | {'CONC', subject, limit} | {'RPM', subject, limit, reset} |
 *   {'TPM', subject, limit, used, reset}.
 */
export const RATE_ADMIT = script(
  'rateAdmit',
  HELPERS +
    WINDOW +
    `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'NOT_READY'} end
local rid, est, leaseMs = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local now = nowMs()
local nowS = math.floor(now / 1000)
local n = (#KEYS - 1) / 3
for i = 1, n do
  local rpmK, tpmK, concK = KEYS[3 * i - 1], KEYS[3 * i], KEYS[3 * i + 1]
  local rpm, tpm, conc = tonumber(ARGV[3 * i + 1]), tonumber(ARGV[3 * i + 2]), tonumber(ARGV[3 * i + 3])
  redis.call('ZREMRANGEBYSCORE', concK, '-inf', fmt(now))
  if conc >= 0 and redis.call('ZCARD', concK) >= conc then return {'CONC', i, fmt(conc)} end
  if rpm >= 0 then
    local used, reset = window(rpmK, nowS)
    if used + 1 > rpm then return {'RPM', i, fmt(rpm), fmt(reset)} end
  end
  if tpm >= 0 then
    local used, reset = window(tpmK, nowS)
    if used >= tpm or (used > 0 and used + est > tpm) then
      return {'TPM', i, fmt(tpm), fmt(used), fmt(reset)}
    end
  end
end
local deadline = fmt(now + leaseMs)
for i = 1, n do
  local rpmK, concK = KEYS[3 * i - 1], KEYS[3 * i + 1]
  redis.call('HINCRBY', rpmK, fmt(nowS), 1)
  redis.call('EXPIRE', rpmK, 61)
  redis.call('ZADD', concK, deadline, rid)
  redis.call('PEXPIRE', concK, fmt(leaseMs * 2))
end
return {'OK'}
`,
);

/**
 * Releases a request's concurrency leases and counts the tokens it used in the tpm windows, once
 * per request id (a release marker). KEYS: marker, then per subject tpm, conc.
 * ARGV: requestId, tokens, markerTtlMs. Returns 1 when released now, 0 when it already was.
 */
export const RATE_RELEASE = script(
  'rateRelease',
  HELPERS +
    `
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[3]) then return 0 end
local tokens = tonumber(ARGV[2])
local nowS = fmt(math.floor(nowMs() / 1000))
for i = 2, #KEYS, 2 do
  redis.call('ZREM', KEYS[i + 1], ARGV[1])
  if tokens > 0 then
    redis.call('HINCRBY', KEYS[i], nowS, fmt(tokens))
    redis.call('EXPIRE', KEYS[i], 61)
  end
end
return 1
`,
);
