/**
 * The invitation payout (SPEC section 11, TENANTS.md 5.5), run inside the transaction that caused
 * it: the signup itself (an invitation that pays at signup) or the invitee's paid credit (a
 * top-up, or a code that is not a promotion; UserTable calls `onPaidCredit`). Every step is a
 * conditional UPDATE whose WHERE is the rule, so each invitation pays out once and the inviter's
 * caps hold however many invitees pay at the same moment:
 *
 * 1. `pending -> rewarded` only for a pending invitation, and (first_credit) only for a credit of at
 *    least `referral.min_credit`: one payout per invitation.
 * 2. The invitee gets the frozen `invitee_bonus` (an `invite_bonus` ledger row).
 * 3. The inviter gets the frozen `inviter_reward` (`invite_reward`) only if fewer than
 *    `inviter_daily_max` of their invitations were rewarded in the last 24 hours and the counter
 *    `referral_rewards < inviter_max` could still be raised; otherwise the invitation is `capped`.
 *    An inviter who is gone or unmetered (no balance to credit) gets nothing: `void`.
 * 4. Later paid credits of a rewarded invitee pay `rebate_percent` of the credit to the inviter
 *    (`rebate` rows) until `rebate_cap` per invitation (`invitations.rebate_paid`, moved by a
 *    compare-and-set on its old value).
 *
 * The credits go through UserTable.creditInTx as unpaid credits, so a payout never triggers
 * another payout.
 */
import type { TenantSettings } from '../../../shared/tenant-api.js';
import type { BalanceChange, InvitationRecord } from '../types.js';
import type { Db } from './database.js';
import type { UserTable } from './users.js';

export interface InvitationRow {
  id: number;
  invitee_id: number;
  inviter_id: number | null;
  invite_id: number | null;
  invitee_bonus: number;
  inviter_reward: number;
  reward_on: string;
  status: string;
  rebate_paid: number;
  created_at: string;
  rewarded_at: string | null;
  signup_ip: string | null;
}

export function invitationFromRow(r: InvitationRow): InvitationRecord {
  return {
    id: r.id,
    inviteeId: r.invitee_id,
    inviterId: r.inviter_id,
    inviteId: r.invite_id,
    inviteeBonus: r.invitee_bonus,
    inviterReward: r.inviter_reward,
    rewardOn: r.reward_on as InvitationRecord['rewardOn'],
    status: r.status as InvitationRecord['status'],
    rebatePaid: r.rebate_paid,
    createdAt: r.created_at,
    rewardedAt: r.rewarded_at,
    signupIp: r.signup_ip,
  };
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** The start of the rolling 24 hours that end at `now` (the daily caps' window). */
export function dayBefore(now: string): string {
  return new Date(Date.parse(now) - DAY_MS).toISOString();
}

export class InvitePayout {
  private readonly claimFirstCredit;
  private readonly claimSignup;
  private readonly setStatus;
  private readonly rewardedToday;
  private readonly countReward;
  private readonly rewardedOf;
  private readonly addRebate;

  constructor(
    db: Db,
    private readonly users: UserTable,
    private readonly settings: () => TenantSettings,
  ) {
    // the rule is the WHERE: still pending, pays on a first credit, and the credit is large enough
    this.claimFirstCredit = db.prepare<[Record<string, string | number>], InvitationRow>(
      `UPDATE invitations SET status = 'rewarded', rewarded_at = @now
       WHERE invitee_id = @invitee AND status = 'pending' AND reward_on = 'first_credit'
         AND @amount >= @min
       RETURNING *`,
    );
    this.claimSignup = db.prepare<[Record<string, string | number>], InvitationRow>(
      `UPDATE invitations SET status = 'rewarded', rewarded_at = @now
       WHERE id = @id AND status = 'pending' RETURNING *`,
    );
    this.setStatus = db.prepare<[string, number]>('UPDATE invitations SET status = ? WHERE id = ?');
    this.rewardedToday = db
      .prepare<[number, string, number], number>(
        `SELECT COUNT(*) FROM invitations
         WHERE inviter_id = ? AND status = 'rewarded' AND inviter_reward > 0 AND rewarded_at > ?
           AND id != ?`,
      )
      .pluck();
    // the inviter cap: the counter moves only while below it
    this.countReward = db.prepare<[Record<string, number>]>(
      `UPDATE users SET referral_rewards = referral_rewards + 1
       WHERE id = @inviter AND referral_rewards < @inviter_max`,
    );
    this.rewardedOf = db.prepare<[number], InvitationRow>(
      `SELECT * FROM invitations
       WHERE invitee_id = ? AND status = 'rewarded' AND inviter_id IS NOT NULL`,
    );
    this.addRebate = db.prepare<[Record<string, number>]>(
      `UPDATE invitations SET rebate_paid = rebate_paid + @delta
       WHERE id = @id AND status = 'rewarded' AND rebate_paid = @before`,
    );
  }

  /** UserTable's paid-credit hook: the first qualifying credit pays the invitation, later ones a rebate. */
  onPaidCredit(userId: number, amount: number, now: string): BalanceChange[] {
    const s = this.settings();
    const claimed = this.claimFirstCredit.get({ invitee: userId, now, amount, min: s.referral.min_credit });
    if (claimed !== undefined) return this.pay(claimed, s, now);
    return this.rebate(userId, amount, s, now);
  }

  /** At signup, for an invitation that pays then; the row was just inserted as pending. */
  payAtSignup(invitationId: number, settings: TenantSettings, now: string): BalanceChange[] {
    const claimed = this.claimSignup.get({ id: invitationId, now });
    return claimed === undefined ? [] : this.pay(claimed, settings, now);
  }

  private pay(inv: InvitationRow, s: TenantSettings, now: string): BalanceChange[] {
    const changes: BalanceChange[] = [];
    const ref = `invitation:${inv.id}`;
    const invitee = this.users.byId(inv.invitee_id);
    if (inv.invitee_bonus > 0 && invitee !== undefined && invitee.balance !== null) {
      changes.push(
        ...this.users.creditInTx({
          userId: inv.invitee_id,
          kind: 'invite_bonus',
          amount: inv.invitee_bonus,
          ref,
          actor: 'system',
          note: inv.invite_id === null ? 'referral bonus' : 'invitation',
          now,
        }).changes,
      );
    }
    if (inv.inviter_id === null || inv.inviter_reward === 0) return changes;
    const inviter = this.users.byId(inv.inviter_id);
    if (inviter === undefined || inviter.status === 'deleted' || inviter.balance === null) {
      // nobody to credit: a deleted inviter, or an unmetered one (no balance a reward could go to)
      this.setStatus.run('void', inv.id);
      return changes;
    }
    const today = this.rewardedToday.get(inviter.id, dayBefore(now), inv.id) ?? 0;
    if (
      today >= s.referral.inviter_daily_max ||
      this.countReward.run({ inviter: inviter.id, inviter_max: s.referral.inviter_max }).changes !== 1
    ) {
      this.setStatus.run('capped', inv.id);
      return changes;
    }
    changes.push(
      ...this.users.creditInTx({
        userId: inviter.id,
        kind: 'invite_reward',
        amount: inv.inviter_reward,
        ref,
        actor: 'system',
        note: `invited ${invitee?.name ?? `user ${inv.invitee_id}`}`,
        now,
      }).changes,
    );
    return changes;
  }

  private rebate(userId: number, amount: number, s: TenantSettings, now: string): BalanceChange[] {
    const { rebate_percent: percent, rebate_cap: cap } = s.referral;
    if (percent <= 0 || cap <= 0) return [];
    const inv = this.rewardedOf.get(userId);
    if (inv === undefined || inv.inviter_id === null) return [];
    const want = Number((BigInt(amount) * BigInt(percent)) / 100n);
    const delta = Math.min(want, cap - inv.rebate_paid);
    if (delta <= 0) return [];
    const inviter = this.users.byId(inv.inviter_id);
    if (inviter === undefined || inviter.status === 'deleted' || inviter.balance === null) return [];
    if (this.addRebate.run({ id: inv.id, delta, before: inv.rebate_paid }).changes !== 1) return [];
    const invitee = this.users.byId(userId);
    return this.users.creditInTx({
      userId: inviter.id,
      kind: 'rebate',
      amount: delta,
      ref: `invitation:${inv.id}`,
      actor: 'system',
      note: `${percent}% of ${invitee?.name ?? `user ${userId}`}'s credit`,
      now,
    }).changes;
  }
}
