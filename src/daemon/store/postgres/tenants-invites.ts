/**
 * Invitations in PostgreSQL (SPEC sections 9 and 11, TENANTS.md 5.5), the same records, errors and
 * messages as the SQLite table (sqlite/invites.ts and invite-signup.ts): admin invites (stored as
 * the SHA-256 of the code, shown once), the invitations they and referral codes made, each user's
 * public referral code, the signup transaction, and the payout (tenants-payout.ts) registered on
 * PgUserTable's paid credits.
 *
 * The signup transaction, in this order: the signup limits; the code (a use of an admin invite,
 * taken by a conditional `UPDATE ... WHERE uses < max_uses RETURNING`, or under `invite+referral`
 * a referral code's enabled inviter); the user; their first key (scope account, `<user>/default`);
 * the invitation row, amounts frozen; its payout when it pays at signup. Any failure rolls back
 * all of it, the invite's use included. Every reason a code cannot be used is INVITE_INVALID.
 *
 * The signup limits are counts of the last 24 hours' signups, per address and for the gateway.
 * SQLite has one writer, so the count and the insert cannot interleave; here two daemons could both
 * count below the limit. A signup that is limited (one from the gateway, with an address) therefore
 * first takes a transaction-scoped advisory lock, so such signups run one at a time across all
 * daemons and each count sees every committed signup before it. Signups are rare; the lock is
 * released at commit or rollback.
 *
 * Referral codes are drawn on first ask; a UNIQUE collision (a failed statement aborts a
 * PostgreSQL transaction) is caught inside a savepoint and drawn again.
 */
import { BcError } from '../../../shared/errors.js';
import { keyDefaults } from '../../../shared/key-fields.js';
import { codePrefix, generateCode, hashCode } from '../../../shared/redeem-code.js';
import type { TenantSettings } from '../../../shared/tenant-api.js';
import { parseTenantSettings, TENANT_SETTINGS_KEY } from '../../tenants/settings.js';
import { dayBefore, invitationFromRow, type InvitationRow } from '../sqlite/invite-payout.js';
import { randomReferralCode } from '../sqlite/invite-signup.js';
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
import { inviteFromRow, type InviteRow } from '../sqlite/invites.js';
import type { Sql, TxSql } from './connection.js';
import { PgInvitePayout } from './tenants-payout.js';
import {
  FOREIGN_KEY_VIOLATION,
  pgCode,
  UNIQUE_VIOLATION,
  type PgUserTable,
  type Q,
} from './tenants-users.js';

const REFERRAL_ATTEMPTS = 10;
const DAY_MS = 24 * 60 * 60 * 1000;
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const REFERRAL_FORM = new RegExp(`^[${CROCKFORD}]{8}$`);
/** pg_advisory_xact_lock key of limited signups: "BCLD" and 1 */
const SIGNUP_LOCK = 0x42434c44 * 0x10000 + 1;

/** What a person typed as a referral code, as sqlite/invite-signup.ts reads it. */
function canonicalReferral(input: string): string | null {
  const c = input.trim().toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  return REFERRAL_FORM.test(c) ? c : null;
}

/** The tenant settings as stored in bc_meta, read inside the transaction that acts on them. */
export async function readTenantSettings(q: Q): Promise<TenantSettings> {
  const [row] = await q<{ value: string }[]>`SELECT value FROM bc_meta WHERE key = ${TENANT_SETTINGS_KEY}`;
  return parseTenantSettings(row?.value ?? null);
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

interface Window {
  n: number;
  oldest: string | null;
}

export interface PgInviteTableOptions {
  /** the first key of a signup, inserted inside its transaction (the store's key table) */
  createKey: (tx: TxSql, k: NewKey) => Promise<KeyRecord>;
  /** the tenant settings inside the paid credit's transaction; default: bc_meta, read in it */
  settings?: (tx: TxSql) => Promise<TenantSettings>;
  /** referral codes; tests force collisions with it */
  referralCode?: () => string;
}

export class PgInviteTable {
  private readonly payout: PgInvitePayout;
  private readonly newReferral: () => string;
  private readonly createKey: (tx: TxSql, k: NewKey) => Promise<KeyRecord>;

  constructor(
    private readonly sql: Sql,
    private readonly users: PgUserTable,
    opts: PgInviteTableOptions,
  ) {
    this.payout = new PgInvitePayout(users, opts.settings ?? readTenantSettings);
    this.newReferral = opts.referralCode ?? randomReferralCode;
    this.createKey = opts.createKey;
    users.onPaidCredit((tx, userId, amount, now) => this.payout.onPaidCredit(tx, userId, amount, now));
  }

  /** A new invite; its code is returned here and never again. */
  async create(i: NewInvite): Promise<{ invite: InviteRecord; code: string }> {
    const code = generateCode('BCI');
    try {
      const [row] = await this.sql<InviteRow[]>`
        INSERT INTO invites (hash, prefix, name, inviter_id, "group", invitee_amount, inviter_amount,
          max_uses, expires_at, created_at)
        VALUES (${hashCode(code)}, ${codePrefix(code)}, ${i.name}, ${i.inviterId}, ${i.group},
          ${i.inviteeAmount}, ${i.inviterAmount}, ${i.maxUses}, ${i.expiresAt}, ${new Date().toISOString()})
        RETURNING *`;
      if (row === undefined) throw new BcError('INTERNAL', 'a new invite was not stored');
      return { invite: inviteFromRow(row), code };
    } catch (e) {
      if (pgCode(e) === FOREIGN_KEY_VIOLATION)
        throw new BcError('NOT_FOUND', `user ${String(i.inviterId)} not found`, { cause: e });
      throw e;
    }
  }

  async list(): Promise<InviteRecord[]> {
    const rows = await this.sql<InviteRow[]>`SELECT * FROM invites ORDER BY id`;
    return rows.map(inviteFromRow);
  }

  /** By id, by the whole code, or by the display prefix (`BCI-7KQ2X`, any case). */
  async get(ref: number | string): Promise<InviteRecord | undefined> {
    if (typeof ref === 'number' || /^\d+$/.test(ref)) return this.byId(Number(ref));
    const [whole] = await this.sql<InviteRow[]>`SELECT * FROM invites WHERE hash = ${hashCode(ref)}`;
    if (whole !== undefined) return inviteFromRow(whole);
    const prefix = ref.trim().toUpperCase();
    const rows = await this.sql<InviteRow[]>`SELECT * FROM invites WHERE prefix = ${prefix}`;
    if (rows.length > 1) {
      throw new BcError(
        'CONFLICT',
        `${rows.length} invites start with ${prefix}: name one by its id (\`bc invite list\`)`,
      );
    }
    return rows[0] === undefined ? undefined : inviteFromRow(rows[0]);
  }

  async revoke(id: number): Promise<InviteRecord> {
    await this.sql`UPDATE invites SET status = 'revoked' WHERE id = ${id}`;
    return this.mustGet(id);
  }

  /** Newest first. */
  async listInvitations(): Promise<InvitationRecord[]> {
    const rows = await this.sql<InvitationRow[]>`SELECT * FROM invitations ORDER BY id DESC`;
    return rows.map(invitationFromRow);
  }

  /**
   * The user's referral code, drawn on first ask. A UNIQUE collision draws again. Two first asks
   * at once: the second UPDATE waits for the first, finds the code set, matches nothing, and the
   * next read returns the first one's code.
   */
  referralCode(userId: number): Promise<string> {
    return this.sql.begin(async (tx) => {
      for (let attempt = 0; attempt < REFERRAL_ATTEMPTS; attempt++) {
        const [row] = await tx<{ referral_code: string | null }[]>`
          SELECT referral_code FROM users WHERE id = ${userId} AND status <> 'deleted'`;
        if (row === undefined) throw new BcError('NOT_FOUND', `user ${userId} not found`);
        if (row.referral_code !== null) return row.referral_code;
        const code = this.newReferral();
        try {
          await tx.savepoint(
            (sp) =>
              sp`UPDATE users SET referral_code = ${code} WHERE id = ${userId} AND referral_code IS NULL`,
          );
        } catch (e) {
          if (pgCode(e) !== UNIQUE_VIOLATION) throw e;
        }
      }
      throw new BcError('INTERNAL', `no free referral code after ${REFERRAL_ATTEMPTS} draws`);
    });
  }

  signup(s: SignupRequest): Promise<SignupResult> {
    return this.sql.begin((tx) => this.signupInTx(tx, s));
  }

  /** The whole signup inside the caller's transaction (see the header). */
  async signupInTx(tx: TxSql, s: SignupRequest): Promise<SignupResult> {
    const now = s.now ?? new Date().toISOString();
    if (s.settings.signup === 'off') {
      throw new BcError('SIGNUP_CLOSED', 'signup is closed on this gateway: ask its operator for an account');
    }
    if (s.ip !== null) {
      await tx`SELECT pg_advisory_xact_lock(${SIGNUP_LOCK}::bigint)`;
      await this.checkLimits(tx, s.ip, s.settings, now);
    }
    const terms = await this.terms(tx, s.code, s.settings, now);
    const { user } = await this.users.createInTx(
      tx,
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
    const key = await this.createKey(tx, {
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
    const [inserted] = await tx<{ id: number }[]>`
      INSERT INTO invitations (invitee_id, inviter_id, invite_id, invitee_bonus, inviter_reward,
        reward_on, status, created_at, signup_ip)
      VALUES (${user.id}, ${terms.inviterId}, ${terms.inviteId}, ${terms.inviteeBonus},
        ${terms.inviterReward}, ${terms.rewardOn}, 'pending', ${now}, ${s.ip})
      RETURNING id`;
    if (inserted === undefined)
      throw new BcError('INTERNAL', `the invitation of "${user.name}" was not stored`);
    const changes: BalanceChange[] =
      terms.rewardOn === 'signup' ? await this.payout.payAtSignup(tx, inserted.id, s.settings, now) : [];
    const [invitation] = await tx<InvitationRow[]>`SELECT * FROM invitations WHERE id = ${inserted.id}`;
    if (invitation === undefined) throw new BcError('INTERNAL', `invitation ${inserted.id} vanished`);
    return {
      user: await this.users.mustGet(user.id, tx),
      key,
      invitation: invitationFromRow(invitation),
      changes,
    };
  }

  /**
   * Signups from one address, and from all addresses, in the last 24 hours. Only signups with an
   * address count (the gateway's); the admin's `bc user create --invite` has none and is not limited.
   */
  private async checkLimits(tx: TxSql, ip: string, s: TenantSettings, now: string): Promise<void> {
    const since = dayBefore(now);
    const [fromIp] = await tx<Window[]>`
      SELECT count(*)::bigint AS n, min(created_at) AS oldest FROM invitations
      WHERE signup_ip = ${ip} AND created_at > ${since}`;
    if (fromIp !== undefined && fromIp.n >= s.signups_per_ip_per_day) {
      throw limited(
        `too many signups from this address today (${s.signups_per_ip_per_day} a day)`,
        fromIp,
        now,
      );
    }
    const [all] = await tx<Window[]>`
      SELECT count(*)::bigint AS n, min(created_at) AS oldest FROM invitations
      WHERE signup_ip IS NOT NULL AND created_at > ${since}`;
    if (all !== undefined && all.n >= s.signups_per_day) {
      throw limited(`too many signups on this gateway today (${s.signups_per_day} a day)`, all, now);
    }
  }

  /** Takes a use of an admin invite, else (invite+referral) finds a referral code's inviter. */
  private async terms(tx: TxSql, code: string, s: TenantSettings, now: string): Promise<SignupTerms> {
    // the rule is the WHERE, as for redemption codes: active, a use left, not expired
    const [invite] = await tx<
      Pick<InviteRow, 'id' | 'inviter_id' | 'group' | 'invitee_amount' | 'inviter_amount'>[]
    >`
      UPDATE invites SET uses = uses + 1
      WHERE hash = ${hashCode(code)} AND status = 'active' AND uses < max_uses
        AND (expires_at IS NULL OR expires_at > ${now})
      RETURNING id, inviter_id, "group", invitee_amount, inviter_amount`;
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
    const [inviter] =
      referral === null
        ? []
        : await tx<{ id: number }[]>`
            SELECT id FROM users WHERE referral_code = ${referral} AND status = 'enabled'`;
    if (inviter === undefined) throw new BcError('INVITE_INVALID', 'this invitation code cannot be used');
    return {
      inviteId: null,
      inviterId: inviter.id,
      group: 'default',
      inviteeBonus: s.referral.invitee_amount,
      inviterReward: s.referral.inviter_amount,
      rewardOn: s.referral.reward_on,
    };
  }

  private async byId(id: number): Promise<InviteRecord | undefined> {
    const [row] = await this.sql<InviteRow[]>`SELECT * FROM invites WHERE id = ${id}`;
    return row === undefined ? undefined : inviteFromRow(row);
  }

  private async mustGet(id: number): Promise<InviteRecord> {
    const i = await this.byId(id);
    if (i === undefined) throw new BcError('NOT_FOUND', `no invite with id ${id}: see \`bc invite list\``);
    return i;
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
