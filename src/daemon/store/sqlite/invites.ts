/**
 * Invitations in SQLite (SPEC section 11, TENANTS.md 5.5): admin invites (stored as the SHA-256 of
 * the code, shown once), each user's public referral code, the signup that consumes either, and
 * the payout hook (invite-payout.ts) that UserTable runs inside every paid credit.
 *
 * A signup is one synchronous transaction: an invite's use is taken by the same conditional UPDATE
 * as a redemption code's (`uses < max_uses`, active, not expired), the signup limits are counted
 * inside it, then the user, their first key (scope account) and the invitation row with its
 * amounts frozen are written together. Anything failing rolls all of it back, the invite's use
 * included. Every reason a code cannot be used gets the same answer (INVITE_INVALID), so the
 * signup route is no oracle for codes.
 */
import { randomBytes } from 'node:crypto';
import { BcError } from '../../../shared/errors.js';
import { keyDefaults } from '../../../shared/key-fields.js';
import { codePrefix, generateCode, hashCode } from '../../../shared/redeem-code.js';
import type { TenantSettings } from '../../../shared/tenant-api.js';
import type {
  BalanceChange,
  InvitationRecord,
  InviteRecord,
  KeyRecord,
  NewInvite,
  NewKey,
  SignupRequest,
  SignupResult,
} from '../types.js';
import { isConstraint } from './catalog.js';
import type { Db } from './database.js';
import { dayBefore, invitationFromRow, InvitePayout, type InvitationRow } from './invite-payout.js';
import type { UserTable } from './users.js';

interface InviteRow {
  id: number;
  hash: string;
  prefix: string;
  name: string | null;
  inviter_id: number | null;
  group: string | null;
  invitee_amount: number;
  inviter_amount: number;
  max_uses: number;
  uses: number;
  status: string;
  expires_at: string | null;
  created_at: string;
}

function inviteFromRow(r: InviteRow): InviteRecord {
  return {
    id: r.id,
    prefix: r.prefix,
    name: r.name,
    inviterId: r.inviter_id,
    group: r.group,
    inviteeAmount: r.invitee_amount,
    inviterAmount: r.inviter_amount,
    maxUses: r.max_uses,
    uses: r.uses,
    status: r.status as InviteRecord['status'],
    expiresAt: r.expires_at,
    createdAt: r.created_at,
  };
}

/** `used` and `expired` are derived from the stored row, as for redemption codes. */
export function inviteStatus(
  i: InviteRecord,
  now = new Date().toISOString(),
): 'active' | 'used' | 'expired' | 'revoked' {
  if (i.status === 'revoked') return 'revoked';
  if (i.uses >= i.maxUses) return 'used';
  if (i.expiresAt !== null && i.expiresAt <= now) return 'expired';
  return 'active';
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const REFERRAL_LENGTH = 8;
const REFERRAL_ATTEMPTS = 10;

/** 8 Crockford base32 characters (40 random bits): public, so plain text, but not guessable in bulk. */
export function randomReferralCode(): string {
  let out = '';
  for (const b of randomBytes(REFERRAL_LENGTH)) out += CROCKFORD[b & 31];
  return out;
}

/** What a person typed as a referral code: any case, dashes and spaces optional, O/I/L as 0/1/1. */
function canonicalReferral(input: string): string | null {
  const c = input.trim().toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  return new RegExp(`^[${CROCKFORD}]{${REFERRAL_LENGTH}}$`).test(c) ? c : null;
}

/** Where a signup's terms come from: an admin invite, or a referral code under settings.referral. */
interface SignupTerms {
  inviteId: number | null;
  inviterId: number | null;
  group: string;
  inviteeBonus: number;
  inviterReward: number;
  rewardOn: 'signup' | 'first_credit';
}

export interface InviteTableOptions {
  /** the first key of a signup, inserted inside its transaction (the store's KeyTable) */
  createKey: (k: NewKey) => KeyRecord;
  /** the current tenant settings, read synchronously inside the paid credit's transaction */
  settings: () => TenantSettings;
  /** referral codes; tests force collisions with it */
  referralCode?: () => string;
}

export class InviteTable {
  private readonly insert;
  private readonly all;
  private readonly byIdStmt;
  private readonly byHashStmt;
  private readonly byPrefixStmt;
  private readonly revokeStmt;
  private readonly consume;
  private readonly inviterByReferral;
  private readonly referralOf;
  private readonly setReferral;
  private readonly signupsFrom;
  private readonly signupsSince;
  private readonly insertInvitation;
  private readonly invitations;
  private readonly invitationById;
  private readonly payout: InvitePayout;
  private readonly newReferral: () => string;

  constructor(
    private readonly db: Db,
    private readonly users: UserTable,
    private readonly opts: InviteTableOptions,
  ) {
    this.insert = db.prepare<[Record<string, string | number | null>]>(
      `INSERT INTO invites (hash, prefix, name, inviter_id, "group", invitee_amount, inviter_amount,
         max_uses, expires_at, created_at)
       VALUES (@hash, @prefix, @name, @inviter_id, @group, @invitee_amount, @inviter_amount,
         @max_uses, @expires_at, @now)`,
    );
    this.all = db.prepare<[], InviteRow>('SELECT * FROM invites ORDER BY id');
    this.byIdStmt = db.prepare<[number], InviteRow>('SELECT * FROM invites WHERE id = ?');
    this.byHashStmt = db.prepare<[string], InviteRow>('SELECT * FROM invites WHERE hash = ?');
    this.byPrefixStmt = db.prepare<[string], InviteRow>('SELECT * FROM invites WHERE prefix = ?');
    this.revokeStmt = db.prepare<[number]>("UPDATE invites SET status = 'revoked' WHERE id = ?");
    // the rule is the WHERE, as for redemption codes: active, a use left, not expired
    this.consume = db.prepare<[Record<string, string>], InviteRow>(
      `UPDATE invites SET uses = uses + 1
       WHERE hash = @hash AND status = 'active' AND uses < max_uses
         AND (expires_at IS NULL OR expires_at > @now)
       RETURNING *`,
    );
    this.inviterByReferral = db
      .prepare<[string], number>("SELECT id FROM users WHERE referral_code = ? AND status = 'enabled'")
      .pluck();
    this.referralOf = db
      .prepare<[number], string | null>(
        "SELECT referral_code FROM users WHERE id = ? AND status != 'deleted'",
      )
      .pluck();
    this.setReferral = db.prepare<[string, number]>(
      'UPDATE users SET referral_code = ? WHERE id = ? AND referral_code IS NULL',
    );
    this.signupsFrom = db.prepare<[string, string], { n: number; oldest: string | null }>(
      'SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM invitations WHERE signup_ip = ? AND created_at > ?',
    );
    this.signupsSince = db.prepare<[string], { n: number; oldest: string | null }>(
      `SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM invitations
       WHERE signup_ip IS NOT NULL AND created_at > ?`,
    );
    this.insertInvitation = db.prepare<[Record<string, string | number | null>]>(
      `INSERT INTO invitations (invitee_id, inviter_id, invite_id, invitee_bonus, inviter_reward,
         reward_on, status, created_at, signup_ip)
       VALUES (@invitee_id, @inviter_id, @invite_id, @invitee_bonus, @inviter_reward,
         @reward_on, 'pending', @now, @signup_ip)`,
    );
    this.invitations = db.prepare<[], InvitationRow>('SELECT * FROM invitations ORDER BY id DESC');
    this.invitationById = db.prepare<[number], InvitationRow>('SELECT * FROM invitations WHERE id = ?');
    this.payout = new InvitePayout(db, users, opts.settings);
    this.newReferral = opts.referralCode ?? randomReferralCode;
    users.onPaidCredit((userId, amount, now) => this.payout.onPaidCredit(userId, amount, now));
  }

  /** A new invite; its code is returned here and never again. */
  create(i: NewInvite): { invite: InviteRecord; code: string } {
    const code = generateCode('BCI');
    let id: number;
    try {
      id = Number(
        this.insert.run({
          hash: hashCode(code),
          prefix: codePrefix(code),
          name: i.name,
          inviter_id: i.inviterId,
          group: i.group,
          invitee_amount: i.inviteeAmount,
          inviter_amount: i.inviterAmount,
          max_uses: i.maxUses,
          expires_at: i.expiresAt,
          now: new Date().toISOString(),
        }).lastInsertRowid,
      );
    } catch (e) {
      if (isConstraint(e, 'FOREIGNKEY'))
        throw new BcError('NOT_FOUND', `user ${String(i.inviterId)} not found`, { cause: e });
      throw e;
    }
    return { invite: this.mustGet(id), code };
  }

  list(): InviteRecord[] {
    return this.all.all().map(inviteFromRow);
  }

  /** By id, by the whole code, or by the display prefix (`BCI-7KQ2X`, any case). */
  get(ref: number | string): InviteRecord | undefined {
    if (typeof ref === 'number' || /^\d+$/.test(ref)) {
      const row = this.byIdStmt.get(Number(ref));
      return row === undefined ? undefined : inviteFromRow(row);
    }
    const whole = this.byHashStmt.get(hashCode(ref));
    if (whole !== undefined) return inviteFromRow(whole);
    const rows = this.byPrefixStmt.all(ref.trim().toUpperCase());
    if (rows.length > 1) {
      throw new BcError(
        'CONFLICT',
        `${rows.length} invites start with ${ref.trim().toUpperCase()}: name one by its id (\`bc invite list\`)`,
      );
    }
    return rows[0] === undefined ? undefined : inviteFromRow(rows[0]);
  }

  revoke(id: number): InviteRecord {
    this.revokeStmt.run(id);
    return this.mustGet(id);
  }

  listInvitations(): InvitationRecord[] {
    return this.invitations.all().map(invitationFromRow);
  }

  /**
   * The user's referral code, drawn on first ask. A UNIQUE collision draws again (One API made
   * 4-character codes with no retry, so registration failed on a collision: new-api#6215).
   */
  referralCode(userId: number): string {
    return this.db.transaction(() => {
      for (let attempt = 0; attempt < REFERRAL_ATTEMPTS; attempt++) {
        const current = this.referralOf.get(userId);
        if (current === undefined) throw new BcError('NOT_FOUND', `user ${userId} not found`);
        if (current !== null) return current;
        try {
          this.setReferral.run(this.newReferral(), userId);
        } catch (e) {
          if (!isConstraint(e, 'UNIQUE')) throw e;
        }
      }
      throw new BcError('INTERNAL', `no free referral code after ${REFERRAL_ATTEMPTS} draws`);
    })();
  }

  signup(s: SignupRequest): SignupResult {
    return this.db.transaction(() => this.signupInTx(s))();
  }

  /** The whole signup inside the caller's transaction (see the header). */
  signupInTx(s: SignupRequest): SignupResult {
    const now = s.now ?? new Date().toISOString();
    if (s.settings.signup === 'off') {
      throw new BcError('SIGNUP_CLOSED', 'signup is closed on this gateway: ask its operator for an account');
    }
    if (s.ip !== null) this.checkLimits(s.ip, s.settings, now);
    const terms = this.terms(s.code, s.settings, now);
    const { user } = this.users.createInTx(
      {
        name: s.name,
        group: terms.group,
        balance: 0,
        invitedBy: terms.inviterId,
        signupIp: s.ip,
        actor: 'system',
      },
      now,
    );
    const key = this.opts.createKey({
      ...keyDefaults(),
      name: `${user.name}/default`,
      group: user.group,
      userId: user.id,
      scope: 'account',
      createdBy: 'self',
      hash: s.keyHash,
      prefix: s.keyPrefix,
      status: 'enabled',
    });
    const invitationId = Number(
      this.insertInvitation.run({
        invitee_id: user.id,
        inviter_id: terms.inviterId,
        invite_id: terms.inviteId,
        invitee_bonus: terms.inviteeBonus,
        inviter_reward: terms.inviterReward,
        reward_on: terms.rewardOn,
        now,
        signup_ip: s.ip,
      }).lastInsertRowid,
    );
    const changes: BalanceChange[] =
      terms.rewardOn === 'signup' ? this.payout.payAtSignup(invitationId, s.settings, now) : [];
    const invitation = this.invitationById.get(invitationId);
    if (invitation === undefined) throw new BcError('INTERNAL', `invitation ${invitationId} vanished`);
    return { user: this.users.mustGet(user.id), key, invitation: invitationFromRow(invitation), changes };
  }

  /**
   * Signups from one address, and from all addresses, in the last 24 hours. Only signups with an
   * address count (the gateway's); the admin's `bc user create --invite` has none and is not limited.
   */
  private checkLimits(ip: string, s: TenantSettings, now: string): void {
    const since = dayBefore(now);
    const fromIp = this.signupsFrom.get(ip, since);
    if (fromIp !== undefined && fromIp.n >= s.signups_per_ip_per_day) {
      throw limited(
        `too many signups from this address today (${s.signups_per_ip_per_day} a day)`,
        fromIp.oldest,
        now,
      );
    }
    const all = this.signupsSince.get(since);
    if (all !== undefined && all.n >= s.signups_per_day) {
      throw limited(`too many signups on this gateway today (${s.signups_per_day} a day)`, all.oldest, now);
    }
  }

  /** Takes a use of an admin invite, else (invite+referral) finds a referral code's inviter. */
  private terms(code: string, s: TenantSettings, now: string): SignupTerms {
    const invite = this.consume.get({ hash: hashCode(code), now });
    if (invite !== undefined) {
      return {
        inviteId: invite.id,
        inviterId: invite.inviter_id,
        group: invite.group ?? 'default',
        inviteeBonus: invite.invitee_amount,
        inviterReward: invite.inviter_amount,
        rewardOn: 'signup',
      };
    }
    const referral = s.signup === 'invite+referral' ? canonicalReferral(code) : null;
    const inviterId = referral === null ? undefined : this.inviterByReferral.get(referral);
    if (inviterId === undefined) {
      throw new BcError('INVITE_INVALID', 'this invitation code cannot be used');
    }
    return {
      inviteId: null,
      inviterId,
      group: 'default',
      inviteeBonus: s.referral.invitee_amount,
      inviterReward: s.referral.inviter_amount,
      rewardOn: s.referral.reward_on,
    };
  }

  private mustGet(id: number): InviteRecord {
    const row = this.byIdStmt.get(id);
    if (row === undefined) throw new BcError('NOT_FOUND', `no invite with id ${id}: see \`bc invite list\``);
    return inviteFromRow(row);
  }
}

function limited(what: string, oldest: string | null, now: string): BcError {
  const free = oldest === null ? 0 : Date.parse(oldest) + 24 * 60 * 60 * 1000 - Date.parse(now);
  const retryAfterS = Math.max(1, Math.ceil(free / 1000));
  return new BcError('RATE_LIMITED', `${what}: try again in ${Math.ceil(retryAfterS / 60)} minutes`, {
    retryAfterS,
  });
}
