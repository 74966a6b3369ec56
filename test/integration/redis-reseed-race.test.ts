/**
 * A re-seed of an empty Redis racing settlements (coord/reseed.ts, coord/scripts.ts SETTLE), with
 * the real PostgreSQL store and the run's Redis: the re-seed reads the store, then a request
 * commits and settles in Redis, then the re-seed writes. The settlement carries the spend the
 * store reported after its commit (Store.settle's `after`), so Redis ends at the store's truth for
 * the key's spent and the user's balance, whichever side of the read the commit fell on, and
 * never counts a cost twice. Each interleaving is driven step by step (a gated store read), so
 * the test is deterministic. Last, a daemon on PostgreSQL and Redis: its settlements hand the
 * store's reported spend on to Redis (settle.ts -> settleShared -> SETTLE), so a Redis that
 * missed a cost is brought back to the store's numbers by the next request.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { CoordClient, connectRedis } from '../../src/daemon/coord/redis-client.js';
import { RedisLedger } from '../../src/daemon/coord/redis-ledger.js';
import { reseedIfEmpty, type SeedSource } from '../../src/daemon/coord/reseed.js';
import type { CostTerms, OutputAsk } from '../../src/daemon/gateway/money/meter.js';
import { openPostgresStore, type PostgresStore } from '../../src/daemon/store/postgres/store.js';
import type { SpendAfter } from '../../src/daemon/store/types.js';
import type { KeyCreated } from '../../src/shared/control-api.js';
import type { UserView } from '../../src/shared/tenant-api.js';
import { openaiChannelArgs } from '../support/cli.js';
import { ask, json } from '../support/cluster-client.js';
import { startTestDaemon } from '../support/daemon.js';
import { settledRow } from '../support/log-row.js';
import { startOpenAISim } from '../support/sim/openai-sim.js';
import { freshPgDatabase, freshRedisPrefix, redisUrl } from '../support/stores.js';

const UNIT = 1_000;
const ONE_UNIT: CostTerms = { inputPart: 0, outputPrice: 0, ratio: 1, perRequest: UNIT };
const ASK: OutputAsk = { limit: 100, choices: 1, extra: 0, clamp: null };
const BUDGET = 10 * UNIT;
const BALANCE = 100 * UNIT;

let store: PostgresStore;
let redis: Redis;
let rid = 0;
const nextId = (): string => `race-${++rid}`;

beforeAll(async () => {
  store = await openPostgresStore(await freshPgDatabase(), { max: 4 });
  redis = connectRedis(redisUrl(), { commandTimeoutMs: 2_000 });
  if (redis.status !== 'ready') await new Promise<void>((ok) => redis.once('ready', () => ok()));
});

afterAll(async () => {
  redis?.disconnect();
  await store?.close();
});

/** A metered user and a budgeted key of theirs, and a ledger on a Redis prefix of their own, seeded. */
async function books(): Promise<{ ledger: RedisLedger; keyId: number; userId: number; prefix: string }> {
  const tag = nextId();
  const now = new Date().toISOString();
  const [u] = await store.sql<{ id: number }[]>`
    INSERT INTO users (name, balance, credited, created_at, updated_at)
    VALUES (${tag}, ${BALANCE}, ${BALANCE}, ${now}, ${now}) RETURNING id`;
  const key = await store.createKey({
    name: `${tag}/app`,
    hash: `hash-${tag}`,
    prefix: 'sk-bc-Abcd',
    group: 'default',
    budget: BUDGET,
    expiresAt: null,
    models: [],
    allowIps: [],
    rpm: null,
    tpm: null,
    concurrency: null,
    status: 'enabled',
    userId: u!.id,
  });
  const prefix = freshRedisPrefix();
  const ledger = new RedisLedger(new CoordClient(redis, prefix));
  expect(await reseedIfEmpty(ledger, store, 'n1', 0)).toBe('seeded');
  return { ledger, keyId: key.id, userId: u!.id, prefix };
}

/** Redis restarted empty: every key of the prefix is gone (the ready flag with them). */
async function emptied(prefix: string): Promise<void> {
  const found = await redis.keys(`${prefix}*`);
  if (found.length > 0) await redis.del(...found);
}

/**
 * The store as the re-seed reads it, stopped after both reads until `resume`: `read` resolves
 * once the re-seed holds its (now frozen) view of the store.
 */
function gatedStore(): { source: SeedSource; read: Promise<void>; resume: () => void } {
  let resume!: () => void;
  const resumed = new Promise<void>((ok) => (resume = ok));
  let readOne!: () => void;
  let reads = 0;
  const read = new Promise<void>((ok) => (readOne = ok));
  const gate = async <T>(got: T): Promise<T> => {
    if (++reads === 2) readOne();
    await resumed;
    return got;
  };
  return {
    source: {
      listKeys: async () => gate(await store.listKeys()),
      listUsers: async () => gate(await store.listUsers()),
    },
    read,
    resume,
  };
}

/** What settle.ts does after the response: commit the row, then settle the books with what the store said. */
async function commitAndSettle(
  ledger: RedisLedger,
  id: string,
  keyId: number,
  userId: number,
): Promise<void> {
  const after: SpendAfter = {};
  await store.settle(settledRow(id, { key: 'app', key_id: keyId, cost: UNIT }), after);
  await ledger.settle(id, keyId, userId, UNIT, after);
}

/** The store's truth for the key and the user. */
async function truth(keyId: number, userId: number): Promise<{ spent: number; balance: number }> {
  const [k] = await store.sql<{ spent: number }[]>`SELECT spent FROM keys WHERE id = ${keyId}`;
  const [u] = await store.sql<{ balance: number }[]>`SELECT balance FROM users WHERE id = ${userId}`;
  return { spent: k!.spent, balance: u!.balance };
}

describe('a re-seed racing a settlement', () => {
  it('the store read, then a request commits and settles in Redis, then the seed is written: Redis spent and balance equal the store', async () => {
    const { ledger, keyId, userId, prefix } = await books();
    const payer = { keyId, budget: BUDGET, userId };
    // two requests settled before the restart, one in flight across it
    for (let i = 0; i < 2; i++) {
      const id = nextId();
      expect((await ledger.reserve(id, payer, ONE_UNIT, ASK)).ok).toBe(true);
      await commitAndSettle(ledger, id, keyId, userId);
    }
    const inFlight = nextId();
    expect((await ledger.reserve(inFlight, payer, ONE_UNIT, ASK)).ok).toBe(true);
    await emptied(prefix);
    const gated = gatedStore();
    const seeding = reseedIfEmpty(ledger, gated.source, 'n1', 0);
    await gated.read;
    // after the read, before the seed is written (Redis not ready): the request finishes
    await commitAndSettle(ledger, inFlight, keyId, userId);
    gated.resume();
    expect(await seeding).toBe('seeded');
    expect(await truth(keyId, userId)).toEqual({ spent: 3 * UNIT, balance: BALANCE - 3 * UNIT });
    expect(await ledger.account(keyId)).toEqual({ spent: 3 * UNIT, reserved: 0 });
    expect(await ledger.wallet(userId)).toEqual({ balance: BALANCE - 3 * UNIT, reserved: 0 });
    // and the books go on from there: exactly the budget left is handed out
    let admitted = 0;
    for (let i = 0; i < 12; i++) if ((await ledger.reserve(nextId(), payer, ONE_UNIT, ASK)).ok) admitted++;
    expect(admitted).toBe(7);
  });

  it('the seed written first, then a request that committed after the read settles before the ready flag: lifted to the store', async () => {
    const { ledger, keyId, userId, prefix } = await books();
    const payer = { keyId, budget: BUDGET, userId };
    const inFlight = nextId();
    expect((await ledger.reserve(inFlight, payer, ONE_UNIT, ASK)).ok).toBe(true);
    await emptied(prefix);
    // the seed is read and written before the commit; the ready flag is not set yet (the grace)
    const gated = gatedStore();
    const seeding = reseedIfEmpty(ledger, gated.source, 'n1', 2_000);
    await gated.read;
    const after: SpendAfter = {};
    await store.settle(settledRow(inFlight, { key: 'app', key_id: keyId, cost: UNIT }), after);
    gated.resume();
    await expect.poll(() => ledger.account(keyId)).toEqual({ spent: 0, reserved: UNIT });
    expect(await ledger.isReady()).toBe(false);
    await ledger.settle(inFlight, keyId, userId, UNIT, after);
    expect(await seeding).toBe('seeded');
    expect(await ledger.account(keyId)).toEqual({ spent: UNIT, reserved: 0 });
    expect(await ledger.wallet(userId)).toEqual({ balance: BALANCE - UNIT, reserved: 0 });
  });

  it('a request that committed before the read but settles in Redis after the ready flag is not counted twice', async () => {
    const { ledger, keyId, userId, prefix } = await books();
    const payer = { keyId, budget: BUDGET, userId };
    const late = nextId();
    expect((await ledger.reserve(late, payer, ONE_UNIT, ASK)).ok).toBe(true);
    const after: SpendAfter = {};
    await store.settle(settledRow(late, { key: 'app', key_id: keyId, cost: UNIT }), after);
    await emptied(prefix);
    expect(await reseedIfEmpty(ledger, store, 'n1', 0)).toBe('seeded');
    // the seed read the commit; its Redis settle arrives only now (a slow connection)
    await ledger.settle(late, keyId, userId, UNIT, after);
    expect(await truth(keyId, userId)).toEqual({ spent: UNIT, balance: BALANCE - UNIT });
    expect(await ledger.account(keyId)).toEqual({ spent: UNIT, reserved: 0 });
    expect(await ledger.wallet(userId)).toEqual({ balance: BALANCE - UNIT, reserved: 0 });
  });

  it('settlements reported out of order, and one Redis never heard: Redis ends at the store, credits kept', async () => {
    const { ledger, keyId, userId } = await books();
    const payer = { keyId, budget: BUDGET, userId };
    const ids = [nextId(), nextId(), nextId()];
    for (const id of ids) expect((await ledger.reserve(id, payer, ONE_UNIT, ASK)).ok).toBe(true);
    const afters: SpendAfter[] = [];
    for (const id of ids) {
      const after: SpendAfter = {};
      await store.settle(settledRow(id, { key: 'app', key_id: keyId, cost: UNIT }), after);
      afters.push(after);
    }
    expect(afters).toEqual([1, 2, 3].map((n) => ({ key: n * UNIT, user: n * UNIT })));
    await ledger.credit(userId, 5 * UNIT);
    await store.sql`UPDATE users SET balance = balance + ${5 * UNIT}, credited = credited + ${5 * UNIT}
      WHERE id = ${userId}`;
    // the last to commit settles first; the first never reaches Redis (its lease will lapse)
    for (const i of [2, 1]) await ledger.settle(ids[i]!, keyId, userId, UNIT, afters[i]);
    const t = await truth(keyId, userId);
    expect(t).toEqual({ spent: 3 * UNIT, balance: BALANCE + 2 * UNIT });
    expect((await ledger.account(keyId))!.spent).toBe(t.spent);
    expect((await ledger.wallet(userId))!.balance).toBe(t.balance);
  });
});

describe('a daemon on PostgreSQL and Redis', () => {
  it("settles with the spend the store reported: a Redis that lost a cost is back at the store's numbers after the next request", async () => {
    const CENT = 10_000;
    const sim = await startOpenAISim();
    const prefix = freshRedisPrefix();
    const d = await startTestDaemon({
      env: {
        BC_DB: await freshPgDatabase(),
        BC_REDIS: redisUrl(),
        BC_REDIS_PREFIX: prefix,
        BC_MASTER_KEY: randomBytes(32).toString('hex'),
      },
    });
    try {
      json(
        await d.bc([...openaiChannelArgs('sim', 'sk-up-0000000000', 'm', '--base-url', sim.url), '--json']),
      );
      json(
        await d.bc(['price', 'set', 'm', '--input', '0', '--output', '0', '--per-request', '0.01', '--json']),
      );
      const user = json<UserView>(await d.bc(['user', 'create', '--name', 'lu', '--balance', '1', '--json']));
      const k = json<KeyCreated>(
        await d.bc(['key', 'create', '--name', 'lk', '--user', 'lu', '--budget', '1', '--json']),
      );
      expect((await ask(d.gatewayUrl, k.key, {})).status).toBe(200);
      const keyAcct = `${prefix}k:${k.id}:acct`;
      const wallet = `${prefix}u:${user.id}:acct`;
      expect(await redis.hmget(keyAcct, 'spent')).toEqual([String(CENT)]);
      expect(await redis.hmget(wallet, 'balance')).toEqual([String(100 * CENT - CENT)]);
      // the first request's cost lost by Redis (as a settlement racing a re-seed lost it before)
      await redis.hset(keyAcct, 'spent', '0');
      await redis.hincrby(wallet, 'balance', CENT);
      await redis.hincrby(wallet, 'spent', -CENT);
      expect((await ask(d.gatewayUrl, k.key, {})).status).toBe(200);
      const shown = json<UserView>(await d.bc(['user', 'show', 'lu', '--json']));
      expect(shown).toMatchObject({ balance: 98 * CENT, spent: 2 * CENT });
      expect(await redis.hmget(keyAcct, 'spent', 'reserved')).toEqual([String(2 * CENT), '0']);
      expect(await redis.hmget(wallet, 'balance', 'reserved')).toEqual([String(98 * CENT), '0']);
    } finally {
      await d.cleanup();
      await sim.close();
    }
  }, 60_000);
});
