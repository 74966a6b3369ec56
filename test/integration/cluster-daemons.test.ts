/**
 * Three real daemons on one PostgreSQL database and one Redis (BC_DB + BC_REDIS, SPEC section 9),
 * started and driven through the real `bc`: all three start on the database (a daemon alone there
 * would refuse the others), `bc status` on any of them shows Redis's health and lists all three
 * nodes, an edit through one node's socket (new key, channel disable, price set, user disable, key
 * revoke) is seen on the other two in under a second, and a stopped node leaves the list. Also the
 * shared books: a key budget of 10 requests' worth admits exactly 10 of 30 concurrent requests
 * spread over the three nodes, and Redis is kept seeded (credits once, re-seeded after a loss). The
 * start-up refusals: BC_REDIS without PostgreSQL, a malformed BC_REDIS, and a daemon without
 * BC_REDIS on a database the cluster uses (it would keep its own budgets).
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { openaiChannelArgs, runBc } from '../support/cli.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import { freshPgDatabase, freshRedisPrefix, redisUrl } from '../support/stores.js';
import { createDaemonClient, type DaemonClient } from '../../src/shared/daemon-client.js';
import type { KeyCreated, KeyView, StatusView } from '../../src/shared/control-api.js';
import type { UserView } from '../../src/shared/tenant-api.js';

let sim: OpenAISim;
let db: string;
let env: Record<string, string>;
let prefix: string;
let redis: Redis;
const nodes: TestDaemon[] = [];
const clients: DaemonClient[] = [];

const json = <T>(r: { code: number; stdout: string; stderr: string }): T => {
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
};

beforeAll(async () => {
  sim = await startOpenAISim();
  db = await freshPgDatabase();
  prefix = freshRedisPrefix();
  redis = new Redis(redisUrl());
  env = {
    BC_DB: db,
    BC_REDIS: redisUrl(),
    BC_REDIS_PREFIX: prefix,
    // every node needs the same master key (SPEC section 9)
    BC_MASTER_KEY: randomBytes(32).toString('hex'),
  };
  // one after the other: the first migrates the database and seeds Redis
  for (let i = 0; i < 3; i++) nodes.push(await startTestDaemon({ env }));
  for (const n of nodes) clients.push(createDaemonClient({ socket: n.socket, timeoutMs: 5_000 }));
}, 120_000);

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.cleanup()));
  await sim?.close();
  redis?.disconnect();
});

function chat(gatewayUrl: string, key: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(`${gatewayUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end(JSON.stringify({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }));
  });
}

/** A streamed request with sim directions in `body`; its status once the stream has ended. */
function stream(gatewayUrl: string, key: string, body: Record<string, unknown>): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(`${gatewayUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.on('error', () => resolve(0));
    req.end(
      JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }], ...body }),
    );
  });
}

/** Milliseconds until `seen()` holds on its own (polled every 20 ms, given up after 5 s). */
async function msUntil(seen: () => Promise<boolean>): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < 5_000) {
    if (await seen()) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 20));
  }
  return Infinity;
}

describe('three daemons on one PostgreSQL database and one Redis', () => {
  it('all start, and bc status on any of them shows Redis and lists all three nodes', async () => {
    const pids = nodes.map((n) => n.pid).sort();
    for (const n of nodes) {
      const s = json<StatusView>(await n.bc(['status', '--json']));
      expect(s.store).toBe(db);
      expect(s.redis).toBe('ok');
      expect(s.nodes!.map((x) => x.pid).sort()).toEqual(pids);
      const self = s.nodes!.find((x) => x.pid === n.pid)!;
      expect(self.listen).toBe(s.listen);
      expect(self.version).toBe(s.version);
    }
    const text = await nodes[0]!.bc(['status']);
    expect(text.stdout).toMatch(/redis\s+ok/);
    expect(text.stdout).toMatch(/nodes\s+3/);
  });

  it('an edit through one node is seen by the others in under a second', async () => {
    const [a, b, c] = nodes as [TestDaemon, TestDaemon, TestDaemon];
    const others = [clients[1]!, clients[2]!];
    json(await a.bc([...openaiChannelArgs('sim', 'sk-up-0000000000', 'm', '--base-url', sim.url), '--json']));
    json(await a.bc(['price', 'set', 'm', '--input', '1', '--output', '1', '--json']));
    const key = json<KeyCreated>(await a.bc(['key', 'create', '--name', 'k', '--json']));
    // a new key is served by every node (each seeds it on Redis when it learns of it)
    for (const n of [a, b, c])
      expect(await msUntil(async () => (await chat(n.gatewayUrl, key.key)) === 200)).toBeLessThan(1000);

    json(await a.bc(['channel', 'disable', 'sim', '--json']));
    for (const o of others)
      expect(await msUntil(async () => (await o.channels.show('sim')).status === 'disabled')).toBeLessThan(
        1000,
      );
    // the disabled channel is out of routing there too
    expect(await chat(b.gatewayUrl, key.key)).not.toBe(200);
    json(await a.bc(['channel', 'enable', 'sim', '--json']));

    json(await a.bc(['price', 'set', 'm', '--input', '7', '--output', '9', '--json']));
    for (const o of others)
      expect(
        await msUntil(async () =>
          (await o.prices.list()).some((p) => p.model === 'm' && p.input === 7_000_000),
        ),
      ).toBeLessThan(1000);

    json(await a.bc(['user', 'create', '--name', 'ann', '--json']));
    json(await a.bc(['user', 'disable', 'ann', '--json']));
    for (const o of others)
      expect(await msUntil(async () => (await o.users.show('ann')).status === 'disabled')).toBeLessThan(1000);

    // a revoked key is refused (403 key_disabled) by every node, not only the one that revoked it
    json(await a.bc(['key', 'revoke', 'k', '--json']));
    expect(await chat(a.gatewayUrl, key.key)).toBe(403);
    for (const n of [b, c])
      expect(await msUntil(async () => (await chat(n.gatewayUrl, key.key)) === 403)).toBeLessThan(1000);
  }, 60_000);

  it('refuses BC_REDIS without PostgreSQL, a malformed BC_REDIS, and a daemon alone beside the cluster', async () => {
    const sqlite = await runBc(['start'], {
      env: { BC_REDIS: redisUrl(), BC_LISTEN: '127.0.0.1:0' },
      timeoutMs: 60_000,
    });
    expect(sqlite.code).not.toBe(0);
    expect(sqlite.stderr).toMatch(/BC_REDIS needs BC_DB=postgres/);
    const bad = await runBc(['start'], {
      env: { BC_DB: db, BC_REDIS: 'http://localhost:6379', BC_LISTEN: '127.0.0.1:0' },
      timeoutMs: 60_000,
    });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/invalid BC_REDIS "http:\/\/localhost:6379"/);
    const alone = await runBc(['start'], {
      env: { BC_DB: db, BC_MASTER_KEY: env.BC_MASTER_KEY!, BC_LISTEN: '127.0.0.1:0' },
      timeoutMs: 60_000,
    });
    expect(alone.code).not.toBe(0);
    expect(alone.stderr).toMatch(/another BurnCloud daemon is using .*BC_REDIS/);
  }, 120_000);

  it('keeps Redis seeded: new keys and wallets, credits once, and everything again after Redis lost it', async () => {
    const [a] = nodes as [TestDaemon];
    const wallet = async (id: number) => Number(await redis.hget(`${prefix}u:${id}:acct`, 'balance'));
    const u = json<UserView>(await a.bc(['user', 'create', '--name', 'bob', '--balance', '5', '--json']));
    const k = json<KeyCreated>(
      await a.bc(['key', 'create', '--name', 'bk', '--user', 'bob', '--budget', '3', '--json']),
    );
    expect(await msUntil(async () => (await wallet(u.id)) === 5_000_000)).toBeLessThan(1000);
    expect(
      await msUntil(async () => (await redis.hget(`${prefix}k:${k.id}:acct`, 'spent')) === '0'),
    ).toBeLessThan(1000);
    // a top-up through one node moves the shared wallet once (the others only seed if absent)
    json(await a.bc(['user', 'topup', 'bob', '--usd', '2', '--json']));
    await new Promise((r) => setTimeout(r, 1000));
    expect(await wallet(u.id)).toBe(7_000_000);

    // Redis restarted empty: the nodes notice within a second and re-seed it from the store
    const keys = await redis.keys(`${prefix}*`);
    await redis.del(...keys.filter((x) => !x.startsWith(`${prefix}node:`)));
    expect(await msUntil(async () => (await redis.exists(`${prefix}ready`)) === 1)).toBeLessThan(4000);
    expect(await wallet(u.id)).toBe(7_000_000);
    expect(await redis.hget(`${prefix}k:${k.id}:acct`, 'spent')).toBe('0');
  }, 60_000);

  it('a key budget holds across the nodes: 10 requests worth, 30 at once over three nodes, exactly 10 served', async () => {
    const [a] = nodes as [TestDaemon];
    // input free, output $100 per 1M tokens: max_tokens 1000 is a worst case of $0.10, $1 covers 10
    json(await a.bc(['price', 'set', 'm', '--input', '0', '--output', '100', '--json']));
    const k = json<KeyCreated>(
      await a.bc(['key', 'create', '--name', 'tenth', '--budget', '1', '--strict-budget', '--json']),
    );
    // every node learns of the key and the price (under a second, as tested above)
    await new Promise((r) => setTimeout(r, 1500));
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        stream(nodes[i % 3]!.gatewayUrl, k.key, {
          max_tokens: 1000,
          metadata: { 'x-sim-pace-ms': '150', 'x-sim-deltas': '7' },
        }),
      ),
    );
    expect(answers.filter((x) => x === 200).length).toBe(10);
    expect(answers.filter((x) => x === 403).length).toBe(20);
    const after = json<KeyView>(await a.bc(['key', 'show', 'tenth', '--json']));
    expect(after.spent).toBeGreaterThan(0);
    expect(after.spent).toBeLessThanOrEqual(1_000_000);
  }, 60_000);

  it('a stopped node leaves the list', async () => {
    const gone = nodes[2]!;
    await gone.stop();
    const s = await clients[0]!.status();
    expect(s.nodes!.map((x) => x.pid).sort()).toEqual([nodes[0]!.pid, nodes[1]!.pid].sort());
    expect((await clients[1]!.status()).nodes!.some((x) => x.pid === gone.pid)).toBe(false);
  }, 60_000);
});
