/**
 * The signup transaction (SPEC section 11, TENANTS.md 5.5), and the referral code's format. Inside
 * the caller's transaction, in this order: the signup limits (signups from the caller's address,
 * and from all addresses, in the last 24 hours); the code (a use of an admin invite, taken by the
 * same conditional UPDATE as a redemption code's, or under `invite+referral` a referral code's
 * enabled inviter); the user; their first key (scope account, `<user>/default`); the invitation
 * row, its amounts frozen from the invite or the referral settings; its payout when it pays at
 * signup. Any failure rolls back all of it, the invite's use included. Every reason a code cannot
 * be used gets the one answer INVITE_INVALID, so the signup route is no oracle for codes.
 */
import { randomBytes } from 'node:crypto';
import { BcError } from '../../../shared/errors.js';
import { keyDefaults } from '../../../shared/key-fields.js';
import { hashCode } from '../../../shared/redeem-code.js';
import type { TenantSettings } from '../../../shared/tenant-api.js';
import type { BalanceChange, KeyRecord, NewKey, SignupRequest, SignupResult } from '../types.js';
import type { Db } from './database.js';
import { dayBefore, invitationFromRow, type InvitationRow, type InvitePayout } from './invite-payout.js';
import type { UserTable } from './users.js';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const REFERRAL_LENGTH = 8;
const DAY_MS = 24 * 60 * 60 * 1000;
const REFERRAL_FORM = new RegExp(`^[${CROCKFORD}]{${REFERRAL_LENGTH}}$`);

/** 8 Crockford base32 characters (40 random bits): public, so plain text, but not guessable in bulk. */
export function randomReferralCode(): string {
  let out = '';
  for (const b of randomBytes(REFERRAL_LENGTH)) out += CROCKFORD[b & 31];
  return out;
}

/** What a person typed as a referral code: any case, dashes and spaces optional, O/I/L as 0/1/1. */
function canonicalReferral(input: string): string | null {
  const c = input.trim().toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  return REFERRAL_FORM.test(c) ? c : null;
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

interface ConsumedInvite {
  id: number;
  inviter_id: number | null;
  group: string | null;
  invitee_amount: number;
  inviter_amount: number;
}

interface Window {
  n: number;
  oldest: string | null;
}

export class InviteSignup {
  private readonly consume;
  private readonly inviterByReferral;
  private readonly signupsFrom;
  private readonly signupsSince;
  private readonly insertInvitation;
  private readonly invitationById;

  constructor(
    db: Db,
    private readonly users: UserTable,
    private readonly createKey: (k: NewKey) => KeyRecord,
    private readonly payout: InvitePayout,
  ) {
    // the rule is the WHERE, as for redemption codes: active, a use left, not expired
    this.consume = db.prepare<[Record<string, string>], ConsumedInvite>(
      `UPDATE invites SET uses = uses + 1
       WHERE hash = @hash AND status = 'active' AND uses < max_uses
         AND (expires_at IS NULL OR expires_at > @now)
       RETURNING id, inviter_id, "group", invitee_amount, inviter_amount`,
    );
    this.inviterByReferral = db
      .prepare<[string], number>("SELECT id FROM users WHERE referral_code = ? AND status = 'enabled'")
      .pluck();
    this.signupsFrom = db.prepare<[string, string], Window>(
      'SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM invitations WHERE signup_ip = ? AND created_at > ?',
    );
    this.signupsSince = db.prepare<[string], Window>(
      `SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM invitations
       WHERE signup_ip IS NOT NULL AND created_at > ?`,
    );
    this.insertInvitation = db.prepare<[Record<string, string | number | null>]>(
      `INSERT INTO invitations (invitee_id, inviter_id, invite_id, invitee_bonus, inviter_reward,
         reward_on, status, created_at, signup_ip)
       VALUES (@invitee_id, @inviter_id, @invite_id, @invitee_bonus, @inviter_reward,
         @reward_on, 'pending', @now, @signup_ip)`,
    );
    this.invitationById = db.prepare<[number], InvitationRow>('SELECT * FROM invitations WHERE id = ?');
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
    const key = this.createKey({
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
        fromIp,
        now,
      );
    }
    const all = this.signupsSince.get(since);
    if (all !== undefined && all.n >= s.signups_per_day) {
      throw limited(`too many signups on this gateway today (${s.signups_per_day} a day)`, all, now);
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
    if (inviterId === undefined) throw new BcError('INVITE_INVALID', 'this invitation code cannot be used');
    return {
      inviteId: null,
      inviterId,
      group: 'default',
      inviteeBonus: s.referral.invitee_amount,
      inviterReward: s.referral.inviter_amount,
      rewardOn: s.referral.reward_on,
    };
  }
}

/** RATE_LIMITED with Retry-After: when the oldest signup in the window leaves it. */
function limited(what: string, window: Window, now: string): BcError {
  const free = window.oldest === null ? 0 : Date.parse(window.oldest) + DAY_MS - Date.parse(now);
  const retryAfterS = Math.max(1, Math.ceil(free / 1000));
  return new BcError('RATE_LIMITED', `${what}: try again in ${Math.ceil(retryAfterS / 60)} minutes`, {
    retryAfterS,
  });
}
