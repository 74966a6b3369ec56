/**
 * The invitation payout in PostgreSQL (SPEC section 11, TENANTS.md 5.5), the same steps as the
 * SQLite one (sqlite/invite-payout.ts), run inside the transaction that caused it: the signup (an
 * invitation that pays at signup) or the invitee's paid credit (PgUserTable runs `onPaidCredit`
 * with the credit's transaction).
 *
 * 1. `pending -> rewarded` by a conditional UPDATE, only for a pending invitation and (first_credit)
 *    a credit of at least `referral.min_credit`: one payout per invitation.
 * 2. The invitee gets the frozen `invitee_bonus` (an `invite_bonus` ledger row).
 * 3. The inviter gets the frozen `inviter_reward` only if fewer than `inviter_daily_max` of their
 *    invitations were rewarded in the last 24 hours and the counter `referral_rewards <
 *    inviter_max` could still be raised (a conditional UPDATE); otherwise the invitation is
 *    `capped`. A gone or unmetered inviter gets nothing: `void`.
 * 4. Later paid credits of a rewarded invitee pay `rebate_percent` to the inviter until
 *    `rebate_cap` per invitation, by a compare-and-set on `rebate_paid`.
 *
 * Why the caps are exact with N daemons. SQLite runs one writer at a time; PostgreSQL runs the
 * paid credits of different invitees side by side. The inviter cap is a conditional UPDATE of one
 * counter, which READ COMMITTED re-evaluates after the row lock, so it is exact by itself. The
 * daily cap is a COUNT of rewarded invitations, and two transactions could both count below the cap
 * before either commits. So the inviter's users row is locked (`SELECT ... FOR NO KEY UPDATE`) before
 * counting: the second payout for that inviter waits until the first commits, and its COUNT (a new
 * statement, so a new snapshot under READ COMMITTED) sees the first one's reward. Steps 1 and 4
 * need no lock of their own: the credit that calls the hook has already updated the invitee's row,
 * whose lock serializes two paid credits of the same invitee until commit.
 *
 * The lock is NO KEY UPDATE, the one an UPDATE of the row takes, not FOR UPDATE: the invitee's
 * second update of their own row in one transaction (the bonus after the credit) re-checks the
 * `invited_by` foreign key, which takes KEY SHARE on the inviter's row; FOR UPDATE conflicts with
 * KEY SHARE, so two invitees' transactions would each hold one and wait for the other (a deadlock
 * seen in the tests), while NO KEY UPDATE conflicts only with itself and stronger.
 *
 * Locks are taken invitee first, inviter second; an inviter always existed before their invitees,
 * so no chain of invitations closes a cycle and the order cannot deadlock.
 *
 * The credits go through PgUserTable.creditInTx as unpaid credits, so a payout never triggers
 * another payout.
 */
import type { TenantSettings } from '../../../shared/tenant-api.js';
import { dayBefore, type InvitationRow } from '../sqlite/invite-payout.js';
import type { BalanceChange } from '../types.js';
import type { TxSql } from './connection.js';
import type { PgUserTable, UserRow } from './tenants-users.js';

export class PgInvitePayout {
  constructor(
    private readonly users: PgUserTable,
    private readonly settings: (tx: TxSql) => Promise<TenantSettings>,
  ) {}

  /** PgUserTable's paid-credit hook: the first qualifying credit pays the invitation, later ones a rebate. */
  async onPaidCredit(tx: TxSql, userId: number, amount: number, now: string): Promise<BalanceChange[]> {
    const s = await this.settings(tx);
    // the rule is the WHERE: still pending, pays on a first credit, and the credit is large enough
    const [claimed] = await tx<InvitationRow[]>`
      UPDATE invitations SET status = 'rewarded', rewarded_at = ${now}
      WHERE invitee_id = ${userId} AND status = 'pending' AND reward_on = 'first_credit'
        AND ${amount}::bigint >= ${s.referral.min_credit}::bigint
      RETURNING *`;
    if (claimed !== undefined) return this.pay(tx, claimed, s, now);
    return this.rebate(tx, userId, amount, s, now);
  }

  /** At signup, for an invitation that pays then; the row was just inserted as pending. */
  async payAtSignup(
    tx: TxSql,
    invitationId: number,
    settings: TenantSettings,
    now: string,
  ): Promise<BalanceChange[]> {
    const [claimed] = await tx<InvitationRow[]>`
      UPDATE invitations SET status = 'rewarded', rewarded_at = ${now}
      WHERE id = ${invitationId} AND status = 'pending' RETURNING *`;
    return claimed === undefined ? [] : this.pay(tx, claimed, settings, now);
  }

  private async setStatus(tx: TxSql, id: number, status: 'void' | 'capped'): Promise<void> {
    await tx`UPDATE invitations SET status = ${status} WHERE id = ${id}`;
  }

  private async pay(tx: TxSql, inv: InvitationRow, s: TenantSettings, now: string): Promise<BalanceChange[]> {
    const changes: BalanceChange[] = [];
    const ref = `invitation:${inv.id}`;
    const invitee = await this.users.byId(inv.invitee_id, tx);
    if (inv.invitee_bonus > 0 && invitee !== undefined && invitee.balance !== null) {
      const r = await this.users.creditInTx(tx, {
        userId: inv.invitee_id,
        kind: 'invite_bonus',
        amount: inv.invitee_bonus,
        ref,
        actor: 'system',
        note: inv.invite_id === null ? 'referral bonus' : 'invitation',
        now,
      });
      changes.push(...r.changes);
    }
    if (inv.inviter_id === null || inv.inviter_reward === 0) return changes;
    // the daily cap's lock (see the header): held until commit, taken before counting
    const [inviter] = await tx<Pick<UserRow, 'id' | 'status' | 'balance'>[]>`
      SELECT id, status, balance FROM users WHERE id = ${inv.inviter_id} FOR NO KEY UPDATE`;
    if (inviter === undefined || inviter.status === 'deleted' || inviter.balance === null) {
      // nobody to credit: a deleted inviter, or an unmetered one (no balance a reward could go to)
      await this.setStatus(tx, inv.id, 'void');
      return changes;
    }
    const [today] = await tx<{ n: number }[]>`
      SELECT count(*)::bigint AS n FROM invitations
      WHERE inviter_id = ${inviter.id} AND status = 'rewarded' AND inviter_reward > 0
        AND rewarded_at > ${dayBefore(now)} AND id <> ${inv.id}`;
    if ((today?.n ?? 0) >= s.referral.inviter_daily_max) {
      await this.setStatus(tx, inv.id, 'capped');
      return changes;
    }
    // the inviter cap: the counter moves only while below it
    const counted = await tx`
      UPDATE users SET referral_rewards = referral_rewards + 1
      WHERE id = ${inviter.id} AND referral_rewards < ${s.referral.inviter_max}`;
    if (counted.count !== 1) {
      await this.setStatus(tx, inv.id, 'capped');
      return changes;
    }
    const r = await this.users.creditInTx(tx, {
      userId: inviter.id,
      kind: 'invite_reward',
      amount: inv.inviter_reward,
      ref,
      actor: 'system',
      note: `invited ${invitee?.name ?? `user ${inv.invitee_id}`}`,
      now,
    });
    changes.push(...r.changes);
    return changes;
  }

  private async rebate(
    tx: TxSql,
    userId: number,
    amount: number,
    s: TenantSettings,
    now: string,
  ): Promise<BalanceChange[]> {
    const { rebate_percent: percent, rebate_cap: cap } = s.referral;
    if (percent <= 0 || cap <= 0) return [];
    const [inv] = await tx<InvitationRow[]>`
      SELECT * FROM invitations
      WHERE invitee_id = ${userId} AND status = 'rewarded' AND inviter_id IS NOT NULL`;
    if (inv === undefined || inv.inviter_id === null) return [];
    const want = Number((BigInt(amount) * BigInt(percent)) / 100n);
    const delta = Math.min(want, cap - inv.rebate_paid);
    if (delta <= 0) return [];
    const inviter = await this.users.byId(inv.inviter_id, tx);
    if (inviter === undefined || inviter.status === 'deleted' || inviter.balance === null) return [];
    const moved = await tx`
      UPDATE invitations SET rebate_paid = rebate_paid + ${delta}
      WHERE id = ${inv.id} AND status = 'rewarded' AND rebate_paid = ${inv.rebate_paid}`;
    if (moved.count !== 1) return [];
    const invitee = await this.users.byId(userId, tx);
    const r = await this.users.creditInTx(tx, {
      userId: inviter.id,
      kind: 'rebate',
      amount: delta,
      ref: `invitation:${inv.id}`,
      actor: 'system',
      note: `${percent}% of ${invitee?.name ?? `user ${userId}`}'s credit`,
      now,
    });
    return r.changes;
  }
}
