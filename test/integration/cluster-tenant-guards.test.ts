/**
 * The tenant guards across two real daemons on one PostgreSQL database and one Redis (BC_DB +
 * BC_REDIS): failed redemptions spread over both nodes are refused 429 at the same count as on
 * one node (the window is on Redis, coord/redeem-window.ts), and 20 key creates at once spread
 * over both nodes leave the user exactly at `max_keys` (the store counts and creates under the
 * user's row lock).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { freshPgDatabase, freshRedisPrefix, redisUrl } from '../support/stores.js';
import { createDaemonClient, type DaemonClient } from '../../src/shared/daemon-client.js';

const nodes: TestDaemon[] = [];
let control: DaemonClient;
let acct = '';

beforeAll(async () => {
  const env = {
    BC_DB: await freshPgDatabase(),
    BC_REDIS: redisUrl(),
    BC_REDIS_PREFIX: freshRedisPrefix(),
    BC_MASTER_KEY: randomBytes(32).toString('hex'),
  };
  // one after the other: the first migrates the database and seeds Redis
  for (let i = 0; i < 2; i++) nodes.push(await startTestDaemon({ env }));
  control = createDaemonClient({ socket: nodes[0]!.socket, timeoutMs: 10_000 });
  const settings = ['tenant', 'settings', '--self-service', 'on', '--redeem-failures-per-10m', '3'];
  expect((await nodes[0]!.bc(settings)).code).toBe(0);
  await control.users.create({ name: 'alice', balance: 1_000_000, max_keys: 3 });
  acct = (await control.keys.create({ name: 'acct', user: 'alice', scope: 'account' })).key;
}, 120_000);

afterAll(async () => {
  await control?.close();
  await Promise.all(nodes.map((n) => n.cleanup()));
});

/** Until the account key has reached the other node's snapshot (the change feed). */
async function knownOnBoth(): Promise<void> {
  await expect.poll(() => me(nodes[1]!), { timeout: 10_000 }).toBe(200);
}

async function me(node: TestDaemon): Promise<number> {
  const r = await fetch(`${node.gatewayUrl}/bc/v1/me`, { headers: { authorization: `Bearer ${acct}` } });
  await r.arrayBuffer();
  return r.status;
}

async function post(node: TestDaemon, path: string, body: unknown): Promise<number> {
  const r = await fetch(`${node.gatewayUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${acct}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  await r.arrayBuffer();
  return r.status;
}

describe('tenant guards over two daemons', () => {
  it('failed redemptions on two nodes: 429 on both after the third, as on one node', async () => {
    await knownOnBoth();
    const guess = { code: 'BCR-00000-00000-00000-00000' };
    const [a, b] = [nodes[0]!, nodes[1]!];
    const answers = [];
    for (const n of [a, b, a]) answers.push(await post(n, '/bc/v1/me/redeem', guess));
    expect(answers).toEqual([400, 400, 400]);
    expect(await post(b, '/bc/v1/me/redeem', guess)).toBe(429);
    expect(await post(a, '/bc/v1/me/redeem', guess)).toBe(429);
  });

  it('20 key creates at once over two nodes leave exactly max_keys (3, with the account key)', async () => {
    await knownOnBoth();
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => post(nodes[i % 2]!, '/bc/v1/me/keys', { name: `k${i}` })),
    );
    expect(answers.filter((s) => s === 201)).toHaveLength(2);
    expect(answers.filter((s) => s === 409)).toHaveLength(18);
    const held = (await control.keys.list()).filter((k) => k.user === 'alice' && k.status !== 'revoked');
    expect(held).toHaveLength(3);
  });
});
