/**
 * The PostgreSQL tenant tables (src/daemon/store/postgres/tenants-*.ts) on the run's real
 * PostgreSQL, with real concurrency: one pool of 20 connections, so the racing transactions run
 * on different backends at the same moment, as N daemons would. The proofs of issue 16, now on
 * PostgreSQL: a code is used at most `uses` times, a user's retries are replays, concurrent debits
 * never take a balance below zero, the inviter cap and the daily cap are exact, signup limits hold,
 * and for every metered user sum(ledger) - spent = balance after all of it. Records, error codes
 * and messages are those of the SQLite tables.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BcError } from '../../src/shared/errors.js';
import type { TenantSettings } from '../../src/shared/tenant-api.js';
import { DEFAULT_TENANT_SETTINGS } from '../../src/shared/tenant-api.js';
import { TENANT_SETTINGS_KEY } from '../../src/daemon/tenants/settings.js';
import { connectPostgres, type Sql, type TxSql } from '../../src/daemon/store/postgres/connection.js';
import { migratePostgres } from '../../src/daemon/store/postgres/migrate.js';
import { PgUserTable } from '../../src/daemon/store/postgres/tenants-users.js';
import { PgRedeemCodeTable } from '../../src/daemon/store/postgres/tenants-codes.js';
import { PgInviteTable } from '../../src/daemon/store/postgres/tenants-invites.js';
import { RedeemInvalidError } from '../../src/daemon/store/sqlite/redeem-codes.js';
import type { KeyRecord, NewKey, SignupRequest } from '../../src/daemon/store/types.js';
import { freshPgDatabase } from '../support/stores.js';

const USD = 1_000_000;

let sql: Sql;
let users: PgUserTable;
let codes: PgRedeemCodeTable;
let invites: PgInviteTable;

/** The first key of a signup: a plain insert inside the signup's transaction (the store's key table is another part). */
async function insertKey(tx: TxSql, k: NewKey): Promise<KeyRecord> {
  const now = new Date().toISOString();
  const [row] = await tx<{ id: number }[]>`
    INSERT INTO keys (name, hash, prefix, "group", status, user_id, scope, created_by, created_at)
    VALUES (${k.name}, ${k.hash}, ${k.prefix}, ${k.group}, ${k.status}, ${k.userId ?? null},
      ${k.scope ?? 'relay'}, ${k.createdBy ?? 'admin'}, ${now})
    RETURNING id`;
  return {
    ...k,
    id: row!.id,
    spent: 0,
    userId: k.userId ?? null,
    strictBudget: false,
    scope: k.scope ?? 'relay',
    createdBy: k.createdBy ?? 'admin',
    createdAt: now,
    lastUsedAt: null,
  };
}

beforeAll(async () => {
  const url = await freshPgDatabase();
  sql = connectPostgres(url, { max: 20, name: 'pg-tenants-test' });
  await migratePostgres(sql, url);
  users = new PgUserTable(sql);
  codes = new PgRedeemCodeTable(sql, users);
  invites = new PgInviteTable(sql, users, { createKey: insertKey });
});

afterAll(async () => {
  await sql?.end();
});

let serial = 0;
const uniq = (base: string) => `${base}${++serial}`;

async function newUser(balance: number | null = 0, name = uniq('u')) {
  return (await users.create({ name, balance })).user;
}

/** Stores the tenant settings the payout reads inside the paid credit's transaction. */
async function setSettings(referral: Partial<TenantSettings['referral']>): Promise<TenantSettings> {
  const s: TenantSettings = {
    ...DEFAULT_TENANT_SETTINGS,
    signup: 'invite+referral',
    signups_per_ip_per_day: 100_000,
    signups_per_day: 100_000,
    referral: { ...DEFAULT_TENANT_SETTINGS.referral, ...referral },
  };
  await sql`
    INSERT INTO bc_meta (key, value) VALUES (${TENANT_SETTINGS_KEY}, ${JSON.stringify(s)})
    ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`;
  return s;
}

function signupRequest(code: string, s: TenantSettings, ip: string | null = null): SignupRequest {
  const name = uniq('inv');
  return { code, name, ip, settings: s, keyHash: `hash-${name}`, keyPrefix: 'sk-bc-test' };
}

/** Settles whatever the promises do: the fulfilled values and the rejections, in order. */
async function race<T>(n: number, f: (i: number) => Promise<T>) {
  const all = await Promise.allSettled(Array.from({ length: n }, (_, i) => f(i)));
  const ok = all.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = all.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  return { ok, failed };
}

async function countOf(query: Promise<{ n: number }[]>): Promise<number> {
  const [row] = await query;
  return row!.n;
}

describe('users and the ledger', () => {
  it('create writes the starting balance as a topup row; names are unique; unmetered and negative answer as on SQLite', async () => {
    const name = uniq('ada');
    const { user, changes } = await users.create({ name, balance: 5 * USD, actor: 'admin' });
    expect(user).toMatchObject({ name, balance: 5 * USD, credited: 5 * USD, spent: 0, status: 'enabled' });
    expect(changes).toEqual([{ userId: user.id, amount: 5 * USD }]);
    const [row] = await users.ledger(user.id, 10);
    expect(row).toMatchObject({
      kind: 'topup',
      amount: 5 * USD,
      balanceAfter: 5 * USD,
      note: 'starting balance',
    });
    await expect(users.create({ name, balance: 0 })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: `a user named "${name}" already exists`,
    });
    const free = await newUser(null);
    await expect(
      users.credit({ userId: free.id, kind: 'topup', amount: 1, actor: 'admin' }),
    ).rejects.toMatchObject({
      code: 'USER_UNMETERED',
    });
    await expect(
      users.credit({ userId: user.id, kind: 'adjust', amount: -6 * USD, actor: 'admin' }),
    ).rejects.toMatchObject({
      code: 'BALANCE_NEGATIVE',
      message: `this would take user "${name}"'s balance below zero (${5 * USD} micro-USD left, change ${-6 * USD}): pass --allow-negative to do it anyway`,
    });
    const neg = await users.credit({
      userId: user.id,
      kind: 'adjust',
      amount: -6 * USD,
      actor: 'admin',
      allowNegative: true,
    });
    expect(neg.user.balance).toBe(-1 * USD);
    await expect(
      users.credit({ userId: 999_999, kind: 'topup', amount: 1, actor: 'a' }),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect((await users.get(name))?.id).toBe(user.id);
    expect((await users.get(String(user.id)))?.name).toBe(name);
  });

  it('patch renames keys and regroups them; an unmetered switch with money left is refused; remove zeroes and frees the name', async () => {
    const u = await newUser(2 * USD);
    await sql.begin((tx) =>
      insertKey(tx, {
        name: `${u.name}/k1`,
        hash: uniq('h'),
        prefix: 'sk',
        group: 'default',
        status: 'enabled',
        userId: u.id,
      } as NewKey),
    );
    const renamed = await users.patch(u.id, { name: `${u.name}x`, group: 'vip', note: 'n' });
    expect(renamed).toMatchObject({ name: `${u.name}x`, group: 'vip', note: 'n' });
    const [key] = await sql<
      { name: string; group: string }[]
    >`SELECT name, "group" FROM keys WHERE user_id = ${u.id}`;
    expect(key).toEqual({ name: `${u.name}x/k1`, group: 'vip' });
    await expect(users.patch(u.id, { unmetered: true })).rejects.toMatchObject({ code: 'CONFLICT' });
    const other = await newUser();
    await expect(users.patch(u.id, { name: other.name })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: `a user or key named "${other.name}" already exists`,
    });
    const { user, changes } = await users.remove(u.id, 'admin');
    expect(user).toMatchObject({ status: 'deleted', balance: 0, name: `deleted-${u.id}-${u.name}x` });
    expect(changes).toEqual([{ userId: u.id, amount: -2 * USD }]);
    const [revoked] = await sql<
      { status: string; name: string }[]
    >`SELECT status, name FROM keys WHERE user_id = ${u.id}`;
    expect(revoked).toEqual({ status: 'revoked', name: `deleted-${u.id}-${u.name}x/k1` });
    expect(await users.get(u.id)).toBeUndefined();
    await expect(users.patch(u.id, { note: 'x' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('edits racing credits lose none of them (patch reads the row locked)', async () => {
    const u = await newUser(USD);
    const { failed } = await race<unknown>(60, (i) =>
      i % 6 === 0
        ? users.patch(u.id, { note: `edit ${i}` })
        : users.credit({ userId: u.id, kind: 'topup', amount: 1_000, actor: 'admin' }),
    );
    expect(failed).toEqual([]);
    expect((await users.mustGet(u.id)).balance).toBe(USD + 50 * 1_000);
  });

  it('100 concurrent debits against a balance that covers 37: exactly 37 succeed, never below zero', async () => {
    const u = await newUser(37_000);
    const { ok, failed } = await race(100, () =>
      users.credit({ userId: u.id, kind: 'adjust', amount: -1_000, actor: 'admin' }),
    );
    expect(ok).toHaveLength(37);
    expect(failed).toHaveLength(63);
    for (const e of failed) expect((e as BcError).code).toBe('BALANCE_NEGATIVE');
    expect((await users.mustGet(u.id)).balance).toBe(0);
    const afters = (await users.ledger(u.id, 1000)).map((l) => l.balanceAfter ?? -1);
    expect(afters).toHaveLength(38);
    expect(Math.min(...afters)).toBe(0);
    expect(new Set(afters).size).toBe(38);
  });
});

describe('redemption codes', () => {
  it('creates 10,000 codes in one call, each stored once by hash, the codes only in the answer', async () => {
    const made = await codes.create({
      amount: 1_000,
      count: 10_000,
      batch: 'bulk',
      expiresAt: null,
      maxUses: 1,
      userId: null,
      promo: true,
    });
    expect(made).toHaveLength(10_000);
    expect(new Set(made.map((m) => m.code)).size).toBe(10_000);
    expect(await countOf(sql`SELECT count(*)::int AS n FROM redeem_codes WHERE batch = 'bulk'`)).toBe(10_000);
    const pick = made[4321]!;
    expect(await codes.get(pick.code)).toEqual(pick.record);
    expect(pick.record).toMatchObject({
      batch: 'bulk',
      amount: 1_000,
      uses: 0,
      maxUses: 1,
      promo: true,
      status: 'active',
    });
    expect(await codes.list({ batch: 'bulk', status: 'active' })).toHaveLength(10_000);
    expect(await codes.revokeBatch('bulk')).toBe(10_000);
    expect(await codes.list({ batch: 'bulk', status: 'revoked' })).toHaveLength(10_000);
    await expect(codes.revokeBatch('nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(
      codes.create({
        amount: 1,
        count: 10_001,
        batch: null,
        expiresAt: null,
        maxUses: 1,
        userId: null,
        promo: false,
      }),
    ).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
  });

  it('50 users redeem one single-use code at once: exactly one credit, one redemption, one ledger row', async () => {
    const racers = await Promise.all(Array.from({ length: 50 }, () => newUser()));
    const [c] = await codes.create({
      amount: 7 * USD,
      count: 1,
      batch: null,
      expiresAt: null,
      maxUses: 1,
      userId: null,
      promo: false,
    });
    const { ok, failed } = await race(50, (i) =>
      codes.redeem({ code: c!.code, userId: racers[i]!.id, ip: null, actor: 'admin' }),
    );
    expect(ok).toHaveLength(1);
    expect(ok[0]).toMatchObject({ amount: 7 * USD, balance: 7 * USD, replayed: false });
    expect(failed).toHaveLength(49);
    for (const e of failed) {
      expect(e).toBeInstanceOf(RedeemInvalidError);
      expect((e as RedeemInvalidError).reason).toBe('used');
      expect((e as RedeemInvalidError).message).toMatch(/was already redeemed by u\d+ at /);
    }
    expect((await codes.byId(c!.record.id))?.uses).toBe(1);
    expect(await codes.redemptions(c!.record.id)).toHaveLength(1);
    expect(
      await countOf(sql`SELECT count(*)::int AS n FROM user_ledger WHERE ref = ${`code:${c!.record.id}`}`),
    ).toBe(1);
  });

  it('uses 10 and 50 users at once: exactly 10 credits', async () => {
    const racers = await Promise.all(Array.from({ length: 50 }, () => newUser()));
    const [c] = await codes.create({
      amount: USD,
      count: 1,
      batch: null,
      expiresAt: null,
      maxUses: 10,
      userId: null,
      promo: false,
    });
    const { ok, failed } = await race(50, (i) =>
      codes.redeem({ code: c!.code, userId: racers[i]!.id, ip: null, actor: 'admin' }),
    );
    expect(ok).toHaveLength(10);
    expect(failed).toHaveLength(40);
    for (const e of failed) expect((e as RedeemInvalidError).reason).toBe('used');
    expect((await codes.byId(c!.record.id))?.uses).toBe(10);
    expect(await codes.redemptions(c!.record.id)).toHaveLength(10);
    expect(
      await countOf(sql`SELECT count(*)::int AS n FROM user_ledger WHERE ref = ${`code:${c!.record.id}`}`),
    ).toBe(10);
  });

  it("a user's concurrent retries are replays: one credit, the first result again", async () => {
    for (const maxUses of [1, 5]) {
      const u = await newUser(USD);
      const [c] = await codes.create({
        amount: 2 * USD,
        count: 1,
        batch: null,
        expiresAt: null,
        maxUses,
        userId: null,
        promo: false,
      });
      const { ok, failed } = await race(20, () =>
        codes.redeem({ code: c!.code, userId: u.id, ip: '10.0.0.1', actor: 'admin' }),
      );
      expect(failed).toEqual([]);
      expect(ok.filter((r) => !r.replayed)).toHaveLength(1);
      for (const r of ok) expect(r).toMatchObject({ amount: 2 * USD, balance: 3 * USD });
      for (const r of ok.filter((x) => x.replayed)) expect(r.changes).toEqual([]);
      expect((await users.mustGet(u.id)).balance).toBe(3 * USD);
      expect((await codes.byId(c!.record.id))?.uses).toBe(1);
      expect(await codes.redemptions(c!.record.id)).toHaveLength(1);
    }
  });

  it('says why a code cannot be redeemed, as the SQLite table does', async () => {
    const owner = await newUser();
    const other = await newUser();
    const mk = (o: { maxUses?: number; userId?: number | null; expiresAt?: string | null }) =>
      codes.create({
        amount: 1,
        count: 1,
        batch: null,
        expiresAt: o.expiresAt ?? null,
        maxUses: o.maxUses ?? 1,
        userId: o.userId ?? null,
        promo: false,
      });
    const redeem = (code: string, userId: number) => codes.redeem({ code, userId, ip: null, actor: 'admin' });
    const reason = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (e: RedeemInvalidError) => e.reason ?? e.code,
      );
    expect(await reason(redeem('BCR-AAAAA-AAAAA-AAAAA-AAAAA', owner.id))).toBe('unknown');
    const [bound] = await mk({ userId: owner.id });
    await expect(redeem(bound!.code, other.id)).rejects.toThrow(`can be redeemed only by ${owner.name}`);
    const [expired] = await mk({ expiresAt: '2000-01-01T00:00:00.000Z' });
    expect(await reason(redeem(expired!.code, owner.id))).toBe('expired');
    const [revoked] = await mk({});
    await codes.revoke(revoked!.record.id);
    expect(await reason(redeem(revoked!.code, owner.id))).toBe('revoked');
    const free = await newUser(null);
    const [fine] = await mk({});
    expect(await reason(redeem(fine!.code, free.id))).toBe('USER_UNMETERED');
    await users.patch(other.id, { status: 'disabled' });
    expect(await reason(redeem(fine!.code, other.id))).toBe('USER_DISABLED');
    expect((await codes.byId(fine!.record.id))?.uses).toBe(0);
  });
});

describe('invitations', () => {
  /** `n` invitees of one inviter, by referral code, each still pending its first credit. */
  async function inviteesOf(n: number, s: TenantSettings) {
    const inviter = await newUser();
    const ref = await invites.referralCode(inviter.id);
    const out = [];
    for (let i = 0; i < n; i++) out.push((await invites.signup(signupRequest(ref, s))).user);
    return { inviter, invitees: out };
  }

  async function statuses(inviterId: number) {
    const rows = await sql<{ status: string; n: number }[]>`
      SELECT status, count(*)::int AS n FROM invitations WHERE inviter_id = ${inviterId} GROUP BY status`;
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  it('10 invitees of one inviter with inviter_max 3 pay at once: exactly 3 rewarded', async () => {
    const s = await setSettings({
      reward_on: 'first_credit',
      min_credit: USD,
      inviter_amount: 2 * USD,
      invitee_amount: USD,
      inviter_max: 3,
      inviter_daily_max: 1000,
    });
    const { inviter, invitees } = await inviteesOf(10, s);
    const { ok, failed } = await race(10, (i) =>
      users.credit({ userId: invitees[i]!.id, kind: 'topup', amount: 5 * USD, actor: 'admin', paid: true }),
    );
    expect(failed).toEqual([]);
    expect(ok).toHaveLength(10);
    expect(await statuses(inviter.id)).toEqual({ rewarded: 3, capped: 7 });
    const after = await users.mustGet(inviter.id);
    expect(after).toMatchObject({ referralRewards: 3, balance: 6 * USD });
    // every invitee got the bonus, capped or not
    for (const i of invitees) expect((await users.mustGet(i.id)).balance).toBe(6 * USD);
  });

  it('the daily cap is exact under concurrency: inviter_daily_max 3, 10 paying at once, exactly 3 rewarded', async () => {
    const s = await setSettings({
      reward_on: 'first_credit',
      min_credit: USD,
      inviter_amount: USD,
      invitee_amount: 0,
      inviter_max: 1000,
      inviter_daily_max: 3,
    });
    const { inviter, invitees } = await inviteesOf(10, s);
    const { failed } = await race(10, (i) =>
      users.credit({ userId: invitees[i]!.id, kind: 'topup', amount: 2 * USD, actor: 'admin', paid: true }),
    );
    expect(failed).toEqual([]);
    expect(await statuses(inviter.id)).toEqual({ rewarded: 3, capped: 7 });
    expect(await users.mustGet(inviter.id)).toMatchObject({ referralRewards: 3, balance: 3 * USD });
  });

  it('the daily cap also holds for invites that pay at signup, signed up at once', async () => {
    const s = await setSettings({ inviter_max: 1000, inviter_daily_max: 2 });
    const inviter = await newUser();
    const { code } = await invites.create({
      name: 'team',
      inviterId: inviter.id,
      group: null,
      inviteeAmount: USD,
      inviterAmount: USD,
      maxUses: 10,
      expiresAt: null,
    });
    const { ok, failed } = await race(10, () => invites.signup(signupRequest(code, s)));
    expect(failed).toEqual([]);
    expect(ok).toHaveLength(10);
    expect(await statuses(inviter.id)).toEqual({ rewarded: 2, capped: 8 });
    expect((await users.mustGet(inviter.id)).balance).toBe(2 * USD);
    expect((await invites.get(code))?.uses).toBe(10);
    await expect(invites.signup(signupRequest(code, s))).rejects.toMatchObject({
      code: 'INVITE_INVALID',
      message: 'this invitation code cannot be used',
    });
  });

  it('a single payout per invitation, a paid promo pays nothing, rebates stop at the cap', async () => {
    const s = await setSettings({
      reward_on: 'first_credit',
      min_credit: USD,
      inviter_amount: USD,
      invitee_amount: 0,
      inviter_max: 100,
      inviter_daily_max: 100,
      rebate_percent: 10,
      rebate_cap: 3 * USD,
    });
    const { inviter, invitees } = await inviteesOf(1, s);
    const invitee = invitees[0]!;
    const [promo] = await codes.create({
      amount: 5 * USD,
      count: 1,
      batch: null,
      expiresAt: null,
      maxUses: 1,
      userId: null,
      promo: true,
    });
    await codes.redeem({ code: promo!.code, userId: invitee.id, ip: null, actor: 'admin' });
    expect(await statuses(inviter.id)).toEqual({ pending: 1 });
    const [paid] = await codes.create({
      amount: 5 * USD,
      count: 1,
      batch: null,
      expiresAt: null,
      maxUses: 1,
      userId: null,
      promo: false,
    });
    const r = await codes.redeem({ code: paid!.code, userId: invitee.id, ip: null, actor: 'admin' });
    expect(r.changes).toEqual([
      { userId: invitee.id, amount: 5 * USD },
      { userId: inviter.id, amount: USD },
    ]);
    // 20 paid credits of 10 USD at once: 10% each, 3 USD in all
    const { failed } = await race(20, () =>
      users.credit({ userId: invitee.id, kind: 'topup', amount: 10 * USD, actor: 'admin', paid: true }),
    );
    expect(failed).toEqual([]);
    expect((await users.mustGet(inviter.id)).balance).toBe(USD + 3 * USD);
    const [inv] = await invites.listInvitations();
    expect(inv).toMatchObject({ inviteeId: invitee.id, status: 'rewarded', rebatePaid: 3 * USD });
  });

  it('an invite with 3 uses, 10 signups at once: exactly 3 users, the rest INVITE_INVALID', async () => {
    const s = await setSettings({});
    const { code } = await invites.create({
      name: null,
      inviterId: null,
      group: null,
      inviteeAmount: USD,
      inviterAmount: 0,
      maxUses: 3,
      expiresAt: null,
    });
    const { ok, failed } = await race(10, () => invites.signup(signupRequest(code, s)));
    expect(ok).toHaveLength(3);
    for (const r of ok) expect(r.user.balance).toBe(USD);
    expect(failed).toHaveLength(7);
    for (const e of failed) expect((e as BcError).code).toBe('INVITE_INVALID');
    expect((await invites.get(code))?.uses).toBe(3);
  });

  it('signup limits are exact when signups race: 3 a day from one address, 10 at once', async () => {
    const s = { ...(await setSettings({})), signups_per_ip_per_day: 3 };
    const { code } = await invites.create({
      name: null,
      inviterId: null,
      group: 'vip',
      inviteeAmount: 0,
      inviterAmount: 0,
      maxUses: 100,
      expiresAt: null,
    });
    const { ok, failed } = await race(10, () => invites.signup(signupRequest(code, s, '203.0.113.9')));
    expect(ok).toHaveLength(3);
    expect(failed).toHaveLength(7);
    for (const e of failed) expect((e as BcError).code).toBe('RATE_LIMITED');
    expect((await invites.get(code))?.uses).toBe(3);
    expect(ok[0]!.user.group).toBe('vip');
    expect(ok[0]!.key).toMatchObject({
      name: `${ok[0]!.user.name}/default`,
      scope: 'account',
      createdBy: 'self',
    });
    const closed = { ...s, signup: 'off' as const };
    await expect(invites.signup(signupRequest(code, closed))).rejects.toMatchObject({
      code: 'SIGNUP_CLOSED',
    });
  });

  it('a referral code is drawn once, also when asked for at once; a collision draws again', async () => {
    const u = await newUser();
    const { ok } = await race(10, () => invites.referralCode(u.id));
    expect(new Set(ok).size).toBe(1);
    expect(ok[0]).toMatch(/^[0-9A-Z]{8}$/);
    const draws = [ok[0]!, ok[0]!, 'ZZZZZZZZ'];
    const colliding = new PgInviteTable(sql, new PgUserTable(sql), {
      createKey: insertKey,
      referralCode: () => draws.shift()!,
    });
    const v = await newUser();
    expect(await colliding.referralCode(v.id)).toBe('ZZZZZZZZ');
    await expect(invites.referralCode(999_999)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('after all of it', () => {
  it('sum(ledger) - spent = balance for every metered user', async () => {
    const rows = await sql<{ id: number; balance: number; spent: number; sum: number }[]>`
      SELECT u.id, u.balance, u.spent, COALESCE(SUM(l.amount), 0)::bigint AS sum
      FROM users u LEFT JOIN user_ledger l ON l.user_id = u.id
      WHERE u.balance IS NOT NULL GROUP BY u.id ORDER BY u.id`;
    expect(rows.length).toBeGreaterThan(100);
    for (const r of rows)
      expect({ id: r.id, balance: r.sum - r.spent }).toEqual({ id: r.id, balance: r.balance });
    const [neg] = await sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM user_ledger WHERE kind <> 'adjust' AND balance_after < 0`;
    expect(neg!.n).toBe(0);
  });
});
