/**
 * Invitations in SQLite (SPEC section 11, TENANTS.md 5.5): admin invites (stored as the SHA-256 of
 * the code, shown once; `used` and `expired` derived), the invitations they and referral codes
 * made, each user's public referral code (drawn on first ask, again on a collision), the signup
 * transaction (invite-signup.ts) and the payout hook (invite-payout.ts) that UserTable runs inside
 * every paid credit.
 */
import { BcError } from '../../../shared/errors.js';
import { codePrefix, generateCode, hashCode } from '../../../shared/redeem-code.js';
import type { TenantSettings } from '../../../shared/tenant-api.js';
import type {
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
import { invitationFromRow, InvitePayout, type InvitationRow } from './invite-payout.js';
import { InviteSignup, randomReferralCode } from './invite-signup.js';
import type { UserTable } from './users.js';

export interface InviteRow {
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

export function inviteFromRow(r: InviteRow): InviteRecord {
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

const REFERRAL_ATTEMPTS = 10;

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
  private readonly referralOf;
  private readonly setReferral;
  private readonly invitations;
  private readonly newReferral: () => string;
  private readonly signups: InviteSignup;

  constructor(
    private readonly db: Db,
    users: UserTable,
    opts: InviteTableOptions,
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
    this.referralOf = db
      .prepare<[number], string | null>(
        "SELECT referral_code FROM users WHERE id = ? AND status != 'deleted'",
      )
      .pluck();
    this.setReferral = db.prepare<[string, number]>(
      'UPDATE users SET referral_code = ? WHERE id = ? AND referral_code IS NULL',
    );
    this.invitations = db.prepare<[], InvitationRow>('SELECT * FROM invitations ORDER BY id DESC');
    const payout = new InvitePayout(db, users, opts.settings);
    this.signups = new InviteSignup(db, users, opts.createKey, payout);
    this.newReferral = opts.referralCode ?? randomReferralCode;
    users.onPaidCredit((userId, amount, now) => payout.onPaidCredit(userId, amount, now));
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
    return this.db.transaction(() => this.signups.signupInTx(s))();
  }

  /** The whole signup inside the caller's transaction (invite-signup.ts). */
  signupInTx(s: SignupRequest): SignupResult {
    return this.signups.signupInTx(s);
  }

  private mustGet(id: number): InviteRecord {
    const row = this.byIdStmt.get(id);
    if (row === undefined) throw new BcError('NOT_FOUND', `no invite with id ${id}: see \`bc invite list\``);
    return inviteFromRow(row);
  }
}
