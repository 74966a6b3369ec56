/**
 * Money and limits held exactly over a cluster (SPEC section 9, issue 17's proof): three real
 * daemons on one PostgreSQL database and the run's Redis, requests spread over all three at once.
 * - A key budget of 100 requests' worth, 300 at once: exactly 100 served, 200 refused with
 *   insufficient_quota, the key's spend equal to the sum of its rows; the same for a user's
 *   balance drawn on by their key.
 * - One redemption code redeemed for one user through the three nodes at once: credited once, in
 *   the store and in the shared wallet (the credit then buys exactly what it should).
 * - rpm 60: exactly 60 of 150 accepted within the minute; concurrency 5: the upstream never sees
 *   more than 5 of the key's streams at once, and under load it does see 5.
 * Every request costs a fixed $0.01 (per-request price, no token price), so a reservation is
 * exactly what the request is then charged, and "exactly N" does not depend on timing.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { openaiChannelArgs } from '../support/cli.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import { freshPgDatabase, freshRedisPrefix, redisUrl } from '../support/stores.js';
import { ask, books, json, msUntil, sleep, type Answer } from '../support/cluster-client.js';
import type { KeyCreated } from '../../src/shared/control-api.js';
import type { RedeemAnswer, RedeemCodesCreated, UserView } from '../../src/shared/tenant-api.js';

const CENT = 10_000;
let sim: OpenAISim;
let counter: InFlightCounter;
let redis: Redis;
let prefix: string;
const nodes: TestDaemon[] = [];

/**
 * An HTTP hop in front of the simulator that counts the requests in flight through it (from
 * arrival to the end of the upstream answer) and remembers the most at once.
 */
interface InFlightCounter {
  url: string;
  now: number;
  peak: number;
  close(): Promise<void>;
}

async function startCounter(target: number): Promise<InFlightCounter> {
  const c = { now: 0, peak: 0 };
  const server = http.createServer((req, res) => {
    c.now += 1;
    c.peak = Math.max(c.peak, c.now);
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      c.now -= 1;
    };
    const up = http.request(
      { host: '127.0.0.1', port: target, method: req.method, path: req.url, headers: req.headers },
      (ur) => {
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        ur.pipe(res);
        ur.on('end', finish);
        ur.on('error', finish);
      },
    );
    up.on('error', () => {
      finish();
      res.destroy();
    });
    res.on('close', finish);
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(c, {
    url: `http://127.0.0.1:${port}/v1`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  });
}

beforeAll(async () => {
  sim = await startOpenAISim();
  counter = await startCounter(sim.port);
  prefix = freshRedisPrefix();
  redis = new Redis(redisUrl());
  const env = {
    BC_DB: await freshPgDatabase(),
    BC_REDIS: redisUrl(),
    BC_REDIS_PREFIX: prefix,
    // every node needs the same master key (SPEC section 9)
    BC_MASTER_KEY: randomBytes(32).toString('hex'),
  };
  // one after the other: the first migrates the database and seeds Redis
  for (let i = 0; i < 3; i++) nodes.push(await startTestDaemon({ env }));
  const a = nodes[0]!;
  json(await a.bc([...openaiChannelArgs('sim', 'sk-up-0000000000', 'm', '--base-url', sim.url), '--json']));
  // model s goes through the counting hop
  json(
    await a.bc([...openaiChannelArgs('slow', 'sk-up-0000000001', 's', '--base-url', counter.url), '--json']),
  );
  for (const model of ['m', 's'])
    json(
      await a.bc(['price', 'set', model, '--input', '0', '--output', '0', '--per-request', '0.01', '--json']),
    );
}, 120_000);

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.cleanup()));
  await counter?.close();
  await sim?.close();
  redis?.disconnect();
});

/** Waits until every node knows the key: a model it does not route is refused, not the key (401). */
async function knownEverywhere(key: string): Promise<void> {
  for (const n of nodes)
    expect(
      await msUntil(async () => (await ask(n.gatewayUrl, key, { model: 'unrouted' })).status !== 401, 5000),
    ).toBeLessThan(5000);
}

/** `count` requests at once, spread over the three nodes in turn. */
function burst(key: string, count: number, body: Record<string, unknown> = {}): Promise<Answer[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => ask(nodes[i % 3]!.gatewayUrl, key, body)));
}

const tally = (answers: Answer[]) => {
  const out: Record<string, number> = {};
  for (const a of answers) {
    const what = `${a.status}${a.error ? ` ${a.error}` : ''}`;
    out[what] = (out[what] ?? 0) + 1;
  }
  return out;
};

describe('money and limits over three daemons', () => {
  it('a key budget of 100 requests: 300 at once over three nodes, exactly 100 served, spend = rows', async () => {
    const [a] = nodes as [TestDaemon];
    const k = json<KeyCreated>(await a.bc(['key', 'create', '--name', 'kb', '--budget', '1', '--json']));
    await knownEverywhere(k.key);
    const answers = await burst(k.key, 300);
    expect(tally(answers)).toEqual({ '200': 100, '403 insufficient_quota': 200 });
    const { spent, rows } = await books(a, 'kb');
    expect(spent).toBe(100 * CENT);
    expect(rows.reduce((s, r) => s + r.cost, 0)).toBe(spent);
  }, 60_000);

  it("a user's balance of 100 requests: 300 at once through their key, exactly 100 served, balance = rows", async () => {
    const [a] = nodes as [TestDaemon];
    json(await a.bc(['user', 'create', '--name', 'ub', '--balance', '0', '--json']));
    json(await a.bc(['user', 'topup', 'ub', '--usd', '1', '--json']));
    const k = json<KeyCreated>(await a.bc(['key', 'create', '--name', 'ubk', '--user', 'ub', '--json']));
    await knownEverywhere(k.key);
    const answers = await burst(k.key, 300);
    expect(tally(answers)).toEqual({ '200': 100, '403 insufficient_quota': 200 });
    const user = json<UserView>(await a.bc(['user', 'show', 'ub', '--json']));
    const { spent, rows } = await books(a, k.name);
    expect(rows.reduce((s, r) => s + r.cost, 0)).toBe(100 * CENT);
    expect(spent).toBe(100 * CENT);
    expect(user.balance).toBe(0);
  }, 60_000);

  it('one redemption code redeemed through three nodes at once is credited once', async () => {
    const [a] = nodes as [TestDaemon];
    const u = json<UserView>(await a.bc(['user', 'create', '--name', 'carol', '--balance', '0', '--json']));
    const wallet = async () => redis.hget(`${prefix}u:${u.id}:acct`, 'balance');
    expect(await msUntil(async () => (await wallet()) === '0', 5000)).toBeLessThan(5000);
    const k = json<KeyCreated>(await a.bc(['key', 'create', '--name', 'ck', '--user', 'carol', '--json']));
    const { codes } = json<RedeemCodesCreated>(await a.bc(['redeem', 'create', '--usd', '0.3', '--json']));
    const code = codes[0]!.code;
    const answers = await Promise.all(
      nodes.map(async (n) =>
        json<RedeemAnswer>(await n.bc(['redeem', 'use', code, '--user', 'carol', '--json'])),
      ),
    );
    // one credit; the others answer the first result again
    expect(answers.filter((x) => !x.replayed)).toHaveLength(1);
    for (const x of answers) expect(x.amount).toBe(30 * CENT);
    expect(json<UserView>(await a.bc(['user', 'show', 'carol', '--json'])).balance).toBe(30 * CENT);
    expect(await wallet()).toBe(String(30 * CENT));
    // and the shared wallet buys exactly 30 requests, however many nodes are asked
    await knownEverywhere(k.key);
    const spend = await burst(k.key, 90);
    expect(tally(spend)).toEqual({ '200': 30, '403 insufficient_quota': 60 });
    expect(json<UserView>(await a.bc(['user', 'show', 'carol', '--json'])).balance).toBe(0);
  }, 60_000);

  it('rpm 60 over three nodes: exactly 60 of 150 accepted in the window', async () => {
    const [a] = nodes as [TestDaemon];
    const k = json<KeyCreated>(await a.bc(['key', 'create', '--name', 'kr', '--rpm', '60', '--json']));
    // the probe requests for an unrouted model are not admitted, so they take no slot
    await knownEverywhere(k.key);
    const t0 = Date.now();
    const answers = await burst(k.key, 150);
    // all inside one minute, so the window is the same for every one of them
    expect(Date.now() - t0).toBeLessThan(50_000);
    expect(tally(answers)).toEqual({ '200': 60, '429 rate_limit_exceeded': 90 });
  }, 60_000);

  it('concurrency 5 over three nodes: the upstream never sees more than 5 of its streams at once, and sees 5', async () => {
    const [a] = nodes as [TestDaemon];
    const k = json<KeyCreated>(await a.bc(['key', 'create', '--name', 'kc', '--concurrency', '5', '--json']));
    await knownEverywhere(k.key);
    counter.peak = 0;
    // 15 clients for 2.5 s, each streaming (~300 ms, paced by the simulator) through the nodes in
    // turn; a refused one tries again after 20 ms
    const statuses: number[] = [];
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: 15 }, async (_, w) => {
        for (let j = 0; Date.now() - t0 < 2500; j++) {
          const r = await ask(nodes[(w + j) % 3]!.gatewayUrl, k.key, {
            model: 's',
            stream: true,
            metadata: { 'x-sim-pace-ms': '50', 'x-sim-deltas': '6' },
          });
          statuses.push(r.status);
          if (r.status !== 200) await sleep(20);
        }
      }),
    );
    expect(new Set(statuses)).toEqual(new Set([200, 429]));
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(10);
    expect(counter.peak).toBe(5);
  }, 60_000);
});
