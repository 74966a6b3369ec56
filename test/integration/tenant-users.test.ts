/**
 * Users with balances (SPEC section 11) through the real gateway and control routes: a user-owned
 * key reserves against its own budget and its user's balance in one step, so concurrent requests
 * never spend money the user does not have; a disabled user's keys stop at the next request;
 * per-user limits cover all their keys; the user's group routes and prices; every balance change
 * outside settlement is a ledger row, so sum(ledger) - spent = balance.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import type { KeyCreated, LogRow, UsageRow } from '../../src/shared/control-api.js';
import type { CreditAnswer, LedgerRowView, UserView } from '../../src/shared/tenant-api.js';

let gw: TestGateway;
let sim: OpenAISim;

// output $100 per 1M tokens, input free: a request with max_tokens 1000 has a worst case of $0.10
const MODEL = 'm-user';
const OUTPUT_PER_M = 100_000_000;

beforeAll(async () => {
  sim = await startOpenAISim();
  gw = await startGateway();
  await gw.addChannel({
    name: 'sim',
    type: 'openai',
    keys: ['sk-up'],
    models: [MODEL, 'm-vip'],
    base_url: sim.url,
  });
  await gw.addChannel({
    name: 'vip-only',
    type: 'openai',
    keys: ['sk-up'],
    models: ['m-vip-only'],
    base_url: sim.url,
    groups: ['vip'],
  });
  for (const m of [MODEL, 'm-vip', 'm-vip-only'])
    await gw.call('PUT', `/v1/prices/${m}`, { input: 0, output: OUTPUT_PER_M });
});

afterAll(async () => {
  await gw?.close();
  await sim?.close();
});

const user = (name: string, body: Record<string, unknown> = {}) =>
  gw.call<UserView>('POST', '/v1/users', { name, ...body });
const userKey = async (userName: string, name: string, body: Record<string, unknown> = {}) =>
  gw.call<KeyCreated>('POST', '/v1/keys', { name, user: userName, ...body });

interface Sent {
  status: number;
  body: { error?: { code?: string; message?: string } };
}

async function chat(key: string, body: Record<string, unknown> = {}): Promise<Sent> {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: MODEL,
      max_tokens: 1000,
      messages: [{ role: 'user', content: 'hi' }],
      ...body,
    }),
  });
  const text = await res.text();
  return { status: res.status, body: body.stream === true ? {} : (JSON.parse(text) as Sent['body']) };
}

/** For a metered user: the sum of their ledger minus their spend is their balance. */
async function expectLedgerInvariant(name: string): Promise<void> {
  const u = await gw.call<UserView>('GET', `/v1/users/${name}`);
  const ledger = await gw.call<LedgerRowView[]>('GET', `/v1/users/${name}/ledger?limit=10000`);
  const sum = ledger.reduce((n, r) => n + r.amount, 0);
  expect(u.balance).toBe(sum - u.spent);
}

describe('a user-owned key draws on its user balance', () => {
  it('admits exactly as many concurrent requests as the balance covers, and never goes below zero', async () => {
    await user('ann', { balance: 1_000_000 });
    // strict: a request the money cannot fully cover is refused rather than lowered (SPEC 7)
    const k = await userKey('ann', 'app', { strict_budget: true });
    expect(k.name).toBe('ann/app');
    expect(k.user).toBe('ann');
    // warm (tokenizer, connections), then streams the simulator holds for a second, so all 20
    // are in flight together
    await user('warm', { unmetered: true });
    expect((await chat((await userKey('warm', 'k')).key)).status).toBe(200);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        chat(k.key, { stream: true, metadata: { 'x-sim-pace-ms': '150', 'x-sim-deltas': '7' } }),
      ),
    );
    const served = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status === 403);
    expect(served.length).toBe(10);
    expect(refused.length).toBe(10);
    const refusal = await chat(k.key, { max_tokens: 100_000 });
    expect(refusal.body.error?.code).toBe('insufficient_quota');
    expect(refusal.body.error?.message).toMatch(/user ann's balance cannot cover the request/);
    const u = await gw.call<UserView>('GET', '/v1/users/ann');
    const rows = await gw.call<LogRow[]>('GET', '/v1/logs?user=ann&limit=100');
    const cost = rows.reduce((n, r) => n + (r.cost ?? 0), 0);
    expect(cost).toBeGreaterThan(0);
    expect(u.spent).toBe(cost);
    expect(u.balance).toBe(1_000_000 - cost);
    expect(u.balance).toBeGreaterThanOrEqual(0);
    await expectLedgerInvariant('ann');
  });

  it('reserves on the key budget and the balance together: the tighter one decides and is named', async () => {
    await user('bea', { balance: 1_000_000 });
    const k = await userKey('bea', 'small', { budget: 150_000, strict_budget: true });
    const answers = await Promise.all(
      Array.from({ length: 4 }, () => chat(k.key, { stream: true, metadata: { 'x-sim-pace-ms': '150' } })),
    );
    expect(answers.filter((a) => a.status === 200).length).toBe(1);
    expect(answers.filter((a) => a.status === 403).length).toBe(3);
    const refusal = await chat(k.key, { max_tokens: 100_000 });
    expect(refusal.body.error?.message).toMatch(/this key's budget cannot cover/);
    // the other key of the same user still has the balance
    const other = await userKey('bea', 'other');
    expect((await chat(other.key)).status).toBe(200);
  });

  it('refuses a credit that would take the balance below zero unless asked, and an unmetered user has none', async () => {
    await user('cid', { balance: 2_000_000 });
    const debit = await gw.control.inject({
      method: 'POST',
      url: '/v1/users/cid/credit',
      payload: { kind: 'adjust', amount: -3_000_000, note: 'refund' },
    });
    expect(debit.statusCode).toBe(409);
    expect(debit.json()).toMatchObject({ error: { code: 'balance_would_go_negative' } });
    const allowed = await gw.call<CreditAnswer>('POST', '/v1/users/cid/credit', {
      kind: 'adjust',
      amount: -3_000_000,
      note: 'refund',
      allow_negative: true,
    });
    expect(allowed.user.balance).toBe(-1_000_000);
    expect(allowed.entry).toMatchObject({
      kind: 'adjust',
      amount: -3_000_000,
      balance_after: -1_000_000,
      actor: 'admin',
    });
    // below zero: the next request is refused
    const k = await userKey('cid', 'k');
    expect((await chat(k.key)).status).toBe(403);
    const up = await gw.call<CreditAnswer>('POST', '/v1/users/cid/credit', {
      kind: 'topup',
      amount: 5_000_000,
    });
    expect(up.user.balance).toBe(4_000_000);
    expect((await chat(k.key)).status).toBe(200);
    await expectLedgerInvariant('cid');

    await user('dan', { unmetered: true });
    const credit = await gw.control.inject({
      method: 'POST',
      url: '/v1/users/dan/credit',
      payload: { kind: 'topup', amount: 1_000_000 },
    });
    expect(credit.statusCode).toBe(409);
    expect(credit.json()).toMatchObject({ error: { code: 'user_unmetered' } });
    // unmetered: served without a balance, spend still counted
    const dk = await userKey('dan', 'k');
    expect((await chat(dk.key)).status).toBe(200);
    const dan = await gw.call<UserView>('GET', '/v1/users/dan');
    expect(dan.balance).toBeNull();
    expect(dan.spent).toBeGreaterThan(0);
  });
});

describe('user status, limits and group', () => {
  it("stops a disabled user's keys at the next request and serves them again once enabled", async () => {
    await user('eve', { balance: 1_000_000 });
    const k = await userKey('eve', 'k');
    expect((await chat(k.key)).status).toBe(200);
    await gw.call('POST', '/v1/users/eve/disable');
    const refused = await chat(k.key);
    expect(refused.status).toBe(403);
    expect(refused.body.error?.code).toBe('user_disabled');
    await gw.call('POST', '/v1/users/eve/enable');
    expect((await chat(k.key)).status).toBe(200);
  });

  it("applies the user's rpm over all their keys", async () => {
    await user('fay', { unmetered: true, rpm: 3 });
    const a = await userKey('fay', 'a');
    const b = await userKey('fay', 'b');
    const statuses = [];
    for (const key of [a.key, b.key, a.key, b.key]) statuses.push((await chat(key)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await chat(a.key);
    expect(limited.body.error?.message).toMatch(/requests per minute reached for user fay/);
  });

  it("routes and prices a user's keys by the user's group, and refuses setting the key's own", async () => {
    await gw.call('PUT', '/v1/groups/vip', { ratio: 2 });
    await user('gil', { balance: 5_000_000, group: 'vip' });
    const k = await userKey('gil', 'k');
    expect(k.group).toBe('vip');
    const vip = await chat(k.key, { model: 'm-vip-only' });
    expect(vip.status).toBe(200);
    const rows = await gw.call<LogRow[]>('GET', '/v1/logs?user=gil&limit=10');
    const row = rows[0]!;
    expect(row.cost).toBe(row.output_tokens * 100 * 2);
    const refused = await gw.control.inject({
      method: 'PATCH',
      url: `/v1/keys/${k.id}`,
      payload: { group: 'default' },
    });
    expect(refused.statusCode).toBe(409);
    expect(refused.json<{ error: { message: string } }>().error.message).toMatch(/bc user edit gil --group/);
    // the user moves to default: the vip-only channel no longer serves their key
    await gw.call('PATCH', '/v1/users/gil', { group: 'default' });
    expect((await chat(k.key, { model: 'm-vip-only' })).status).toBe(404);
    // and the key shows the group it now routes by
    expect((await gw.call<{ group: string }>('GET', `/v1/keys/${k.id}`)).group).toBe('default');
  });

  it("renames a user's keys with the user and attributes usage to the user", async () => {
    await user('hal', { balance: 1_000_000 });
    const k = await userKey('hal', 'laptop');
    expect((await chat(k.key)).status).toBe(200);
    await gw.call('PATCH', '/v1/users/hal', { name: 'hal2' });
    const keys = await gw.call<{ name: string }[]>('GET', '/v1/keys?user=hal2');
    expect(keys.map((x) => x.name)).toEqual(['hal2/laptop']);
    const usage = await gw.call<UsageRow[]>('GET', '/v1/usage?by=user&since=1h');
    const hal = usage.find((r) => r.name === 'hal2');
    expect(hal?.requests).toBe(1);
    const u = await gw.call<UserView>('GET', '/v1/users/hal2');
    expect(hal?.cost).toBe(u.spent);
  });

  it('removes a user only with --force while money or keys are left, revoking keys and zeroing the balance', async () => {
    await user('ivy', { balance: 1_000_000 });
    const k = await userKey('ivy', 'k');
    const refused = await gw.control.inject({ method: 'DELETE', url: '/v1/users/ivy' });
    expect(refused.statusCode).toBe(409);
    const removed = await gw.call<UserView>('DELETE', '/v1/users/ivy?force=true');
    expect(removed.status).toBe('deleted');
    expect(removed.balance).toBe(0);
    expect((await chat(k.key)).status).toBe(401);
    // the name is free again
    expect((await user('ivy')).name).toBe('ivy');
  });
});

describe("One API's billing endpoints for a user's key", () => {
  it("report the user's credit and spend when the key has no budget, the key's own when it has one", async () => {
    await user('jon', { balance: 2_000_000 });
    const k = await userKey('jon', 'k');
    expect((await chat(k.key)).status).toBe(200);
    const get = async (path: string) =>
      (await fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${k.key}` } })).json() as Promise<
        Record<string, number>
      >;
    const u = await gw.call<UserView>('GET', '/v1/users/jon');
    expect(u.spent).toBeGreaterThan(0);
    expect((await get('/v1/dashboard/billing/subscription')).hard_limit_usd).toBe(2);
    expect((await get('/v1/dashboard/billing/usage')).total_usage).toBeCloseTo(
      (u.spent / 1_000_000) * 100,
      9,
    );
    const budgeted = await userKey('jon', 'b', { budget: 500_000 });
    const sub = await fetch(`${gw.url}/v1/dashboard/billing/subscription`, {
      headers: { authorization: `Bearer ${budgeted.key}` },
    });
    expect(((await sub.json()) as Record<string, number>).hard_limit_usd).toBe(0.5);
  });
});
