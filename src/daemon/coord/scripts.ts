/**
 * The Lua scripts that make every shared budget and lease decision atomic on Redis (SCALEOUT.md
 * 2(a)); rate limits are in rate-scripts.ts, channel cooldowns in cooldown-scripts.ts. Each decision is one script: Redis runs a script to the
 * end before it runs anything else, so reading what is left and taking it cannot interleave with
 * another node's request, which is the whole point (no read-then-write from TypeScript). Time is
 * always Redis's own clock (TIME), never a node's, so nodes with skewed clocks agree on windows
 * and lease deadlines.
 *
 * Numbers: Lua 5.1 numbers are IEEE doubles like JavaScript's, so the fit below repeats meter.ts's
 * termsCost/fitOutput operation for operation and gets the same doubles (the property test in
 * test/integration/redis-coord.test.ts holds it to that). Redis turns a Lua number handed to
 * redis.call or returned into "%.14g" text or a truncated integer, so every number crossing that
 * boundary goes through fmt() ("%.0f", exact for whole numbers below 2^53); only whole numbers
 * (micro-USD, tokens, milliseconds) ever cross it.
 */
import { script } from './redis-client.js';

/** Shared helpers, pasted at the top of the scripts that need them. */
export const HELPERS = `
local function fmt(x) return string.format('%.0f', x) end
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/** meter.ts termsCost, askedOutput and fitOutput, in the same order of operations. */
const FIT = `
local function termsCost(ip, op, ratio, per, out)
  return math.ceil(((ip + out * op) / 1000000) * ratio + per)
end
local function askedOutput(choices, extra, n)
  return math.max(1, choices) * n + extra
end
-- returns amount, outputTokens, clamped (0/1), or nil when nothing fits
local function fitOutput(left, ip, op, ratio, per, limit, choices, extra, hasClamp, cmin, cmax)
  local function cost(n) return termsCost(ip, op, ratio, per, askedOutput(choices, extra, n)) end
  local full = cost(limit)
  if full <= left then return full, limit, 0 end
  if hasClamp ~= 1 or cmin > cmax or cost(cmin) > left then return nil end
  local lo, hi = cmin, cmax
  while lo < hi do
    local mid = math.floor((lo + hi + 1) / 2)
    if cost(mid) <= left then lo = mid else hi = mid - 1 end
  end
  return cost(lo), lo, 1
end
`;

/**
 * Drops an account's reservations whose lease deadline has passed (a node that died, or never
 * settled): subtracts them from the account's reserved total and forgets them. This is how a dead
 * node's holds heal.
 */
const EXPIRE_HOLDS = `
local function expireHolds(acct, res, lease, now)
  local gone = redis.call('ZRANGEBYSCORE', lease, '-inf', fmt(now))
  if #gone == 0 then return end
  local freed = 0
  for _, id in ipairs(gone) do
    freed = freed + tonumber(redis.call('HGET', res, id) or '0')
    redis.call('HDEL', res, id)
  end
  redis.call('ZREMRANGEBYSCORE', lease, '-inf', fmt(now))
  if freed ~= 0 then redis.call('HINCRBY', acct, 'reserved', fmt(-freed)) end
end
`;

/**
 * Reserve, against the key's budget and the user's wallet together (BudgetLedger.reserveJoint).
 * KEYS: ready, key acct, key res, key lease, user acct, user res, user lease.
 * ARGV: requestId, hasKey, budget, spentHint (-1: none), hasUser, inputPart, outputPrice, ratio,
 *   perRequest, limit, choices, extra, hasClamp, clampMin, clampMax, leaseMs.
 * Returns {'OK', amount, outputTokens, clamped} | {'REFUSED', left, 'key'|'user'} |
 *   {'NOT_READY'} | {'NOT_SEEDED', 'key'|'user'} | {'DUPLICATE'}.
 * The key's spent is max(what Redis has, the node's durable hint): a stale-low Redis can never
 * count less than the node has seen committed. An account Redis has never been given is refused
 * (NOT_SEEDED), never taken as zero.
 */
export const RESERVE = script(
  'reserve',
  HELPERS +
    FIT +
    EXPIRE_HOLDS +
    `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'NOT_READY'} end
local rid = ARGV[1]
local hasKey, hasUser = ARGV[2] == '1', ARGV[5] == '1'
local budget, hint = tonumber(ARGV[3]), tonumber(ARGV[4])
local now = nowMs()
if (hasKey and redis.call('HEXISTS', KEYS[3], rid) == 1) or
   (hasUser and redis.call('HEXISTS', KEYS[6], rid) == 1) then return {'DUPLICATE'} end
local keyLeft, userLeft = math.huge, math.huge
if hasKey then
  local stored = redis.call('HGET', KEYS[2], 'spent')
  if not stored and hint < 0 then return {'NOT_SEEDED', 'key'} end
  local spent = tonumber(stored or '-1')
  if hint > spent then
    spent = hint
    redis.call('HSET', KEYS[2], 'spent', fmt(spent))
  end
  expireHolds(KEYS[2], KEYS[3], KEYS[4], now)
  keyLeft = budget - spent - tonumber(redis.call('HGET', KEYS[2], 'reserved') or '0')
end
if hasUser then
  local balance = redis.call('HGET', KEYS[5], 'balance')
  if not balance then return {'NOT_SEEDED', 'user'} end
  expireHolds(KEYS[5], KEYS[6], KEYS[7], now)
  userLeft = tonumber(balance) - tonumber(redis.call('HGET', KEYS[5], 'reserved') or '0')
end
local left = math.min(keyLeft, userLeft)
local amount, out, clamped = fitOutput(left, tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]),
  tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12]), tonumber(ARGV[13]),
  tonumber(ARGV[14]), tonumber(ARGV[15]))
if not amount then
  local short = 'key'
  if userLeft < keyLeft then short = 'user' end
  return {'REFUSED', fmt(math.max(0, left)), short}
end
local deadline = fmt(now + tonumber(ARGV[16]))
if hasKey then
  redis.call('HINCRBY', KEYS[2], 'reserved', fmt(amount))
  redis.call('HSET', KEYS[3], rid, fmt(amount))
  redis.call('ZADD', KEYS[4], deadline, rid)
end
if hasUser then
  redis.call('HINCRBY', KEYS[5], 'reserved', fmt(amount))
  redis.call('HSET', KEYS[6], rid, fmt(amount))
  redis.call('ZADD', KEYS[7], deadline, rid)
end
return {'OK', fmt(amount), fmt(out), clamped}
`,
);

/**
 * Settle: swaps the request's reservation for its real cost, once per request id (a done marker;
 * a repeated settle changes nothing). With the durable spend after the commit (Store.settle's
 * `after`) the books move to it, never by adding: the key's spent becomes the highest spent
 * reported, and the user's balance is lowered by how far the user's reported spent passes the
 * spent the wallet already reflects (its 'spent' field, set by the seed). Spend only grows, so
 * this is exact in any order and never counts a cost twice, whether the re-seed's read of the
 * store came before the commit (the cost is brought in) or after it (nothing is added). While the
 * re-seed has not written an account yet, the reported spend is left on it for SEED_KEY/SEED_USER.
 * Without it (a store that cannot say, a spilled row) the cost is added once the ready flag is
 * back, and before that only the reservation is released, as the re-seed's read may hold it.
 * Accounts Redis does not hold while ready are not created: the next seed brings them.
 * KEYS: ready, key acct, key res, key lease, user acct, user res, user lease, done marker.
 * ARGV: requestId, cost, keySpent (-1: not known), userSpent (-1: not known), doneTtlMs.
 * Returns 1 when settled now, 0 when it already was.
 */
export const SETTLE = script(
  'settle',
  HELPERS +
    `
local rid, cost = ARGV[1], tonumber(ARGV[2])
local keySpent, userSpent = tonumber(ARGV[3]), tonumber(ARGV[4])
if not redis.call('SET', KEYS[8], '1', 'NX', 'PX', ARGV[5]) then return 0 end
local ready = redis.call('EXISTS', KEYS[1]) == 1
local function release(acct, res, lease)
  local held = redis.call('HGET', res, rid)
  if held then
    redis.call('HINCRBY', acct, 'reserved', fmt(-tonumber(held)))
    redis.call('HDEL', res, rid)
  end
  redis.call('ZREM', lease, rid)
end
release(KEYS[2], KEYS[3], KEYS[4])
release(KEYS[5], KEYS[6], KEYS[7])
local spent = redis.call('HGET', KEYS[2], 'spent')
if keySpent >= 0 then
  if (spent or not ready) and keySpent > tonumber(spent or '-1') then
    redis.call('HSET', KEYS[2], 'spent', fmt(keySpent))
  end
elseif spent and ready then
  redis.call('HSET', KEYS[2], 'spent', fmt(tonumber(spent) + cost))
end
local balance = redis.call('HGET', KEYS[5], 'balance')
local seen = redis.call('HGET', KEYS[5], 'spent')
if userSpent >= 0 and (seen or not balance) then
  if not seen or userSpent > tonumber(seen) then
    if balance then
      redis.call('HINCRBY', KEYS[5], 'balance', fmt(-(userSpent - tonumber(seen))))
      redis.call('HSET', KEYS[5], 'spent', fmt(userSpent))
    elseif not ready then
      redis.call('HSET', KEYS[5], 'spent', fmt(userSpent))
    end
  end
elseif balance and ready and cost ~= 0 then
  redis.call('HINCRBY', KEYS[5], 'balance', fmt(-cost))
  if seen then redis.call('HINCRBY', KEYS[5], 'spent', fmt(cost)) end
end
return 1
`,
);

/**
 * Seeds a key's settled spend from the durable store: SET-max (spent only grows, so a stale read
 * can never lower it, and N nodes seeding together never multiply it).
 * KEYS: key acct. ARGV: spent. Returns the spent Redis now holds.
 */
export const SEED_KEY = script(
  'seedKey',
  HELPERS +
    `
local have = redis.call('HGET', KEYS[1], 'spent')
local want = tonumber(ARGV[1])
if have and tonumber(have) >= want then return have end
redis.call('HSET', KEYS[1], 'spent', fmt(want))
return fmt(want)
`,
);

/**
 * Seeds a user's balance from the durable store: SET when absent (a wallet Redis already holds
 * has moved with credits and settlements since, like BudgetLedger.loadUser), or always with
 * force (an operator's correction). The user's spent from the same read goes in beside it, for
 * SETTLE; settlements that committed after the read and already reported a higher spent (left
 * on the wallet while it had no balance) are taken off the balance read.
 * KEYS: user acct. ARGV: balance, force (0/1), spent (-1: not known).
 * Returns the balance Redis now holds.
 */
export const SEED_USER = script(
  'seedUser',
  HELPERS +
    `
local have = redis.call('HGET', KEYS[1], 'balance')
if have and ARGV[2] ~= '1' then return have end
local balance, spent = tonumber(ARGV[1]), tonumber(ARGV[3])
local seen = tonumber(redis.call('HGET', KEYS[1], 'spent') or '-1')
if spent < 0 then
  redis.call('HDEL', KEYS[1], 'spent')
else
  if not have and seen > spent then
    balance = balance - (seen - spent)
    spent = seen
  end
  redis.call('HSET', KEYS[1], 'spent', fmt(spent))
end
redis.call('HSET', KEYS[1], 'balance', fmt(balance))
return fmt(balance)
`,
);

/**
 * A committed credit or debit outside settlement, on a wallet Redis holds (none: the next seed
 * reads the store, which has it). KEYS: user acct. ARGV: amount. Returns the new balance or false.
 */
export const CREDIT = script(
  'credit',
  `
if redis.call('HEXISTS', KEYS[1], 'balance') == 0 then return false end
return tostring(redis.call('HINCRBY', KEYS[1], 'balance', ARGV[1]))
`,
);

/**
 * Renews a request's leases (budget holds and concurrency slots) that still exist: ZADD XX never
 * brings back one that expired. A concurrency set carries a TTL of two leases (set at admission);
 * it is pushed out too (PEXPIRE GT: never shortened, and a set without a TTL keeps none), or a
 * long stream renewing its slot would lose the whole set when no other request came by.
 * KEYS: lease sets. ARGV: requestId, leaseMs.
 */
export const RENEW = script(
  'renew',
  HELPERS +
    `
local leaseMs = tonumber(ARGV[2])
local deadline = fmt(nowMs() + leaseMs)
local n = 0
for _, k in ipairs(KEYS) do
  if redis.call('ZSCORE', k, ARGV[1]) then
    redis.call('ZADD', k, 'XX', deadline, ARGV[1])
    redis.call('PEXPIRE', k, fmt(leaseMs * 2), 'GT')
    n = n + 1
  end
end
return n
`,
);

/**
 * Puts back a reservation of a request still in flight on a Redis that lost it (restarted empty,
 * SCALEOUT.md 2(g)): the owner node re-registers it while the re-seed waits, so that the budget
 * left after the re-seed (which counts only committed spend) is not handed out a second time.
 * Nothing is done for a request already settled (its done marker) or a hold Redis still has (a
 * mere reconnect). The ready flag is not needed: this runs before it is set.
 * KEYS: key acct, key res, key lease, user acct, user res, user lease, done marker.
 * ARGV: requestId, amount, hasKey (0/1), hasUser (0/1), leaseMs. Returns how many holds it put back.
 */
export const RESTORE_HOLD = script(
  'restoreHold',
  HELPERS +
    `
local rid, amount = ARGV[1], ARGV[2]
if redis.call('EXISTS', KEYS[7]) == 1 then return 0 end
local deadline = fmt(nowMs() + tonumber(ARGV[5]))
local n = 0
local function restore(acct, res, lease)
  if redis.call('HSETNX', res, rid, amount) == 0 then return end
  redis.call('HINCRBY', acct, 'reserved', amount)
  redis.call('ZADD', lease, deadline, rid)
  n = n + 1
end
if ARGV[3] == '1' then restore(KEYS[1], KEYS[2], KEYS[3]) end
if ARGV[4] == '1' then restore(KEYS[4], KEYS[5], KEYS[6]) end
return n
`,
);
