// Redemption codes in the SQLite store (SPEC section 11, TENANTS.md 5.4): each SQL rule of the
// redemption (uses < max_uses, active, not expired, bound user, once per user) and the one
// transaction that takes a use, records the redemption and credits the user with its ledger row.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BcError } from '../../src/shared/errors.js';
import { hashCode } from '../../src/shared/redeem-code.js';
import { openSqliteDatabase, type Db } from '../../src/daemon/store/sqlite/database.js';
import {
  RedeemCodeTable,
  RedeemInvalidError,
  redeemStatus,
} from '../../src/daemon/store/sqlite/redeem-codes.js';
import { openSqliteStore, type SqliteStore } from '../../src/daemon/store/sqlite/store.js';
import { UserTable } from '../../src/daemon/store/sqlite/users.js';
import type { NewRedeemCodes } from '../../src/daemon/store/types.js';

const USD = 1_000_000;
const T0 = '2030-01-01T00:00:00.000Z';
const LATER = '2030-01-02T00:00:00.000Z';

let dir: string;
let db: Db;
let users: UserTable;
let codes: RedeemCodeTable;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-redeem-'));
  db = openSqliteDatabase(path.join(dir, 'bc.db'));
  users = new UserTable(db);
  codes = new RedeemCodeTable(db, users);
});

afterEach(() => {
  if (db.open) db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function newCodes(over: Partial<NewRedeemCodes> = {}, now = T0) {
  return codes.create(
    {
      amount: 5 * USD,
      count: 1,
      batch: null,
      expiresAt: null,
      maxUses: 1,
      userId: null,
      promo: false,
      ...over,
    },
    now,
  );
}

function user(name: string, balance: number | null = 0): number {
  return users.create({ name, balance }).user.id;
}

/** The error a redemption throws, or 'ok'. */
function failure(fn: () => unknown): BcError | 'ok' {
  try {
    fn();
    return 'ok';
  } catch (e) {
    if (e instanceof BcError) return e;
    throw e;
  }
}

function reasonOf(fn: () => unknown): string {
  const e = failure(fn);
  if (e === 'ok') return 'ok';
  return e instanceof RedeemInvalidError ? `${e.code}:${e.reason}` : e.code;
}

const count = (sql: string, ...args: unknown[]): number =>
  db
    .prepare(sql)
    .pluck()
    .get(...args) as number;

/** sum(ledger) - spent = balance, for every metered user */
function ledgerHolds(): void {
  const rows = db
    .prepare(
      `SELECT u.balance AS balance, u.spent AS spent, COALESCE(SUM(l.amount), 0) AS sum
       FROM users u LEFT JOIN user_ledger l ON l.user_id = u.id WHERE u.balance IS NOT NULL GROUP BY u.id`,
    )
    .all() as { balance: number; spent: number; sum: number }[];
  for (const r of rows) expect(r.sum - r.spent).toBe(r.balance);
}

describe('create', () => {
  it('makes N codes in one call, stored only as hashes with a display prefix', () => {
    const made = newCodes({ count: 25, batch: 'spring', maxUses: 2, promo: true, expiresAt: LATER });
    expect(made).toHaveLength(25);
    expect(new Set(made.map((m) => m.code)).size).toBe(25);
    for (const m of made) {
      expect(m.code).toMatch(/^BCR-[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){3}$/);
      expect(m.record.prefix).toBe(m.code.slice(0, 9));
      expect(m.record).toMatchObject({ batch: 'spring', amount: 5 * USD, maxUses: 2, uses: 0, promo: true });
      expect(m.record.expiresAt).toBe(LATER);
      expect(count('SELECT count(*) FROM redeem_codes WHERE hash = ?', hashCode(m.code))).toBe(1);
    }
    // the plain code is nowhere in the database file's table
    const dump = JSON.stringify(db.prepare('SELECT * FROM redeem_codes').all());
    for (const m of made) expect(dump).not.toContain(m.code.slice(4));
  });

  it('refuses a count outside 1..10,000, a non-positive amount or uses, and stores nothing', () => {
    expect(reasonOf(() => newCodes({ count: 0 }))).toBe('INVALID_REQUEST');
    expect(reasonOf(() => newCodes({ count: 10_001 }))).toBe('INVALID_REQUEST');
    expect(reasonOf(() => newCodes({ amount: 0 }))).toBe('INVALID_REQUEST');
    expect(reasonOf(() => newCodes({ maxUses: 0 }))).toBe('INVALID_REQUEST');
    expect(reasonOf(() => newCodes({ count: 3, userId: 999 }))).toBe('NOT_FOUND');
    expect(count('SELECT count(*) FROM redeem_codes')).toBe(0);
  });

  it('10,000 codes in one transaction', () => {
    const made = newCodes({ count: 10_000, batch: 'big' });
    expect(made).toHaveLength(10_000);
    expect(count("SELECT count(DISTINCT hash) FROM redeem_codes WHERE batch = 'big'")).toBe(10_000);
  });
});

describe('redeem', () => {
  it('credits once: one use, one redemption row, one ledger row of kind redeem', () => {
    const alice = user('alice', 2 * USD);
    const [c] = newCodes();
    const r = codes.redeem({ code: c!.code, userId: alice, ip: '203.0.113.7', actor: 'key:1' }, T0);
    expect(r).toEqual({
      amount: 5 * USD,
      balance: 7 * USD,
      replayed: false,
      changes: [{ userId: alice, amount: 5 * USD }],
    });
    expect(codes.byId(c!.record.id)?.uses).toBe(1);
    expect(codes.redemptions(c!.record.id)).toEqual([
      { id: 1, codeId: c!.record.id, userId: alice, amount: 5 * USD, time: T0, ip: '203.0.113.7' },
    ]);
    const ledger = users.ledger(alice, 10)[0];
    expect(ledger).toMatchObject({
      kind: 'redeem',
      amount: 5 * USD,
      balanceAfter: 7 * USD,
      ref: `code:${c!.record.id}`,
      actor: 'key:1',
    });
    expect(users.byId(alice)).toMatchObject({ balance: 7 * USD, credited: 7 * USD });
    ledgerHolds();
  });

  it('reads the code in any case, with or without dashes and spaces', () => {
    const alice = user('alice');
    const [c] = newCodes();
    const typed = ` ${c!.code.toLowerCase().replace(/-/g, ' ')} `;
    expect(codes.redeem({ code: typed, userId: alice, ip: null, actor: 'admin' }, T0).amount).toBe(5 * USD);
  });

  it('a retry by the same user answers the first result, replayed, and credits nothing', () => {
    const alice = user('alice');
    const [c] = newCodes();
    const first = codes.redeem({ code: c!.code, userId: alice, ip: null, actor: 'admin' }, T0);
    users.credit({ userId: alice, kind: 'topup', amount: USD, actor: 'admin' });
    const again = codes.redeem({ code: c!.code, userId: alice, ip: null, actor: 'admin' }, T0);
    expect(again).toEqual({ amount: first.amount, balance: first.balance, replayed: true, changes: [] });
    expect(count("SELECT count(*) FROM user_ledger WHERE kind = 'redeem'")).toBe(1);
    expect(count('SELECT count(*) FROM redemptions')).toBe(1);
    expect(users.byId(alice)?.balance).toBe(6 * USD);
  });

  it('a multi-use code: a second use by the same user is a replay and its use is rolled back', () => {
    const alice = user('alice');
    const bob = user('bob');
    const [c] = newCodes({ maxUses: 3 });
    codes.redeem({ code: c!.code, userId: alice, ip: null, actor: 'admin' }, T0);
    const again = codes.redeem({ code: c!.code, userId: alice, ip: null, actor: 'admin' }, T0);
    expect(again.replayed).toBe(true);
    expect(codes.byId(c!.record.id)?.uses).toBe(1);
    expect(users.byId(alice)?.balance).toBe(5 * USD);
    expect(codes.redeem({ code: c!.code, userId: bob, ip: null, actor: 'admin' }, T0).replayed).toBe(false);
    expect(codes.byId(c!.record.id)?.uses).toBe(2);
  });

  it('a code of --uses 10 is credited exactly 10 times among 50 users; the rest are told it is used', async () => {
    const ids = Array.from({ length: 50 }, (_, i) => user(`u${i}`));
    const [c] = newCodes({ maxUses: 10, amount: USD });
    const results = await Promise.allSettled(
      ids.map(async (id) => codes.redeem({ code: c!.code, userId: id, ip: null, actor: 'admin' }, T0)),
    );
    const ok = results.filter((r) => r.status === 'fulfilled');
    expect(ok).toHaveLength(10);
    for (const r of results) {
      if (r.status === 'rejected') {
        expect(r.reason).toBeInstanceOf(RedeemInvalidError);
        expect((r.reason as RedeemInvalidError).reason).toBe('used');
        expect((r.reason as Error).message).toMatch(/is used up: all 10 uses are taken, the last by u9 at /);
      }
    }
    expect(codes.byId(c!.record.id)?.uses).toBe(10);
    expect(count('SELECT count(*) FROM redemptions')).toBe(10);
    expect(count("SELECT count(*) FROM user_ledger WHERE kind = 'redeem'")).toBe(10);
    expect(count('SELECT sum(balance) FROM users')).toBe(10 * USD);
    ledgerHolds();
  });

  it('a single-use code redeemed by someone else: used, naming who and when', () => {
    const alice = user('alice');
    const bob = user('bob');
    const [c] = newCodes();
    codes.redeem({ code: c!.code, userId: alice, ip: null, actor: 'admin' }, T0);
    const e = failure(() => codes.redeem({ code: c!.code, userId: bob, ip: null, actor: 'admin' }, T0));
    expect(e).toBeInstanceOf(RedeemInvalidError);
    expect((e as RedeemInvalidError).reason).toBe('used');
    expect((e as Error).message).toBe(
      `code ${c!.record.prefix} (id ${c!.record.id}) was already redeemed by alice at ${T0}`,
    );
    expect(users.byId(bob)?.balance).toBe(0);
  });

  it('unknown, revoked, expired and bound-to-another-user codes each say why, and change nothing', () => {
    const alice = user('alice');
    const bob = user('bob');
    const [revoked] = newCodes();
    codes.revoke(revoked!.record.id);
    const [expiring] = newCodes({ expiresAt: '2030-01-01T12:00:00.000Z' });
    const [bobs] = newCodes({ userId: bob });
    const use =
      (code: string, now = T0) =>
      () =>
        codes.redeem({ code, userId: alice, ip: null, actor: 'admin' }, now);
    expect(reasonOf(use('BCR-AAAAA-AAAAA-AAAAA-AAAAA'))).toBe('REDEEM_INVALID:unknown');
    expect(reasonOf(use(revoked!.code))).toBe('REDEEM_INVALID:revoked');
    expect(reasonOf(use(expiring!.code, LATER))).toBe('REDEEM_INVALID:expired');
    expect(reasonOf(use(bobs!.code))).toBe('REDEEM_INVALID:other_user');
    expect((failure(use(bobs!.code)) as Error).message).toMatch(/can be redeemed only by bob$/);
    expect(count('SELECT sum(uses) FROM redeem_codes')).toBe(0);
    expect(count('SELECT count(*) FROM user_ledger')).toBe(0);
    // the expiring code works before its time, the bound one for its user
    expect(reasonOf(use(expiring!.code, T0))).toBe('ok');
    expect(codes.redeem({ code: bobs!.code, userId: bob, ip: null, actor: 'admin' }, T0).amount).toBe(
      5 * USD,
    );
  });

  it('the moment of expiry is already too late', () => {
    const alice = user('alice');
    const [c] = newCodes({ expiresAt: LATER });
    expect(
      reasonOf(() => codes.redeem({ code: c!.code, userId: alice, ip: null, actor: 'admin' }, LATER)),
    ).toBe('REDEEM_INVALID:expired');
  });

  it('a disabled, unmetered or unknown user redeems nothing, and learns nothing about the code', () => {
    const dis = user('dis');
    users.patch(dis, { status: 'disabled' });
    const free = user('free', null);
    const [c] = newCodes();
    const use = (code: string, userId: number) => () =>
      codes.redeem({ code, userId, ip: null, actor: 'admin' }, T0);
    expect(reasonOf(use(c!.code, dis))).toBe('USER_DISABLED');
    expect(reasonOf(use('BCR-AAAAA-AAAAA-AAAAA-AAAAA', dis))).toBe('USER_DISABLED');
    expect(reasonOf(use(c!.code, free))).toBe('USER_UNMETERED');
    expect(reasonOf(use('BCR-AAAAA-AAAAA-AAAAA-AAAAA', free))).toBe('USER_UNMETERED');
    expect(reasonOf(use(c!.code, 999))).toBe('NOT_FOUND');
    expect(codes.byId(c!.record.id)?.uses).toBe(0);
    expect(count('SELECT count(*) FROM redemptions')).toBe(0);
  });

  it('a failure inside the credit rolls back the use and the redemption row', () => {
    const alice = user('alice');
    const [c] = newCodes();
    users.onPaidCredit(() => {
      throw new Error('payout failed');
    });
    expect(() => codes.redeem({ code: c!.code, userId: alice, ip: null, actor: 'admin' }, T0)).toThrow(
      'payout failed',
    );
    expect(codes.byId(c!.record.id)?.uses).toBe(0);
    expect(count('SELECT count(*) FROM redemptions')).toBe(0);
    expect(count('SELECT count(*) FROM user_ledger')).toBe(0);
    expect(users.byId(alice)?.balance).toBe(0);
  });

  it('a paid code runs the paid-credit hooks (invitation payout); a promo code does not', () => {
    const alice = user('alice');
    const seen: number[] = [];
    users.onPaidCredit((_u, amount) => {
      seen.push(amount);
      return [];
    });
    const [paid] = newCodes({ amount: 3 * USD });
    const [promo] = newCodes({ amount: 2 * USD, promo: true });
    codes.redeem({ code: promo!.code, userId: alice, ip: null, actor: 'admin' }, T0);
    expect(seen).toEqual([]);
    codes.redeem({ code: paid!.code, userId: alice, ip: null, actor: 'admin' }, T0);
    expect(seen).toEqual([3 * USD]);
    expect(users.byId(alice)?.balance).toBe(5 * USD);
  });
});

describe('list, get, revoke', () => {
  it('filters by batch, user and derived status', () => {
    const alice = user('alice');
    const [a1, a2, a3, a4] = newCodes({ count: 4, batch: 'a' });
    const [bound] = newCodes({ batch: 'b', userId: alice, expiresAt: '2030-01-01T06:00:00.000Z' });
    codes.redeem({ code: a1!.code, userId: alice, ip: null, actor: 'admin' }, T0);
    codes.revoke(a2!.record.id);
    const ids = (q: Parameters<RedeemCodeTable['list']>[0], now = LATER) =>
      codes.list(q, now).map((c) => c.id);
    expect(ids({ batch: 'a' })).toEqual([a1, a2, a3, a4].map((c) => c!.record.id));
    expect(ids({ userId: alice })).toEqual([bound!.record.id]);
    expect(ids({ status: 'used' })).toEqual([a1!.record.id]);
    expect(ids({ status: 'revoked' })).toEqual([a2!.record.id]);
    expect(ids({ status: 'expired' })).toEqual([bound!.record.id]);
    expect(ids({ status: 'active' })).toEqual([a3!.record.id, a4!.record.id]);
    expect(ids({ status: 'active' }, T0)).toEqual([a3, a4, bound].map((c) => c!.record.id));
    expect(ids({ status: 'active', batch: 'b' }, T0)).toEqual([bound!.record.id]);
    expect(redeemStatus(codes.byId(a1!.record.id)!, LATER)).toBe('used');
    expect(redeemStatus(codes.byId(bound!.record.id)!, LATER)).toBe('expired');
  });

  it('gets a code by id, prefix (any case) or the whole code; a shared prefix is a conflict', () => {
    const [c, d] = newCodes({ count: 2 });
    expect(codes.get(c!.record.id)?.id).toBe(c!.record.id);
    expect(codes.get(String(c!.record.id))?.id).toBe(c!.record.id);
    expect(codes.get(c!.record.prefix.toLowerCase())?.id).toBe(c!.record.id);
    expect(codes.get(c!.code)?.id).toBe(c!.record.id);
    expect(codes.get('BCR-ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ')).toBeUndefined();
    db.prepare('UPDATE redeem_codes SET prefix = ? WHERE id = ?').run(c!.record.prefix, d!.record.id);
    expect(reasonOf(() => codes.get(c!.record.prefix))).toBe('CONFLICT');
  });

  it('revokes a batch: only its codes still redeemable; an unknown batch is not found', () => {
    const alice = user('alice');
    const [x] = newCodes({ count: 3, batch: 'x' });
    newCodes({ batch: 'y' });
    codes.redeem({ code: x!.code, userId: alice, ip: null, actor: 'admin' }, T0);
    expect(codes.revokeBatch('x')).toBe(2);
    expect(codes.revokeBatch('x')).toBe(0);
    expect(codes.list({ status: 'active' }, T0).map((c) => c.batch)).toEqual(['y']);
    expect(reasonOf(() => codes.revokeBatch('nope'))).toBe('NOT_FOUND');
    expect(reasonOf(() => codes.revoke(999))).toBe('NOT_FOUND');
  });
});

describe('SqliteStore', () => {
  let store: SqliteStore;
  beforeEach(() => {
    store = openSqliteStore(path.join(dir, 'store.db'));
  });
  afterEach(async () => {
    await store.close();
  });

  it('creates and redeems through the Store interface', async () => {
    const { user: alice } = await store.createUser({ name: 'alice', balance: USD });
    const made = await store.createRedeemCodes({
      amount: 2 * USD,
      count: 2,
      batch: 'b',
      expiresAt: null,
      maxUses: 1,
      userId: null,
      promo: false,
    });
    const r = await store.redeem({ code: made[0]!.code, userId: alice.id, ip: null, actor: 'admin' });
    expect(r).toMatchObject({ amount: 2 * USD, balance: 3 * USD, replayed: false });
    expect((await store.listRedeemCodes({ status: 'used' })).map((c) => c.id)).toEqual([made[0]!.record.id]);
    expect((await store.getRedeemCode(made[1]!.record.prefix))?.id).toBe(made[1]!.record.id);
    expect(await store.redemptions(made[0]!.record.id)).toHaveLength(1);
    expect(await store.revokeRedeemBatch('b')).toBe(1);
    expect((await store.revokeRedeemCode(made[0]!.record.id)).status).toBe('revoked');
    expect((await store.getUser(alice.id))?.balance).toBe(3 * USD);
  });
});
