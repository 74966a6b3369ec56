/**
 * Admission and settlement on the shared books (GatewayState.shared, money/shared-admission.ts):
 * an in-process gateway whose books are a RedisCoordinator on the run's Redis under a prefix of
 * this file's own, and a second coordinator on its own connection standing for another daemon
 * that takes budget and rate slots at the same time. Key budgets, user balances and rpm hold
 * across both exactly; settlement swaps each reservation for the row's cost; a Redis that is gone
 * refuses budgeted keys at once (503, Retry-After) and serves unbudgeted ones; a failure after the
 * commit does not fail the request; a request longer than a lease keeps its slot by renewing it.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import { freshRedisPrefix, redisUrl } from '../support/stores.js';
import type { KeyCreated, LogRow } from '../../src/shared/control-api.js';
import type { UserView } from '../../src/shared/tenant-api.js';
import { RedisCoordinator } from '../../src/daemon/coord/redis-coordinator.js';
import { connectRedis, unavailable } from '../../src/daemon/coord/redis-client.js';
import { reseedIfEmpty } from '../../src/daemon/coord/reseed.js';
import type { CostTerms, OutputAsk } from '../../src/daemon/gateway/money/meter.js';
import type { SharedBooks } from '../../src/daemon/gateway/state.js';
import { sharedTiming } from '../../src/daemon/gateway/money/shared-admission.js';
import { BcError } from '../../src/shared/errors.js';

const MODEL = 'gpt-x';
// every request costs exactly one unit (a per-request price, tokens free): reserved = billed
const UNIT = 1_000;
const ONE_UNIT: CostTerms = { inputPart: 0, outputPrice: 0, ratio: 1, perRequest: UNIT };
const ASK: OutputAsk = { limit: 100, choices: 1, extra: 0, clamp: null };

let gw: TestGateway;
let sim: OpenAISim;
let prefix: string;
/** the gateway's books */
let coord: RedisCoordinator;
/** another daemon's books, on a connection of its own */
let other: RedisCoordinator;
const logLines: string[] = [];
const ids = new Map<string, number>();
const secrets = new Map<string, string>();
let rid = 0;
const nextId = (): string => `other-${++rid}`;

async function ready(r: Redis): Promise<Redis> {
  if (r.status !== 'ready') await new Promise<void>((ok) => r.once('ready', () => ok()));
  return r;
}

/** a coordinator on the run's Redis; a generous command timeout for a box shared with other tests */
async function coordinator(node: string, leaseMs?: number): Promise<RedisCoordinator> {
  const r = await ready(connectRedis(redisUrl(), { commandTimeoutMs: 2_000 }));
  return new RedisCoordinator(r, { prefix, node, ...(leaseMs === undefined ? {} : { leaseMs }) });
}

const useBooks = (books: SharedBooks | null): void => {
  gw.services.gateway.shared = books;
};

beforeAll(async () => {
  prefix = freshRedisPrefix();
  sim = await startOpenAISim();
  gw = await startGateway({ log: (line) => logLines.push(line) });
  await gw.addChannel({ name: 'oa', type: 'openai', keys: ['sk-oa'], models: [MODEL], base_url: sim.url });
  await gw.call('PUT', `/v1/prices/${MODEL}`, {
    input: 0,
    output: 0,
    per_request: UNIT,
    max_output_tokens: 100,
  });
  const key = async (name: string, body: Record<string, unknown>): Promise<void> => {
    const k = await gw.call<KeyCreated>('POST', '/v1/keys', { name, ...body });
    secrets.set(name, k.key);
  };
  await key('budget20', { budget: 20 * UNIT });
  await key('rpm10', { rpm: 10 });
  await key('free', {});
  await key('budget5', { budget: 5 * UNIT });
  await key('conc1', { concurrency: 1 });
  await gw.call<UserView>('POST', '/v1/users', { name: 'ann', balance: 10 * UNIT });
  await key('ann-a', { user: 'ann' });
  await key('ann-b', { user: 'ann' });
  await gw.call<UserView>('POST', '/v1/users', { name: 'bob', unmetered: true, rpm: 3 });
  await key('bob-a', { user: 'bob' });
  for (const k of await gw.services.gateway.store.listKeys()) ids.set(k.name, k.id);
  for (const u of await gw.services.gateway.store.listUsers()) ids.set(`user:${u.name}`, u.id);
  coord = await coordinator('gw');
  other = await coordinator('other');
  // an empty Redis: the gateway's node seeds it from its store, as after a Redis restart
  expect(await reseedIfEmpty(coord.budget, gw.services.gateway.store, 'gw', 0)).toBe('seeded');
  useBooks(coord);
});

afterAll(async () => {
  if (gw) useBooks(null);
  if (other) {
    const r = other.client.redis;
    let cursor = '0';
    do {
      const [next, found] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (found.length > 0) await r.del(...found);
    } while (cursor !== '0');
  }
  await Promise.all([coord?.close(), other?.close()]);
  await gw?.close();
  await sim?.close();
});

interface Answer {
  status: number;
  headers: Headers;
  body: { error?: { code?: string; message?: string } };
  ms: number;
}

async function chat(keyName: string): Promise<Answer> {
  const t0 = performance.now();
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${secrets.get(keyName)}` },
    body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }),
  });
  const body = (await res.json()) as Answer['body'];
  return { status: res.status, headers: res.headers, body, ms: performance.now() - t0 };
}

const rowsOf = (name: string): Promise<LogRow[]> =>
  gw.call<LogRow[]>('GET', `/v1/logs?key=${name}&limit=1000`);
const costOfRows = (rows: LogRow[]): number => rows.reduce((n, r) => n + (r.cost ?? 0), 0);

describe('shared books: admission and settlement across nodes', () => {
  it('a key budget of 20 units: 8 through the gateway, then 30 more and 30 reservations by another node at once: exactly 20 in all, and Redis spent equals the rows', async () => {
    const keyId = ids.get('budget20')!;
    const payer = { keyId, budget: 20 * UNIT, userId: null };
    // 8 through the gateway alone first, each settled before the next: the race below is for 12
    for (let i = 0; i < 8; i++) expect((await chat('budget20')).status).toBe(200);
    expect(await other.budget.account(keyId)).toEqual({ spent: 8 * UNIT, reserved: 0 });
    const otherIds = Array.from({ length: 30 }, nextId);
    const [answers, reserved] = await Promise.all([
      Promise.all(Array.from({ length: 30 }, () => chat('budget20'))),
      Promise.all(otherIds.map((id) => other.budget.reserve(id, payer, ONE_UNIT, ASK))),
    ]);
    const served = 8 + answers.filter((a) => a.status === 200).length;
    const otherOk = reserved.filter((r) => r.ok).length;
    expect(served + otherOk).toBe(20);
    for (const a of answers.filter((x) => x.status !== 200)) {
      expect(a.status).toBe(403);
      expect(a.body.error?.message).toMatch(/^this key's budget cannot cover the request/);
    }
    await Promise.all(
      otherIds.map((id, i) => other.budget.settle(id, keyId, null, reserved[i]!.ok ? UNIT : 0)),
    );
    const rows = await rowsOf('budget20');
    expect(rows).toHaveLength(38);
    expect(costOfRows(rows)).toBe(served * UNIT);
    // each gateway reservation was swapped for its row's cost; nothing is left held
    expect(await other.budget.account(keyId)).toEqual({ spent: 20 * UNIT, reserved: 0 });
    // the in-memory ledger was not used as well (it would refuse or count twice)
    expect(gw.services.gateway.ledger.spent(keyId)).toBe(0);
  });

  it('rpm 10 shared: the other node takes 6, the gateway admits exactly 4', async () => {
    const keyId = ids.get('rpm10')!;
    const subject = { id: keyId, limits: { rpm: 10, tpm: null, concurrency: null } };
    const taken = Array.from({ length: 6 }, nextId);
    for (const id of taken) await other.rates.admit(id, subject, null, 10);
    const answers = await Promise.all(Array.from({ length: 8 }, () => chat('rpm10')));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(4);
    for (const a of answers.filter((x) => x.status !== 200)) {
      expect(a.status).toBe(429);
      expect(a.body.error?.message).toMatch(/rate limit of 10 requests per minute reached for this key/);
    }
    // and the other node, now, is refused as well
    await expect(other.rates.admit(nextId(), subject, null, 10)).rejects.toMatchObject({
      code: 'RATE_LIMITED',
    });
    await Promise.all(taken.map((id) => other.rates.release(id, keyId, null, 10)));
  });

  it("a user's rpm 3 shared over the user's keys: another node takes 2 for the user, the gateway admits exactly 1 and names the user", async () => {
    const userId = ids.get('user:bob')!;
    const user = { id: userId, limits: { rpm: 3, tpm: null, concurrency: null }, name: 'bob' };
    // another key of bob's on the other node (its own limits none): the user's window is one
    const otherKey = { id: 999_001, limits: { rpm: null, tpm: null, concurrency: null } };
    const taken = [nextId(), nextId()];
    for (const id of taken) await other.rates.admit(id, otherKey, user, 10);
    const answers = await Promise.all(Array.from({ length: 4 }, () => chat('bob-a')));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    for (const a of answers.filter((x) => x.status !== 200)) {
      expect(a.status).toBe(429);
      expect(a.body.error?.message).toMatch(/rate limit of 3 requests per minute reached for user bob/);
    }
    await Promise.all(taken.map((id) => other.rates.release(id, otherKey.id, userId, 10)));
  });

  it("a user's balance of 10 units over two keys on two nodes: 3 through the gateway, then both at once: exactly 10 in all, refusals name the user", async () => {
    const userId = ids.get('user:ann')!;
    const otherKey = ids.get('ann/ann-b')!;
    expect(otherKey).toBeGreaterThan(0);
    const payer = { keyId: otherKey, budget: null, userId };
    for (let i = 0; i < 3; i++) expect((await chat('ann-a')).status).toBe(200);
    expect(await other.budget.wallet(userId)).toEqual({ balance: 7 * UNIT, reserved: 0 });
    const otherIds = Array.from({ length: 15 }, nextId);
    const [answers, reserved] = await Promise.all([
      Promise.all(Array.from({ length: 15 }, () => chat('ann-a'))),
      Promise.all(otherIds.map((id) => other.budget.reserve(id, payer, ONE_UNIT, ASK))),
    ]);
    const served = 3 + answers.filter((a) => a.status === 200).length;
    expect(served + reserved.filter((r) => r.ok).length).toBe(10);
    for (const a of answers.filter((x) => x.status !== 200)) {
      expect(a.status).toBe(403);
      expect(a.body.error?.message).toMatch(/^user ann's balance cannot cover the request/);
    }
    await Promise.all(
      otherIds.map((id, i) => other.budget.settle(id, otherKey, userId, reserved[i]!.ok ? UNIT : 0)),
    );
    expect(costOfRows(await rowsOf('ann/ann-a'))).toBe(served * UNIT);
    expect(await other.budget.wallet(userId)).toEqual({ balance: 0, reserved: 0 });
  });

  it('Redis unreachable: a budgeted key gets 503 with Retry-After within 250 ms, an unbudgeted key is served', async () => {
    const closed = createServer();
    await new Promise<void>((ok) => closed.listen(0, '127.0.0.1', () => ok()));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((ok) => closed.close(() => ok()));
    const gone = new RedisCoordinator(connectRedis(`redis://127.0.0.1:${port}`), { prefix, node: 'gone' });
    useBooks(gone);
    try {
      for (let i = 0; i < 3; i++) {
        const refused = await chat('budget5');
        expect(refused.status).toBe(503);
        expect(refused.headers.get('retry-after')).toBe('1');
        expect(refused.body.error?.code).toBe('coordination_unavailable');
        expect(refused.ms).toBeLessThan(250);
      }
      const served = await chat('free');
      expect(served.status).toBe(200);
    } finally {
      useBooks(coord);
      await gone.close();
    }
    // nothing was reserved or spent on the budgeted key meanwhile
    expect(await other.budget.account(ids.get('budget5')!)).toEqual({ spent: 0, reserved: 0 });
  });

  it('a Redis failure after the commit does not fail the request: 200, one warning, the reservation left to its lease', async () => {
    const keyId = ids.get('budget5')!;
    const failing: SharedBooks = {
      rates: coord.rates,
      budget: {
        reserve: (...a) => coord.budget.reserve(...a),
        settle: async () => {
          throw unavailable('coordination store unavailable (settle): test');
        },
        credit: (...a) => coord.budget.credit(...a),
        renew: (...a) => coord.budget.renew(...a),
      },
    };
    useBooks(failing);
    const before = logLines.length;
    try {
      const a = await chat('budget5');
      expect(a.status).toBe(200);
    } finally {
      useBooks(coord);
    }
    const warnings = logLines
      .slice(before)
      .map((l) => JSON.parse(l) as { level: number; msg: string })
      .filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toMatch(/could not settle its reservation in the coordination store/);
    // the row is in; Redis still holds the reservation until its lease lapses
    expect(costOfRows(await rowsOf('budget5'))).toBe(UNIT);
    expect(await other.budget.account(keyId)).toEqual({ spent: 0, reserved: UNIT });
  });

  it('a request longer than its lease keeps its concurrency slot by renewing it', async () => {
    const short = await coordinator('gw-short-lease', 800);
    const renewMs = sharedTiming.renewMs;
    sharedTiming.renewMs = 150;
    useBooks(short);
    sim.setDelay(2_000);
    try {
      const keyId = ids.get('conc1')!;
      const subject = { id: keyId, limits: { rpm: null, tpm: null, concurrency: 1 } };
      const inFlight = chat('conc1');
      // well past one lease of the gateway's request: its slot is still held
      await new Promise((r) => setTimeout(r, 1_400));
      expect(await other.rates.inFlight('k', keyId)).toBe(1);
      const err = await other.rates.admit(nextId(), subject, null, 1).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BcError);
      expect((err as BcError).code).toBe('RATE_LIMITED');
      expect((await inFlight).status).toBe(200);
      // settled: the slot is free at once, not a lease later
      expect(await other.rates.inFlight('k', keyId)).toBe(0);
    } finally {
      sim.setDelay(0);
      sharedTiming.renewMs = renewMs;
      useBooks(coord);
      await short.close();
    }
  });
});
