/**
 * One API's billing endpoints (/v1/dashboard/billing/usage and /subscription, routes/system.ts)
 * on a gateway whose books are shared through Redis (GatewayState.shared): settlements do not
 * move the node's in-memory ledger there, so the spend reported must come from the durable store,
 * which has this node's settlements and every other daemon's. An in-process gateway on the run's
 * Redis under a prefix of this file's own; "another daemon" settles rows straight into the store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import { settledRow } from '../support/log-row.js';
import { freshRedisPrefix, redisUrl } from '../support/stores.js';
import type { KeyCreated } from '../../src/shared/control-api.js';
import { RedisCoordinator } from '../../src/daemon/coord/redis-coordinator.js';
import { connectRedis } from '../../src/daemon/coord/redis-client.js';
import { reseedIfEmpty } from '../../src/daemon/coord/reseed.js';

const MODEL = 'gpt-x';
// every request costs exactly one unit: $0.001
const UNIT = 1_000;

let gw: TestGateway;
let sim: OpenAISim;
let coord: RedisCoordinator;
const secrets = new Map<string, string>();
/** the keys' ids and names as created (a user's key is named under the user) */
const keys = new Map<string, { id: number; name: string }>();

beforeAll(async () => {
  sim = await startOpenAISim();
  gw = await startGateway();
  await gw.addChannel({ name: 'oa', type: 'openai', keys: ['sk-oa'], models: [MODEL], base_url: sim.url });
  await gw.call('PUT', `/v1/prices/${MODEL}`, {
    input: 0,
    output: 0,
    per_request: UNIT,
    max_output_tokens: 100,
  });
  await gw.call('POST', '/v1/users', { name: 'ann', balance: 10 * UNIT });
  for (const [name, body] of [
    ['budget20', { budget: 20 * UNIT }],
    ['ann-a', { user: 'ann' }],
  ] as const) {
    const k = await gw.call<KeyCreated>('POST', '/v1/keys', { name, ...body });
    secrets.set(name, k.key);
    keys.set(name, { id: k.id, name: k.name });
  }
  const redis: Redis = connectRedis(redisUrl(), { commandTimeoutMs: 2_000 });
  if (redis.status !== 'ready') await new Promise<void>((ok) => redis.once('ready', () => ok()));
  coord = new RedisCoordinator(redis, { prefix: freshRedisPrefix(), node: 'gw' });
  expect(await reseedIfEmpty(coord.budget, gw.services.gateway.store, 'gw', 0)).toBe('seeded');
  gw.services.gateway.shared = coord;
});

afterAll(async () => {
  if (gw) gw.services.gateway.shared = null;
  await coord?.close();
  await gw?.close();
  await sim?.close();
});

async function get<T>(keyName: string, path: string): Promise<T> {
  const res = await fetch(`${gw.url}${path}`, {
    headers: { authorization: `Bearer ${secrets.get(keyName)}` },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

async function chat(keyName: string): Promise<number> {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${secrets.get(keyName)}` },
    body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }),
  });
  await res.arrayBuffer();
  return res.status;
}

/** A unit of the key's spend settled into the shared store by another daemon. */
async function otherDaemonSettles(requestId: string, keyName: string): Promise<void> {
  const k = keys.get(keyName)!;
  await gw.services.gateway.store.settle(settledRow(requestId, { key: k.name, key_id: k.id, cost: UNIT }));
}

/** total_usage is in US cents */
const usageCents = async (keyName: string): Promise<number> =>
  (await get<{ total_usage: number }>(keyName, '/v1/dashboard/billing/usage')).total_usage;
const cents = (units: number): number => (units * UNIT) / 10_000;

describe('billing endpoints with shared books', () => {
  it("a budgeted key's usage counts this node's settlements and another daemon's", async () => {
    for (let i = 0; i < 3; i++) expect(await chat('budget20')).toBe(200);
    expect(await usageCents('budget20')).toBeCloseTo(cents(3), 9);
    // another daemon settles two units of the same key into the shared store
    for (const id of ['other-1', 'other-2']) await otherDaemonSettles(id, 'budget20');
    expect(await usageCents('budget20')).toBeCloseTo(cents(5), 9);
    const sub = await get<{ hard_limit_usd: number }>('budget20', '/v1/dashboard/billing/subscription');
    expect(sub.hard_limit_usd).toBe(0.02);
  });

  it("a user's key without a budget reports the user's credit and what of it is spent", async () => {
    for (let i = 0; i < 2; i++) expect(await chat('ann-a')).toBe(200);
    await otherDaemonSettles('other-3', 'ann-a');
    expect(await usageCents('ann-a')).toBeCloseTo(cents(3), 9);
    // the credit is the user's ledger: spending moves none of it
    const sub = await get<{ hard_limit_usd: number }>('ann-a', '/v1/dashboard/billing/subscription');
    expect(sub.hard_limit_usd).toBe(0.01);
  });
});
