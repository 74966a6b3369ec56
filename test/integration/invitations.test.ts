/**
 * Invitations and referrals (SPEC section 11, TENANTS.md 5.5) on real daemon services: signups go
 * through the gateway's `POST /bc/v1/signup` (or the admin's `POST /v1/users` with `invite`), paid
 * credits through the control routes (`POST /v1/users/:id/credit`, `POST /v1/redeem`). Each
 * invitation pays out once, the inviter's caps hold when all invitees pay at the same moment, a
 * free (promo) code pays nothing, the signup limits and the closed signup answer as documented,
 * and every reason an invite cannot be used gets the same answer. For every metered user
 * sum(ledger) - spent = balance throughout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.js';
import type {
  InvitationView,
  InviteCreated,
  LedgerRowView,
  RedeemCodesCreated,
  SignupAnswer,
  TenantSettings,
  TenantSettingsInput,
  UserView,
} from '../../src/shared/tenant-api.js';

const USD = 1_000_000;

let gw: TestGateway;

beforeAll(async () => {
  gw = await startGateway();
});

afterAll(async () => {
  await gw?.close();
});

interface Answer<T> {
  status: number;
  body: T & { error?: { code?: string; message?: string } };
  retryAfter: string | null;
}

async function control<T>(g: TestGateway, method: 'GET' | 'POST' | 'PUT', url: string, body?: unknown) {
  const res = await g.control.inject({
    method,
    url,
    ...(body === undefined ? {} : { payload: body as object }),
  });
  return { status: res.statusCode, body: JSON.parse(res.body) as T & { error?: { code: string } } };
}

const settings = (g: TestGateway, input: TenantSettingsInput) =>
  g.call<TenantSettings>('PUT', '/v1/tenant/settings', input);

/** Open for everything: referrals on, limits far away; each test narrows what it tests. */
const OPEN: TenantSettingsInput = {
  self_service: true,
  signup: 'invite+referral',
  signups_per_ip_per_day: 100_000,
  signups_per_day: 100_000,
  referral: {
    invitee_amount: 1 * USD,
    inviter_amount: 2 * USD,
    reward_on: 'first_credit',
    min_credit: 5 * USD,
    inviter_max: 50,
    inviter_daily_max: 100,
    rebate_percent: 0,
    rebate_cap: 0,
  },
};

async function signup(g: TestGateway, code: string, name: string): Promise<Answer<SignupAnswer>> {
  const res = await fetch(`${g.url}/bc/v1/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code, name }),
  });
  return {
    status: res.status,
    body: (await res.json()) as Answer<SignupAnswer>['body'],
    retryAfter: res.headers.get('retry-after'),
  };
}

async function mustSignup(g: TestGateway, code: string, name: string): Promise<SignupAnswer> {
  const r = await signup(g, code, name);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body;
}

const user = (name: string, body: Record<string, unknown> = {}) =>
  gw.call<UserView>('POST', '/v1/users', { name, balance: 0, ...body });
const topup = (name: string, amount: number) =>
  control(gw, 'POST', `/v1/users/${name}/credit`, { kind: 'topup', amount });
const ledger = (name: string) => gw.call<LedgerRowView[]>('GET', `/v1/users/${name}/ledger?limit=10000`);
const invitationsOf = async (inviter: string) =>
  (await gw.call<InvitationView[]>('GET', '/v1/invitations')).filter((i) => i.inviter === inviter);

/** A referral code is made on first ask (the tenant's /bc/v1/me/referral, or here the store). */
async function referralCode(name: string): Promise<string> {
  const u = await gw.call<UserView>('GET', `/v1/users/${name}`);
  return gw.services.store.referralCode(u.id);
}

async function expectLedgerInvariant(): Promise<void> {
  for (const u of await gw.call<UserView[]>('GET', '/v1/users')) {
    if (u.balance === null) continue;
    const sum = (await ledger(u.name)).reduce((n, r) => n + r.amount, 0);
    expect(sum - u.spent, `ledger of ${u.name}`).toBe(u.balance);
  }
}

const kinds = async (name: string, kind: string) => (await ledger(name)).filter((r) => r.kind === kind);

describe('the payout on a first paid credit', () => {
  it('pays exactly inviter_max of 10 invitees who all top up at the same moment', async () => {
    await settings(gw, { ...OPEN, referral: { ...OPEN.referral, inviter_max: 3 } });
    await user('boss');
    const code = await referralCode('boss');
    const puppets = Array.from({ length: 10 }, (_, i) => `puppet-${i}`);
    await Promise.all(puppets.map((p) => mustSignup(gw, code.toLowerCase(), p)));
    expect((await invitationsOf('boss')).map((i) => i.status)).toEqual(Array(10).fill('pending'));

    const answers = await Promise.all(puppets.map((p) => topup(p, 5 * USD)));
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));

    const rows = await invitationsOf('boss');
    expect(rows.filter((i) => i.status === 'rewarded')).toHaveLength(3);
    expect(rows.filter((i) => i.status === 'capped')).toHaveLength(7);
    expect(await kinds('boss', 'invite_reward')).toHaveLength(3);
    expect((await gw.call<UserView>('GET', '/v1/users/boss')).balance).toBe(6 * USD);
    // the cap holds back the inviter's reward; every paying invitee got their bonus
    for (const p of puppets) {
      expect((await kinds(p, 'invite_bonus')).map((r) => r.amount)).toEqual([1 * USD]);
      expect((await gw.call<UserView>('GET', `/v1/users/${p}`)).balance).toBe(6 * USD);
    }
    await expectLedgerInvariant();

    // a second top-up by each pays nothing more: one payout per invitation
    await Promise.all(puppets.map((p) => topup(p, 5 * USD)));
    expect(await kinds('boss', 'invite_reward')).toHaveLength(3);
    for (const p of puppets) expect(await kinds(p, 'invite_bonus')).toHaveLength(1);
    expect((await invitationsOf('boss')).filter((i) => i.status === 'rewarded')).toHaveLength(3);
    await expectLedgerInvariant();
  });

  it('pays nothing below the minimum credit, nor for an adjustment or a promo code; a paid code pays', async () => {
    await settings(gw, OPEN);
    await user('sponsor');
    const code = await referralCode('sponsor');
    await mustSignup(gw, code, 'thrifty');
    expect((await topup('thrifty', 4 * USD)).status).toBe(200);
    await gw.call('POST', '/v1/users/thrifty/credit', { kind: 'adjust', amount: 50 * USD });
    const promo = await gw.call<RedeemCodesCreated>('POST', '/v1/redeem-codes', {
      amount: 20 * USD,
      promo: true,
    });
    await gw.call('POST', '/v1/redeem', { code: promo.codes[0]!.code, user: 'thrifty' });
    expect((await invitationsOf('sponsor')).map((i) => i.status)).toEqual(['pending']);
    expect(await kinds('sponsor', 'invite_reward')).toHaveLength(0);

    const paid = await gw.call<RedeemCodesCreated>('POST', '/v1/redeem-codes', { amount: 10 * USD });
    await gw.call('POST', '/v1/redeem', { code: paid.codes[0]!.code, user: 'thrifty' });
    expect((await invitationsOf('sponsor')).map((i) => i.status)).toEqual(['rewarded']);
    expect((await kinds('sponsor', 'invite_reward')).map((r) => [r.amount, r.ref])).toEqual([
      [2 * USD, `invitation:${(await invitationsOf('sponsor'))[0]!.id}`],
    ]);
    await expectLedgerInvariant();
  });

  it('holds the daily cap', async () => {
    await settings(gw, { ...OPEN, referral: { ...OPEN.referral, inviter_daily_max: 2 } });
    await user('daily');
    const code = await referralCode('daily');
    const invitees = ['d-0', 'd-1', 'd-2', 'd-3'];
    for (const n of invitees) await mustSignup(gw, code, n);
    await Promise.all(invitees.map((n) => topup(n, 5 * USD)));
    const statuses = (await invitationsOf('daily')).map((i) => i.status).sort();
    expect(statuses).toEqual(['capped', 'capped', 'rewarded', 'rewarded']);
    expect(await kinds('daily', 'invite_reward')).toHaveLength(2);
    await expectLedgerInvariant();
  });

  it('pays a percent rebate of later paid credits, up to the cap per invitee', async () => {
    await settings(gw, {
      ...OPEN,
      referral: { ...OPEN.referral, rebate_percent: 10, rebate_cap: 1_500_000 },
    });
    await user('rebater');
    await mustSignup(gw, await referralCode('rebater'), 'payer');
    await topup('payer', 10 * USD); // the reward
    await topup('payer', 10 * USD); // $1 rebate
    await topup('payer', 10 * USD); // $0.50, the cap reached
    await topup('payer', 10 * USD); // nothing
    expect((await kinds('rebater', 'rebate')).map((r) => r.amount).sort((a, b) => a - b)).toEqual([
      500_000,
      1 * USD,
    ]);
    expect((await invitationsOf('rebater'))[0]?.rebate_paid).toBe(1_500_000);
    await expectLedgerInvariant();
  });
});

describe('signup', () => {
  it('pays at signup when reward_on is signup, for referrals and for admin invites', async () => {
    await settings(gw, { ...OPEN, referral: { ...OPEN.referral, reward_on: 'signup' } });
    await user('early');
    const r = await mustSignup(gw, await referralCode('early'), 'early-bird');
    expect(r.user).toMatchObject({ name: 'early-bird', balance: 1 * USD, invited_by: 'early' });
    expect(r.key).toMatchObject({ name: 'early-bird/default', scope: 'account' });
    expect(r.key.key).toMatch(/^sk-bc-/);
    expect((await gw.call<UserView>('GET', '/v1/users/early')).balance).toBe(2 * USD);

    const invite = await gw.call<InviteCreated>('POST', '/v1/invites', {
      inviter: 'early',
      invitee_amount: 5 * USD,
      inviter_amount: 3 * USD,
      group: 'vip',
    });
    const admin = await gw.call<SignupAnswer>('POST', '/v1/users', { name: 'vip-user', invite: invite.code });
    expect(admin.user).toMatchObject({ group: 'vip', balance: 5 * USD, invited_by: 'early' });
    expect((await gw.call<UserView>('GET', '/v1/users/early')).balance).toBe(5 * USD);
    const rows = await invitationsOf('early');
    expect(rows.map((i) => [i.invitee, i.status, i.invite])).toEqual([
      ['vip-user', 'rewarded', invite.id],
      ['early-bird', 'rewarded', null],
    ]);
    // the new key works at once
    const me = await fetch(`${gw.url}/bc/v1/me`, { headers: { authorization: `Bearer ${admin.key.key}` } });
    expect(me.status).toBe(200);
    await expectLedgerInvariant();
  });

  it('gives one answer for an unknown, used, expired or revoked invite, and takes no use on a taken name', async () => {
    await settings(gw, OPEN);
    const used = await gw.call<InviteCreated>('POST', '/v1/invites', {});
    await mustSignup(gw, used.code, 'first-comer');
    const revoked = await gw.call<InviteCreated>('POST', '/v1/invites', {});
    await gw.call('POST', `/v1/invites/${revoked.prefix}/revoke`);
    const expired = await gw.call<InviteCreated>('POST', '/v1/invites', {
      expires_at: new Date(Date.now() + 1000).toISOString(),
    });
    await new Promise((r) => setTimeout(r, 1100));
    const answers = [];
    for (const c of ['BCI-00000-00000-00000-00000', used.code, revoked.code, expired.code, 'ZZZZZZZZ']) {
      const a = await signup(gw, c, 'late-comer');
      answers.push({ status: a.status, body: a.body });
    }
    expect(answers[0]).toEqual({
      status: 400,
      body: { error: expect.objectContaining({ code: 'invalid_invite_code' }) as unknown },
    });
    for (const a of answers) expect(a).toEqual(answers[0]);
    const views = await gw.call<{ id: number; status: string }[]>('GET', '/v1/invites');
    const status = (id: number) => views.find((v) => v.id === id)?.status;
    expect([status(used.id), status(revoked.id), status(expired.id)]).toEqual(['used', 'revoked', 'expired']);

    const fresh = await gw.call<InviteCreated>('POST', '/v1/invites', {});
    const taken = await signup(gw, fresh.code, 'first-comer');
    expect([taken.status, taken.body.error?.code]).toEqual([409, 'conflict']);
    expect((await gw.call<{ uses: number }>('GET', `/v1/invites/${fresh.id}`)).uses).toBe(0);
    const bad = await signup(gw, fresh.code, '12345');
    expect([bad.status, bad.body.error?.code]).toEqual([400, 'invalid_request']);
  });

  it('refuses referral codes unless signup is invite+referral, and every gateway signup when off (not the operator)', async () => {
    await settings(gw, { ...OPEN, signup: 'invite' });
    await user('closed-door');
    const referral = await signup(gw, await referralCode('closed-door'), 'someone');
    expect([referral.status, referral.body.error?.code]).toEqual([400, 'invalid_invite_code']);
    const invite = await gw.call<InviteCreated>('POST', '/v1/invites', {});
    await settings(gw, { signup: 'off' });
    const off = await signup(gw, invite.code, 'someone');
    expect([off.status, off.body.error?.code]).toEqual([403, 'signup_closed']);
    // the operator may still sign a user up with an admin invite, not with a referral code
    const adminReferral = await control(gw, 'POST', '/v1/users', {
      name: 'someone',
      invite: await referralCode('closed-door'),
    });
    expect([adminReferral.status, adminReferral.body.error?.code]).toEqual([400, 'invalid_invite_code']);
    const admin = await control(gw, 'POST', '/v1/users', { name: 'someone', invite: invite.code });
    expect(admin.status).toBe(201);
  });
});

describe('signup limits', () => {
  let fresh: TestGateway;
  beforeAll(async () => {
    fresh = await startGateway();
  });
  afterAll(async () => {
    await fresh?.close();
  });

  it('answers 429 over the signups per address, then over the signups per day', async () => {
    await settings(fresh, { ...OPEN, signups_per_ip_per_day: 2 });
    const invite = await fresh.call<InviteCreated>('POST', '/v1/invites', { uses: 10 });
    await mustSignup(fresh, invite.code, 'ip-1');
    await mustSignup(fresh, invite.code, 'ip-2');
    const third = await signup(fresh, invite.code, 'ip-3');
    expect([third.status, third.body.error?.code]).toEqual([429, 'rate_limit_exceeded']);
    expect(Number(third.retryAfter)).toBeGreaterThan(0);
    // the refused signup took no use of the invite
    expect((await fresh.call<{ uses: number }>('GET', `/v1/invites/${invite.id}`)).uses).toBe(2);
    // the admin's signups have no address and are not limited
    await fresh.call('POST', '/v1/users', { name: 'by-admin', invite: invite.code });

    await settings(fresh, { signups_per_ip_per_day: 100, signups_per_day: 2 });
    const overall = await signup(fresh, invite.code, 'ip-3');
    expect([overall.status, overall.body.error?.code]).toEqual([429, 'rate_limit_exceeded']);
    await settings(fresh, { signups_per_day: 3 });
    await mustSignup(fresh, invite.code, 'ip-3');
  });
});
