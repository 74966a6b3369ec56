/**
 * Tenant self-service (SPEC section 11, TENANTS.md 5.6) against a real daemon (`bc start`) with an
 * OpenAI simulator behind it: users and keys made on the control socket, a few real chat requests
 * so there are log rows and usage, then `/bc/v1/` through the official `openai` client's raw
 * requests and through the real `bc --gateway URL --key KEY me ...` binary. Covers: off means 404
 * like an unknown endpoint; operator keys, relay scope and account scope; each user sees only
 * their own logs, keys and usage (asserted on content); log rows carry no channel or upstream
 * details; key limits (max_keys, the user's caps, models only narrowing); no revoking or disabling
 * the calling key; one answer for every failed redemption, then 429 with Retry-After; a redemption
 * that credits; signup with an invitation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI, { APIError } from 'openai';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import { createDaemonClient, type DaemonClient } from '../../src/shared/daemon-client.js';
import type { KeyCreated, KeyView, UsageRow } from '../../src/shared/control-api.js';
import type { MeView, ReferralView, SelfKeyCreated, SelfLogRow } from '../../src/shared/self-service-api.js';
import type { LedgerRowView, RedeemAnswer, SignupAnswer } from '../../src/shared/tenant-api.js';

let d: TestDaemon;
let sim: OpenAISim;
let control: DaemonClient;
const keys: Record<'aliceAcct' | 'aliceRelay' | 'bobAcct' | 'op', KeyCreated> = {} as never;
/** request ids of the chat requests each key made */
const requests: Record<string, string[]> = {};

/** The gateway's root as a tenant's client sees it (`/bc/v1/...` paths). */
function tenant(key: string): OpenAI {
  return new OpenAI({ apiKey: key, baseURL: d.gatewayUrl, maxRetries: 0 });
}

interface Refusal {
  status: number;
  code: string | null | undefined;
  message: string;
  headers: Headers | undefined;
  body: unknown;
}

async function refused(p: Promise<unknown>): Promise<Refusal> {
  try {
    await p;
  } catch (err) {
    if (!(err instanceof APIError)) throw err;
    const e = err as APIError;
    return { status: e.status ?? 0, code: e.code, message: e.message, headers: e.headers, body: e.error };
  }
  throw new Error('expected a refusal, got an answer');
}

async function chat(key: string, model = 'm'): Promise<string | null> {
  const client = new OpenAI({ apiKey: key, baseURL: `${d.gatewayUrl}/v1`, maxRetries: 0 });
  try {
    const { response } = await client.chat.completions
      .create({ model, messages: [{ role: 'user', content: 'hello' }], max_tokens: 20 })
      .withResponse();
    return response.headers.get('x-request-id');
  } catch (err) {
    if (err instanceof APIError) return (err as APIError).headers?.get('x-request-id') ?? null;
    throw err;
  }
}

/** `bc --gateway URL --key KEY ...` */
function bcAs(key: string, args: string[], stdin?: string) {
  return d.bc(['--gateway', d.gatewayUrl, '--key', key, ...args], stdin === undefined ? {} : { stdin });
}

beforeAll(async () => {
  sim = await startOpenAISim();
  d = await startTestDaemon();
  control = createDaemonClient({ socket: d.socket, timeoutMs: 10_000 });
  const add = [
    'channel',
    'add',
    '--name',
    'secret-upstream',
    '--type',
    'openai',
    '--key',
    'sk-up-0000000000',
  ];
  expect((await d.bc([...add, '--models', 'm', '--base-url', sim.url])).code).toBe(0);
  expect((await d.bc(['price', 'set', 'm', '--input', '2', '--output', '10'])).code).toBe(0);
  await control.users.create({ name: 'alice', balance: 5_000_000, rpm: 50, max_keys: 4 });
  await control.users.create({ name: 'bob', balance: 1_000_000 });
  keys.aliceAcct = await control.keys.create({ name: 'acct', user: 'alice', scope: 'account' });
  keys.aliceRelay = await control.keys.create({ name: 'relay', user: 'alice' });
  keys.bobAcct = await control.keys.create({ name: 'acct', user: 'bob', scope: 'account', models: ['m'] });
  keys.op = await control.keys.create({ name: 'operator' });
  for (const [who, n] of [
    ['aliceRelay', 2],
    ['aliceAcct', 1],
    ['bobAcct', 1],
    ['op', 1],
  ] as const) {
    requests[who] = [];
    for (let i = 0; i < n; i++) requests[who].push((await chat(keys[who].key)) ?? '');
  }
  // a refused request leaves a row with an error category
  requests.aliceRelay?.push((await chat(keys.aliceRelay.key, 'no-such-model')) ?? '');
}, 120_000);

afterAll(async () => {
  await control?.close();
  await d?.cleanup();
  await sim?.close();
});

describe('self-service off (the default)', () => {
  it('answers every /bc/v1/ route 404 not_found, as an unknown endpoint', async () => {
    const me = await refused(tenant(keys.aliceAcct.key).get('/bc/v1/me'));
    const unknown = await refused(tenant(keys.aliceAcct.key).get('/bc/v1/nothing-here'));
    expect(me.status).toBe(404);
    expect(me.code).toBe('not_found');
    expect(unknown.status).toBe(404);
    expect(me.message.replace('/me', '')).toBe(unknown.message.replace('/nothing-here', ''));
    const signup = await refused(tenant('none').post('/bc/v1/signup', { body: { code: 'x', name: 'y' } }));
    expect(signup.status).toBe(404);
    const r = await bcAs(keys.aliceAcct.key, ['me']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/self-service is off/);
  });

  it('then turns on with bc tenant settings, at once', async () => {
    expect((await d.bc(['tenant', 'settings', '--self-service', 'on'])).code).toBe(0);
    const me = await tenant(keys.aliceAcct.key).get<MeView>('/bc/v1/me');
    expect(me.user.name).toBe('alice');
  });
});

describe('who may call', () => {
  it('refuses an operator key (403 not_a_user_key), a missing key (401) and a disabled key', async () => {
    const op = await refused(tenant(keys.op.key).get('/bc/v1/me'));
    expect([op.status, op.code]).toEqual([403, 'not_a_user_key']);
    const bad = await refused(tenant('sk-bc-not-a-key-at-all-000000000000').get('/bc/v1/me'));
    expect([bad.status, bad.code]).toEqual([401, 'invalid_api_key']);
    const spare = await control.keys.create({ name: 'spare', user: 'bob' });
    await control.keys.disable(spare.id);
    const off = await refused(tenant(spare.key).get('/bc/v1/me'));
    expect([off.status, off.code]).toEqual([403, 'key_disabled']);
    await control.keys.revoke(spare.id);
  });

  it('refuses a disabled user (403 user_disabled)', async () => {
    await control.users.disable('bob');
    try {
      const r = await refused(tenant(keys.bobAcct.key).get('/bc/v1/me'));
      expect([r.status, r.code]).toEqual([403, 'user_disabled']);
    } finally {
      await control.users.enable('bob');
    }
  });

  it('lets a relay key read itself but not redeem, read the ledger or manage keys', async () => {
    const relay = tenant(keys.aliceRelay.key);
    const me = await relay.get<MeView>('/bc/v1/me');
    expect(me.key).toMatchObject({ id: keys.aliceRelay.id, name: 'alice/relay', scope: 'relay' });
    expect(me.user).toMatchObject({ name: 'alice', balance: expect.any(Number) as number, rpm: 50 });
    for (const call of [
      () => relay.post('/bc/v1/me/redeem', { body: { code: 'BCR-00000-00000-00000-00000' } }),
      () => relay.get('/bc/v1/me/ledger'),
      () => relay.get('/bc/v1/me/keys'),
      () => relay.post('/bc/v1/me/keys', { body: { name: 'sneaky' } }),
      () => relay.patch(`/bc/v1/me/keys/${keys.aliceRelay.id}`, { body: { rpm: 1 } }),
      () => relay.post(`/bc/v1/me/keys/${keys.aliceAcct.id}/revoke`),
      () => relay.get('/bc/v1/me/logs', { query: { key: 'acct' } }),
    ]) {
      const r = await refused(call());
      expect([r.status, r.code]).toEqual([403, 'account_scope_required']);
    }
  });
});

describe('each user sees only their own', () => {
  it('a relay key: its own usage and its own log rows only', async () => {
    const relay = tenant(keys.aliceRelay.key);
    const usage = await relay.get<UsageRow[]>('/bc/v1/me/usage', { query: { by: 'key' } });
    expect(usage.map((r) => r.key)).toEqual(['alice/relay']);
    expect(usage[0]?.requests).toBe(3);
    const logs = await relay.get<SelfLogRow[]>('/bc/v1/me/logs');
    expect(logs.map((r) => r.request_id).sort()).toEqual([...(requests.aliceRelay ?? [])].sort());
    expect(new Set(logs.map((r) => r.key_id))).toEqual(new Set([keys.aliceRelay.id]));
  });

  it('an account key: all of its user’s rows, none of another user’s or an operator’s', async () => {
    const alice = tenant(keys.aliceAcct.key);
    const logs = await alice.get<SelfLogRow[]>('/bc/v1/me/logs', { query: { limit: 1000 } });
    const own = [...(requests.aliceRelay ?? []), ...(requests.aliceAcct ?? [])];
    expect(logs.map((r) => r.request_id).sort()).toEqual(own.sort());
    const text = JSON.stringify(logs);
    for (const other of [...(requests.bobAcct ?? []), ...(requests.op ?? [])])
      expect(text).not.toContain(other);
    expect(text).not.toContain('bob');
    const byKey = await alice.get<UsageRow[]>('/bc/v1/me/usage', { query: { by: 'key', since: '1h' } });
    expect(byKey.map((r) => r.key).sort()).toEqual(['alice/acct', 'alice/relay']);
    const byModel = await alice.get<UsageRow[]>('/bc/v1/me/usage', { query: { by: 'model' } });
    expect(byModel.reduce((n, r) => n + r.requests, 0)).toBe(own.length);
    const byDay = await alice.get<UsageRow[]>('/bc/v1/me/usage', { query: { by: 'day' } });
    expect(byDay.map((r) => r.day)).toEqual([new Date().toISOString().slice(0, 10)]);

    const bob = tenant(keys.bobAcct.key);
    const bobLogs = await bob.get<SelfLogRow[]>('/bc/v1/me/logs');
    expect(bobLogs.map((r) => r.request_id)).toEqual(requests.bobAcct);
    const bobKeys = await bob.get<KeyView[]>('/bc/v1/me/keys');
    expect(bobKeys.every((k) => k.user === 'bob' && k.name.startsWith('bob/'))).toBe(true);
    expect(JSON.stringify(bobKeys)).not.toContain('alice');
    const bobUsage = await bob.get<UsageRow[]>('/bc/v1/me/usage', { query: { by: 'key' } });
    expect(bobUsage.map((r) => [r.key, r.requests])).toEqual([['bob/acct', 1]]);
  });

  it('answers 404 for another user’s key, by id or by name', async () => {
    const bob = tenant(keys.bobAcct.key);
    const id = keys.aliceRelay.id;
    for (const call of [
      () => bob.patch(`/bc/v1/me/keys/${id}`, { body: { rpm: 1 } }),
      () => bob.post(`/bc/v1/me/keys/${id}/disable`),
      () => bob.post(`/bc/v1/me/keys/${id}/revoke`),
      () => bob.post('/bc/v1/me/keys/alice%2Frelay/rotate'),
      () => bob.post(`/bc/v1/me/keys/${keys.op.id}/disable`),
      () => bob.get('/bc/v1/me/logs', { query: { key: String(id) } }),
    ]) {
      const r = await refused(call());
      expect([r.status, r.code]).toEqual([404, 'not_found']);
    }
    const still = await control.keys.show(id);
    expect(still.status).toBe('enabled');
    expect(still.rpm).toBeNull();
  });

  it('log rows carry no channel, upstream model or retries, and errors as categories', async () => {
    const logs = await tenant(keys.aliceAcct.key).get<SelfLogRow[]>('/bc/v1/me/logs');
    expect(logs.length).toBeGreaterThan(0);
    for (const row of logs) {
      for (const hidden of ['channel', 'channel_id', 'upstream_model', 'retries'])
        expect(row).not.toHaveProperty(hidden);
      expect(row).toHaveProperty('model');
      expect(row).toHaveProperty('cost');
    }
    expect(JSON.stringify(logs)).not.toContain('secret-upstream');
    const failed = logs.filter((r) => r.status >= 400);
    expect(failed.length).toBe(1);
    expect(failed[0]?.error).toMatch(/^[a-z_]+$/);
  });
});

describe('keys a tenant manages', () => {
  it('creates relay keys named user/name within max_keys, then 409 key_limit_reached', async () => {
    const alice = tenant(keys.aliceAcct.key);
    const made = await alice.post<SelfKeyCreated>('/bc/v1/me/keys', {
      body: { name: 'laptop', budget: 2_000_000 },
    });
    expect(made).toMatchObject({ name: 'alice/laptop', scope: 'relay', created_by: 'self', user: 'alice' });
    expect(made.key).toMatch(/^sk-bc-/);
    expect((await tenant(made.key).get<MeView>('/bc/v1/me')).key.name).toBe('alice/laptop');
    // acct, relay, laptop: one more fits under max_keys 4
    await alice.post('/bc/v1/me/keys', { body: { name: 'ci' } });
    const over = await refused(alice.post('/bc/v1/me/keys', { body: { name: 'one-too-many' } }));
    expect([over.status, over.code]).toEqual([409, 'key_limit_reached']);
    // a revoked key no longer counts
    await alice.post(`/bc/v1/me/keys/${made.id}/revoke`);
    const again = await alice.post<SelfKeyCreated>('/bc/v1/me/keys', { body: { name: 'phone' } });
    expect(again.name).toBe('alice/phone');
    const list = await alice.get<KeyView[]>('/bc/v1/me/keys');
    expect(list.map((k) => k.name).sort()).toEqual(
      ['alice/acct', 'alice/ci', 'alice/laptop', 'alice/phone', 'alice/relay'].sort(),
    );
  });

  it('refuses limits above the user’s caps, models beyond the calling key’s, and fields a tenant may not set', async () => {
    const alice = tenant(keys.aliceAcct.key);
    const rpm = await refused(alice.patch('/bc/v1/me/keys/ci', { body: { rpm: 51 } }));
    expect([rpm.status, rpm.code]).toEqual([400, 'invalid_request']);
    expect(rpm.message).toMatch(/rpm must be at most 50/);
    const ok = await alice.patch<KeyView>('/bc/v1/me/keys/ci', { body: { rpm: 50, budget: 1_000_000 } });
    expect([ok.rpm, ok.budget]).toEqual([50, 1_000_000]);
    for (const body of [{ group: 'vip' }, { scope: 'account' }, { user: 'bob' }]) {
      const r = await refused(alice.patch('/bc/v1/me/keys/ci', { body }));
      expect(r.status).toBe(400);
    }
    // bob's account key may use only m: a key it makes may not widen that, and inherits it
    const bob = tenant(keys.bobAcct.key);
    const wide = await refused(
      bob.post('/bc/v1/me/keys', { body: { name: 'wide', models: ['m', 'gpt-x'] } }),
    );
    expect([wide.status, wide.code]).toEqual([400, 'invalid_request']);
    const all = await refused(bob.patch(`/bc/v1/me/keys/${keys.bobAcct.id}`, { body: { models: [] } }));
    expect(all.status).toBe(400);
    const narrow = await bob.post<SelfKeyCreated>('/bc/v1/me/keys', { body: { name: 'narrow' } });
    expect(narrow.models).toEqual(['m']);
  });

  it('cannot revoke or disable the key making the call (409 cannot_revoke_self)', async () => {
    const alice = tenant(keys.aliceAcct.key);
    for (const verb of ['revoke', 'disable']) {
      const r = await refused(alice.post(`/bc/v1/me/keys/${keys.aliceAcct.id}/${verb}`));
      expect([r.status, r.code]).toEqual([409, 'cannot_revoke_self']);
    }
    expect((await control.keys.show(keys.aliceAcct.id)).status).toBe('enabled');
    // another key of its user it can: disable stops it at the next request, enable brings it back
    await alice.post('/bc/v1/me/keys/relay/disable');
    expect((await refused(tenant(keys.aliceRelay.key).get('/bc/v1/me'))).code).toBe('key_disabled');
    await alice.post('/bc/v1/me/keys/relay/enable');
    expect((await tenant(keys.aliceRelay.key).get<MeView>('/bc/v1/me')).key.name).toBe('alice/relay');
  });
});

describe('redemption', () => {
  it('credits a good code once, replays it for the same user, and says so in the ledger', async () => {
    const { codes } = await control.redeem.create({ amount: 2_500_000 });
    const code = codes[0]?.code ?? '';
    const bob = tenant(keys.bobAcct.key);
    const before = (await bob.get<MeView>('/bc/v1/me')).user.balance ?? 0;
    const r = await bob.post<RedeemAnswer>('/bc/v1/me/redeem', { body: { code } });
    expect(r).toEqual({ amount: 2_500_000, balance: before + 2_500_000, replayed: false });
    expect((await bob.get<MeView>('/bc/v1/me')).user.balance).toBe(before + 2_500_000);
    const again = await bob.post<RedeemAnswer>('/bc/v1/me/redeem', { body: { code } });
    expect(again).toMatchObject({ amount: 2_500_000, replayed: true });
    const ledger = await bob.get<LedgerRowView[]>('/bc/v1/me/ledger');
    expect(ledger[0]).toMatchObject({ kind: 'redeem', amount: 2_500_000, user: 'bob' });
    expect(ledger.every((e) => e.user === 'bob')).toBe(true);
  });

  it('gives one answer for unknown, used and revoked codes, then 429 with Retry-After', async () => {
    expect((await d.bc(['tenant', 'settings', '--redeem-failures-per-10m', '3'])).code).toBe(0);
    const used = (await control.redeem.create({ amount: 1_000_000 })).codes[0]?.code ?? '';
    await control.redeem.use(used, 'bob');
    const revoked = (await control.redeem.create({ amount: 1_000_000 })).codes[0];
    await control.redeem.revoke(revoked?.id ?? 0);
    const good = (await control.redeem.create({ amount: 1_000_000 })).codes[0]?.code ?? '';
    const alice = tenant(keys.aliceAcct.key);
    const answers: Refusal[] = [];
    for (const code of ['BCR-ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ', used, revoked?.code ?? '']) {
      answers.push(await refused(alice.post('/bc/v1/me/redeem', { body: { code } })));
    }
    for (const a of answers) {
      expect([a.status, a.code]).toEqual([400, 'invalid_redeem_code']);
      expect(a.body).toEqual(answers[0]?.body);
    }
    // over the limit: even a good code waits
    const limited = await refused(alice.post('/bc/v1/me/redeem', { body: { code: good } }));
    expect([limited.status, limited.code]).toEqual([429, 'rate_limit_exceeded']);
    const wait = Number(limited.headers?.get('retry-after'));
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(600);
    expect((await control.users.show('alice')).credited).toBe(5_000_000);
    // the address counts too: another user from the same address waits as well
    const bob = await refused(tenant(keys.bobAcct.key).post('/bc/v1/me/redeem', { body: { code: good } }));
    expect([bob.status, bob.code]).toEqual([429, 'rate_limit_exceeded']);
    // a higher limit lets them through again
    expect((await d.bc(['tenant', 'settings', '--redeem-failures-per-10m', '10'])).code).toBe(0);
    const ok = await tenant(keys.aliceAcct.key).post<RedeemAnswer>('/bc/v1/me/redeem', {
      body: { code: good },
    });
    expect(ok).toMatchObject({ amount: 1_000_000, replayed: false });
  });
});

describe('bc --gateway URL --key KEY me', () => {
  it('shows the caller, its usage and logs (JSON with SPEC names, and tables)', async () => {
    const me = await bcAs(keys.aliceRelay.key, ['me', '--json']);
    expect(me.code, me.stderr).toBe(0);
    expect((JSON.parse(me.stdout) as MeView).key.name).toBe('alice/relay');
    const human = await bcAs(keys.aliceRelay.key, ['me']);
    expect(human.stdout).toMatch(/balance\s+\$\d/);
    const usage = await bcAs(keys.aliceRelay.key, ['me', 'usage', '--by', 'key', '--json']);
    expect((JSON.parse(usage.stdout) as UsageRow[]).map((r) => r.key)).toEqual(['alice/relay']);
    const logs = await bcAs(keys.aliceRelay.key, ['me', 'logs', '--limit', '2', '--json']);
    const rows = JSON.parse(logs.stdout) as SelfLogRow[];
    expect(rows).toHaveLength(2);
    expect(rows.every((r) => r.key_id === keys.aliceRelay.id && !('channel' in r))).toBe(true);
    const table = await bcAs(keys.aliceAcct.key, ['me', 'logs']);
    expect(table.stdout).toMatch(/^\s*ID\s+TIME\s+KEY\s+MODEL/);
    expect(table.stdout).not.toMatch(/CHANNEL|secret-upstream/);
  });

  it('exits 1 with the gateway’s refusal, 2 without a gateway or key, 3 when nothing answers', async () => {
    const scope = await bcAs(keys.aliceRelay.key, ['me', 'ledger', '--json']);
    expect(scope.code).toBe(1);
    expect((JSON.parse(scope.stdout) as { error: { code: string } }).error.code).toBe(
      'account_scope_required',
    );
    const noKey = await d.bc(['--gateway', d.gatewayUrl, 'me']);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/BC_KEY/);
    const noGateway = await d.bc(['--key', keys.aliceAcct.key, 'me']);
    expect(noGateway.code).toBe(2);
    const down = await d.bc(['--gateway', 'http://127.0.0.1:9', '--key', keys.aliceAcct.key, 'me']);
    expect(down.code).toBe(3);
    expect(down.stderr).toMatch(/cannot reach the gateway/);
  });

  it('manages keys (secret printed once) and reads the key from stdin with --key -', async () => {
    const made = await bcAs(
      '-',
      ['me', 'keys', 'create', '--name', 'cli', '--rpm', '10', '--json'],
      keys.bobAcct.key,
    );
    expect(made.code, made.stderr).toBe(0);
    const k = JSON.parse(made.stdout) as SelfKeyCreated;
    expect(k).toMatchObject({ name: 'bob/cli', rpm: 10, scope: 'relay' });
    expect(k.key).toMatch(/^sk-bc-/);
    const list = await bcAs(keys.bobAcct.key, ['me', 'keys']);
    expect(list.stdout).toContain('bob/cli');
    expect(list.stdout).not.toContain(k.key);
    const self = await bcAs(keys.bobAcct.key, ['me', 'keys', 'revoke', String(keys.bobAcct.id)]);
    expect(self.code).toBe(1);
    expect(self.stderr).toMatch(/cannot revoke itself/);
    const revoke = await bcAs(keys.bobAcct.key, ['me', 'keys', 'revoke', 'cli']);
    expect(revoke.code, revoke.stderr).toBe(0);
    expect((await control.keys.show(k.id)).status).toBe('revoked');
  });

  it('redeems a code read from stdin', async () => {
    const code = (await control.redeem.create({ amount: 1_000_000 })).codes[0]?.code ?? '';
    const r = await bcAs(keys.bobAcct.key, ['me', 'redeem', '-', '--json'], `${code}\n`);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ amount: 1_000_000, replayed: false });
  });
});

describe('signup', () => {
  it('creates a user with an invitation and hands their first key, which then works', async () => {
    expect((await d.bc(['tenant', 'settings', '--signup', 'invite'])).code).toBe(0);
    const invite = await control.invites.create({ invitee_amount: 3_000_000 });
    const r = await d.bc(
      ['--gateway', d.gatewayUrl, 'signup', '--invite', '-', '--name', 'carol', '--json'],
      {
        stdin: invite.code,
      },
    );
    expect(r.code, r.stderr).toBe(0);
    const a = JSON.parse(r.stdout) as SignupAnswer;
    expect(a.user).toMatchObject({ name: 'carol', balance: 3_000_000 });
    const me = await tenant(a.key.key).get<MeView>('/bc/v1/me');
    expect(me).toMatchObject({ user: { name: 'carol' }, key: { scope: 'account' } });
    const reused = await refused(
      tenant('none').post('/bc/v1/signup', { body: { code: invite.code, name: 'dave' } }),
    );
    expect([reused.status, reused.code]).toEqual([400, 'invalid_invite_code']);
  });
});

describe('referrals', () => {
  it("shows a user's referral code and what it brought, and nothing while referrals are off", async () => {
    const off = await refused(tenant(keys.aliceAcct.key).get('/bc/v1/me/referral'));
    expect([off.status, off.code]).toEqual([404, 'not_found']);
    const relay = await refused(tenant(keys.aliceRelay.key).get('/bc/v1/me/referral'));
    expect([relay.status, relay.code]).toEqual([403, 'account_scope_required']);
    await control.tenant.set({
      signup: 'invite+referral',
      referral: { inviter_amount: 2_000_000, invitee_amount: 500_000, min_credit: 5_000_000 },
    });
    const before = await tenant(keys.aliceAcct.key).get<ReferralView>('/bc/v1/me/referral');
    expect(before).toMatchObject({ invited: 0, rewarded: 0, pending: 0, earned: 0 });
    expect(before.code).toMatch(/^[0-9A-Z]{8}$/);
    const joined = await tenant('none').post<SignupAnswer>('/bc/v1/signup', {
      body: { code: before.code.toLowerCase(), name: 'referred' },
    });
    expect(joined.user).toMatchObject({ name: 'referred', invited_by: 'alice' });
    expect(await tenant(keys.aliceAcct.key).get<ReferralView>('/bc/v1/me/referral')).toMatchObject({
      code: before.code,
      invited: 1,
      pending: 1,
      rewarded: 0,
    });
    // the invitee pays: the inviter is rewarded once
    await control.users.credit('referred', { kind: 'topup', amount: 5_000_000 });
    expect(await tenant(keys.aliceAcct.key).get<ReferralView>('/bc/v1/me/referral')).toMatchObject({
      invited: 1,
      pending: 0,
      rewarded: 1,
      earned: 2_000_000,
    });
    const cli = await bcAs(keys.aliceAcct.key, ['me', 'referral', '--json']);
    expect(cli.code, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ code: before.code, rewarded: 1, earned: 2_000_000 });
    const human = await bcAs(keys.aliceAcct.key, ['me', 'referral']);
    expect(human.stdout).toContain(`referral code: ${before.code}`);
    expect(human.stdout).toContain('earned: $2.00');
  });
});
