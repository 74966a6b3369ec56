// Invitations in the SQLite store (SPEC section 11, TENANTS.md 5.5): the signup transaction (the
// invite's conditional use, the referral code, the limits, the user, key and invitation together,
// all rolled back on any failure), referral codes drawn again on a collision, and the payout hook
// on paid credits (once per invitation, the caps, min credit, rebates, unmetered inviters).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BcError } from '../../src/shared/errors.js';
import { DEFAULT_TENANT_SETTINGS, type TenantSettings } from '../../src/shared/tenant-api.js';
import { openSqliteDatabase, type Db } from '../../src/daemon/store/sqlite/database.js';
import { KeyTable } from '../../src/daemon/store/sqlite/catalog.js';
import { InviteTable, inviteStatus } from '../../src/daemon/store/sqlite/invites.js';
import { UserTable } from '../../src/daemon/store/sqlite/users.js';
import type { NewInvite, SignupRequest } from '../../src/daemon/store/types.js';

const USD = 1_000_000;
const T0 = '2030-01-01T00:00:00.000Z';

let dir: string;
let db: Db;
let users: UserTable;
let invites: InviteTable;
let settings: TenantSettings;
let keySeq = 0;

function open(referralCode?: () => string): void {
  const keys = new KeyTable(db);
  users = new UserTable(db);
  invites = new InviteTable(db, users, {
    createKey: (k) => keys.create(k),
    settings: () => settings,
    ...(referralCode === undefined ? {} : { referralCode }),
  });
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-invites-'));
  db = openSqliteDatabase(path.join(dir, 'bc.db'));
  settings = structuredClone(DEFAULT_TENANT_SETTINGS);
  settings.signup = 'invite+referral';
  open();
});

afterEach(() => {
  if (db.open) db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function invite(over: Partial<NewInvite> = {}) {
  return invites.create({
    name: null,
    inviterId: null,
    group: null,
    inviteeAmount: 0,
    inviterAmount: 0,
    maxUses: 1,
    expiresAt: null,
    ...over,
  });
}

function signup(code: string, name: string, over: Partial<SignupRequest> = {}) {
  keySeq++;
  return invites.signup({
    code,
    name,
    ip: null,
    settings,
    keyHash: `hash-${keySeq}`,
    keyPrefix: `sk-bc-${keySeq}`,
    now: T0,
    ...over,
  });
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof BcError) return e.code;
    throw e;
  }
  return undefined;
}

const count = (sql: string, ...args: unknown[]) =>
  db
    .prepare(sql)
    .pluck()
    .get(...args) as number;
const ledgerSum = (id: number) =>
  count('SELECT COALESCE(SUM(amount), 0) FROM user_ledger WHERE user_id = ?', id);

function paid(userId: number, amount: number, now = T0) {
  return users.credit({ userId, kind: 'topup', amount, actor: 'admin', paid: true, now });
}

describe('signup with an admin invite', () => {
  it('creates the user, the first key and the invitation in one go, paid at signup', () => {
    const sponsor = users.create({ name: 'sponsor', balance: 0 }).user;
    const { code: c } = invite({
      inviterId: sponsor.id,
      group: 'vip',
      inviteeAmount: 5 * USD,
      inviterAmount: 2 * USD,
    });
    const r = signup(c.toLowerCase(), 'alice');
    expect(r.user).toMatchObject({ name: 'alice', group: 'vip', balance: 5 * USD, invitedBy: sponsor.id });
    expect(r.key).toMatchObject({
      name: 'alice/default',
      scope: 'account',
      createdBy: 'self',
      userId: r.user.id,
    });
    expect(r.invitation).toMatchObject({ status: 'rewarded', rewardOn: 'signup', inviteeBonus: 5 * USD });
    expect(users.byId(sponsor.id)?.balance).toBe(2 * USD);
    expect(r.changes).toEqual([
      { userId: r.user.id, amount: 5 * USD },
      { userId: sponsor.id, amount: 2 * USD },
    ]);
    expect(ledgerSum(r.user.id)).toBe(5 * USD);
  });

  it('answers INVITE_INVALID alike for an unknown, used, expired or revoked invite', () => {
    const used = invite().code;
    signup(used, 'first');
    const expired = invite({ expiresAt: T0 }).code;
    const revoked = invite();
    invites.revoke(revoked.invite.id);
    for (const c of ['BCI-NOPE0-NOPE0-NOPE0-NOPE0', used, expired, revoked.code]) {
      expect(code(() => signup(c, 'bob'))).toBe('INVITE_INVALID');
    }
    expect(inviteStatus(invites.get(revoked.invite.id)!, T0)).toBe('revoked');
    expect(inviteStatus(invites.get(used)!, T0)).toBe('used');
  });

  it('rolls the use back when the name is taken', () => {
    users.create({ name: 'taken', balance: 0 });
    const i = invite();
    expect(code(() => signup(i.code, 'taken'))).toBe('CONFLICT');
    expect(invites.get(i.invite.id)?.uses).toBe(0);
    expect(count('SELECT COUNT(*) FROM invitations')).toBe(0);
  });

  it('is closed when signup is off', () => {
    settings.signup = 'off';
    expect(code(() => signup(invite().code, 'x'))).toBe('SIGNUP_CLOSED');
  });

  it('limits signups per address and per day, counting only signups with an address', () => {
    settings.signups_per_ip_per_day = 2;
    settings.signups_per_day = 3;
    const c = invite({ maxUses: 10 }).code;
    signup(c, 'a1', { ip: '1.1.1.1' });
    signup(c, 'a2', { ip: '1.1.1.1' });
    expect(code(() => signup(c, 'a3', { ip: '1.1.1.1' }))).toBe('RATE_LIMITED');
    signup(c, 'b1', { ip: '2.2.2.2' });
    expect(code(() => signup(c, 'c1', { ip: '3.3.3.3' }))).toBe('RATE_LIMITED');
    signup(c, 'admin-made'); // no address: the control socket
    // a day later the window has moved on
    signup(c, 'a3', { ip: '1.1.1.1', now: '2030-01-02T00:00:01.000Z' });
    expect(invites.get(c)?.uses).toBe(5);
  });
});

describe('referral codes', () => {
  it('are made on first ask, kept, and resolve case-insensitively to their inviter', () => {
    const inviter = users.create({ name: 'inviter', balance: 0 }).user;
    const rc = invites.referralCode(inviter.id);
    expect(rc).toMatch(/^[0-9A-HJKMNP-TV-Z]{8}$/);
    expect(invites.referralCode(inviter.id)).toBe(rc);
    const r = signup(rc.toLowerCase(), 'friend');
    expect(r.user.invitedBy).toBe(inviter.id);
    expect(r.invitation).toMatchObject({ inviteId: null, rewardOn: 'first_credit', status: 'pending' });
  });

  it('are refused unless signup is invite+referral', () => {
    const inviter = users.create({ name: 'inviter', balance: 0 }).user;
    settings.signup = 'invite';
    expect(code(() => signup(invites.referralCode(inviter.id), 'friend'))).toBe('INVITE_INVALID');
  });

  it('draw again on a collision (new-api#6215)', () => {
    const draws = ['AAAAAAAA', 'AAAAAAAA', 'BBBBBBBB'];
    open(() => draws.shift() ?? 'ZZZZZZZZ');
    const a = users.create({ name: 'a', balance: 0 }).user;
    const b = users.create({ name: 'b', balance: 0 }).user;
    expect(invites.referralCode(a.id)).toBe('AAAAAAAA');
    expect(invites.referralCode(b.id)).toBe('BBBBBBBB');
  });
});

describe('the payout on a paid credit', () => {
  function referred(n: number, inviterId: number) {
    const rc = invites.referralCode(inviterId);
    return Array.from({ length: n }, (_, i) => signup(rc, `puppet${i}`).user);
  }

  it('pays once, only from min credit, and holds inviter_max', () => {
    Object.assign(settings.referral, { invitee_amount: 1 * USD, inviter_amount: 2 * USD, inviter_max: 3 });
    const inviter = users.create({ name: 'inviter', balance: 0 }).user;
    const puppets = referred(5, inviter.id);
    paid(puppets[0]!.id, 4 * USD); // below min credit ($5): nothing
    expect(users.byId(inviter.id)?.balance).toBe(0);
    for (const p of puppets) paid(p.id, 5 * USD);
    paid(puppets[0]!.id, 5 * USD); // a second top-up pays nothing more
    expect(users.byId(inviter.id)?.balance).toBe(6 * USD);
    expect(users.byId(inviter.id)?.referralRewards).toBe(3);
    const statuses = invites
      .listInvitations()
      .map((i) => i.status)
      .sort();
    expect(statuses).toEqual(['capped', 'capped', 'rewarded', 'rewarded', 'rewarded']);
    // capped holds back the inviter's reward only: every invitee got the bonus
    for (const p of puppets)
      expect(
        count("SELECT COUNT(*) FROM user_ledger WHERE user_id = ? AND kind = 'invite_bonus'", p.id),
      ).toBe(1);
  });

  it('holds the daily cap over a rolling 24 hours', () => {
    Object.assign(settings.referral, { inviter_amount: 1 * USD, inviter_daily_max: 2 });
    const inviter = users.create({ name: 'inviter', balance: 0 }).user;
    const puppets = referred(4, inviter.id);
    paid(puppets[0]!.id, 5 * USD);
    paid(puppets[1]!.id, 5 * USD);
    paid(puppets[2]!.id, 5 * USD);
    paid(puppets[3]!.id, 5 * USD, '2030-01-02T00:00:01.000Z');
    expect(
      invites
        .listInvitations()
        .map((i) => i.status)
        .reverse(),
    ).toEqual(['rewarded', 'rewarded', 'capped', 'rewarded']);
  });

  it('pays no reward to an unmetered inviter (void) and nothing for an unpaid credit', () => {
    Object.assign(settings.referral, { invitee_amount: 1 * USD, inviter_amount: 1 * USD });
    const inviter = users.create({ name: 'team', balance: null }).user;
    const [p] = referred(1, inviter.id);
    users.credit({ userId: p!.id, kind: 'adjust', amount: 9 * USD, actor: 'admin', now: T0 });
    expect(invites.listInvitations()[0]?.status).toBe('pending');
    paid(p!.id, 5 * USD);
    expect(invites.listInvitations()[0]?.status).toBe('void');
    expect(users.byId(p!.id)?.balance).toBe(15 * USD);
  });

  it('pays a rebate on later credits up to the cap', () => {
    Object.assign(settings.referral, { inviter_amount: 1 * USD, rebate_percent: 10, rebate_cap: 3 * USD });
    const inviter = users.create({ name: 'inviter', balance: 0 }).user;
    const [p] = referred(1, inviter.id);
    paid(p!.id, 10 * USD); // the reward, no rebate
    paid(p!.id, 10 * USD); // $1
    paid(p!.id, 15 * USD); // $1.50
    paid(p!.id, 20 * USD); // $0.50 left of the cap
    paid(p!.id, 20 * USD); // nothing
    expect(users.byId(inviter.id)?.balance).toBe(4 * USD);
    expect(invites.listInvitations()[0]?.rebatePaid).toBe(3 * USD);
    expect(count("SELECT COUNT(*) FROM user_ledger WHERE user_id = ? AND kind = 'rebate'", inviter.id)).toBe(
      3,
    );
    for (const u of users.list()) expect(ledgerSum(u.id) - u.spent).toBe(u.balance);
  });
});
