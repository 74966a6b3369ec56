/**
 * Redemption codes in SQLite (SPEC section 11, TENANTS.md 5.4). A code is money to whoever holds
 * it, so only `sha256(canonical code)` and a display prefix are stored: the codes themselves are
 * returned once, by `create`, and never again.
 *
 * A redemption is one synchronous better-sqlite3 transaction with no read-then-write: one
 * conditional `UPDATE ... WHERE uses < max_uses ... RETURNING` takes a use only if every rule holds
 * (active, not used up, not expired, not bound to someone else), the `redemptions` row (UNIQUE per
 * code and user) records who took it, and the user's credit and its ledger row (UserTable.creditInTx)
 * commit with it. Only when the UPDATE matched nothing is the code read, to say why; a user who
 * already redeemed the code gets the first result again (`replayed`), with nothing credited.
 */
import { BcError } from '../../../shared/errors.js';
import { canonicalCode, codePrefix, generateCode, hashCode } from '../../../shared/redeem-code.js';
import type {
  BalanceChange,
  NewRedeemCodes,
  RedeemCodeQuery,
  RedeemCodeRecord,
  RedeemRequest,
  RedeemResult,
  RedemptionRecord,
} from '../types.js';
import type { Db } from './database.js';
import type { UserTable } from './users.js';

/** Codes one `create` may make (one transaction). */
export const MAX_CODES_PER_CREATE = 10_000;

/** Why a code could not be redeemed: the admin is told; a tenant gets one answer for all. */
export type RedeemFailureReason = 'unknown' | 'revoked' | 'other_user' | 'used' | 'expired';

/** REDEEM_INVALID with the exact reason as a field, so a tenant route can answer generically. */
export class RedeemInvalidError extends BcError {
  readonly reason: RedeemFailureReason;
  constructor(reason: RedeemFailureReason, message: string) {
    super('REDEEM_INVALID', message);
    this.name = 'RedeemInvalidError';
    this.reason = reason;
  }
}

export type RedeemCodeStatus = 'active' | 'used' | 'expired' | 'revoked';

/** The status shown: `used` and `expired` are derived from the stored row, as of `now`. */
export function redeemStatus(c: RedeemCodeRecord, now: string = new Date().toISOString()): RedeemCodeStatus {
  if (c.status === 'revoked') return 'revoked';
  if (c.uses >= c.maxUses) return 'used';
  if (c.expiresAt !== null && c.expiresAt <= now) return 'expired';
  return 'active';
}

export interface CodeRow {
  id: number;
  hash: string;
  prefix: string;
  batch: string | null;
  amount: number;
  max_uses: number;
  uses: number;
  user_id: number | null;
  promo: number;
  status: string;
  expires_at: string | null;
  created_at: string;
}

export interface RedemptionRow {
  id: number;
  code_id: number;
  user_id: number;
  amount: number;
  time: string;
  ip: string | null;
}

export function codeFromRow(r: CodeRow): RedeemCodeRecord {
  return {
    id: r.id,
    prefix: r.prefix,
    batch: r.batch,
    amount: r.amount,
    maxUses: r.max_uses,
    uses: r.uses,
    userId: r.user_id,
    promo: r.promo === 1,
    status: r.status === 'revoked' ? 'revoked' : 'active',
    expiresAt: r.expires_at,
    createdAt: r.created_at,
  };
}

export function redemptionFromRow(r: RedemptionRow): RedemptionRecord {
  return { id: r.id, codeId: r.code_id, userId: r.user_id, amount: r.amount, time: r.time, ip: r.ip };
}

/** The derived statuses as SQL over `redeem_codes`, with `@now` bound. */
const STATUS_SQL: Record<RedeemCodeStatus, string> = {
  active: "status = 'active' AND uses < max_uses AND (expires_at IS NULL OR expires_at > @now)",
  used: "status = 'active' AND uses >= max_uses",
  expired: "status = 'active' AND uses < max_uses AND expires_at IS NOT NULL AND expires_at <= @now",
  revoked: "status = 'revoked'",
};

/** Thrown inside the transaction to roll back a use taken by a user who had redeemed already. */
class Replay extends Error {
  constructor(readonly codeId: number) {
    super('replayed redemption');
  }
}

export class RedeemCodeTable {
  private readonly insert;
  private readonly byIdStmt;
  private readonly byHashStmt;
  private readonly byPrefixStmt;
  private readonly takeUse;
  private readonly insertRedemption;
  private readonly redemptionOf;
  private readonly redemptionsOf;
  private readonly lastRedemption;
  private readonly userState;
  private readonly userName;
  private readonly firstBalance;
  private readonly revokeStmt;
  private readonly batchCount;
  private readonly revokeBatchStmt;

  constructor(
    private readonly db: Db,
    private readonly users: UserTable,
  ) {
    this.insert = db.prepare<[Record<string, string | number | null>], CodeRow>(
      `INSERT INTO redeem_codes (hash, prefix, batch, amount, max_uses, user_id, promo, expires_at, created_at)
       VALUES (@hash, @prefix, @batch, @amount, @max_uses, @user_id, @promo, @expires_at, @now)
       RETURNING *`,
    );
    this.byIdStmt = db.prepare<[number], CodeRow>('SELECT * FROM redeem_codes WHERE id = ?');
    this.byHashStmt = db.prepare<[string], CodeRow>('SELECT * FROM redeem_codes WHERE hash = ?');
    this.byPrefixStmt = db.prepare<[string], CodeRow>(
      'SELECT * FROM redeem_codes WHERE prefix = ? ORDER BY id',
    );
    // the rule is the WHERE: a use is taken only if every condition holds at this moment
    this.takeUse = db.prepare<
      [{ hash: string; now: string; uid: number }],
      Pick<CodeRow, 'id' | 'amount' | 'promo' | 'prefix'>
    >(
      `UPDATE redeem_codes SET uses = uses + 1
       WHERE hash = @hash AND status = 'active' AND uses < max_uses
         AND (expires_at IS NULL OR expires_at > @now)
         AND (user_id IS NULL OR user_id = @uid)
       RETURNING id, amount, promo, prefix`,
    );
    this.insertRedemption = db.prepare<[Record<string, string | number | null>], { id: number }>(
      `INSERT INTO redemptions (code_id, user_id, amount, time, ip) VALUES (@code_id, @user_id, @amount, @now, @ip)
       ON CONFLICT (code_id, user_id) DO NOTHING RETURNING id`,
    );
    this.redemptionOf = db.prepare<[number, number], RedemptionRow>(
      'SELECT * FROM redemptions WHERE code_id = ? AND user_id = ?',
    );
    this.redemptionsOf = db.prepare<[number], RedemptionRow>(
      'SELECT * FROM redemptions WHERE code_id = ? ORDER BY id',
    );
    this.lastRedemption = db.prepare<[number], RedemptionRow>(
      'SELECT * FROM redemptions WHERE code_id = ? ORDER BY id DESC LIMIT 1',
    );
    this.userState = db.prepare<[number], { name: string; status: string; balance: number | null }>(
      'SELECT name, status, balance FROM users WHERE id = ?',
    );
    this.userName = db.prepare<[number], string>('SELECT name FROM users WHERE id = ?').pluck();
    this.firstBalance = db
      .prepare<[number, string], number | null>(
        "SELECT balance_after FROM user_ledger WHERE user_id = ? AND kind = 'redeem' AND ref = ? ORDER BY id LIMIT 1",
      )
      .pluck();
    this.revokeStmt = db.prepare<[number], CodeRow>(
      "UPDATE redeem_codes SET status = 'revoked' WHERE id = ? RETURNING *",
    );
    this.batchCount = db
      .prepare<[string], number>('SELECT count(*) FROM redeem_codes WHERE batch = ?')
      .pluck();
    this.revokeBatchStmt = db.prepare<[string]>(
      "UPDATE redeem_codes SET status = 'revoked' WHERE batch = ? AND status = 'active' AND uses < max_uses",
    );
  }

  /** `count` new codes in one transaction; the plain codes are in the answer and nowhere else. */
  create(
    c: NewRedeemCodes,
    now: string = new Date().toISOString(),
  ): { record: RedeemCodeRecord; code: string }[] {
    if (!Number.isSafeInteger(c.count) || c.count < 1 || c.count > MAX_CODES_PER_CREATE)
      throw new BcError('INVALID_REQUEST', `count must be between 1 and ${MAX_CODES_PER_CREATE}`, {
        param: 'count',
      });
    if (!Number.isSafeInteger(c.amount) || c.amount <= 0)
      throw new BcError('INVALID_REQUEST', 'amount must be a positive integer number of micro-USD', {
        param: 'amount',
      });
    if (!Number.isSafeInteger(c.maxUses) || c.maxUses < 1)
      throw new BcError('INVALID_REQUEST', 'uses must be a positive integer', { param: 'uses' });
    return this.db.transaction(() => {
      if (c.userId !== null) this.users.mustGet(c.userId);
      const out: { record: RedeemCodeRecord; code: string }[] = [];
      for (let i = 0; i < c.count; i++) {
        const code = generateCode('BCR');
        const row = this.insert.get({
          hash: hashCode(code),
          prefix: codePrefix(code),
          batch: c.batch,
          amount: c.amount,
          max_uses: c.maxUses,
          user_id: c.userId,
          promo: c.promo ? 1 : 0,
          expires_at: c.expiresAt,
          now,
        });
        if (row === undefined) throw new BcError('INTERNAL', 'a new redemption code was not stored');
        out.push({ record: codeFromRow(row), code });
      }
      return out;
    })();
  }

  list(q: RedeemCodeQuery, now: string = new Date().toISOString()): RedeemCodeRecord[] {
    const where: string[] = [];
    const params: Record<string, string | number> = {};
    if (q.batch !== undefined) {
      where.push('batch = @batch');
      params.batch = q.batch;
    }
    if (q.userId !== undefined) {
      where.push('user_id = @user_id');
      params.user_id = q.userId;
    }
    if (q.status !== undefined) {
      where.push(STATUS_SQL[q.status]);
      params.now = now;
    }
    const sql = `SELECT * FROM redeem_codes${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id`;
    return this.db.prepare<[Record<string, string | number>], CodeRow>(sql).all(params).map(codeFromRow);
  }

  byId(id: number): RedeemCodeRecord | undefined {
    const row = this.byIdStmt.get(id);
    return row === undefined ? undefined : codeFromRow(row);
  }

  /**
   * By id (digits), by the whole code (its hash), or by display prefix (`BCR-7KQ2X`; any case).
   * Prefixes are short, so two codes can share one: then CONFLICT, naming their ids.
   */
  get(ref: number | string): RedeemCodeRecord | undefined {
    if (typeof ref === 'number') return this.byId(ref);
    const s = ref.trim();
    if (/^\d+$/.test(s)) return this.byId(Number(s));
    const canonical = canonicalCode(s);
    if (/^BCR[0-9A-Z]{20}$/.test(canonical) || /^[0-9a-f]{32}$/.test(canonical)) {
      const row = this.byHashStmt.get(hashCode(s));
      return row === undefined ? undefined : codeFromRow(row);
    }
    const m = /^bcr-?([0-9a-z]{5})$/i.exec(s);
    const prefix = m ? `BCR-${canonicalCode(m[1] ?? '')}` : s.toLowerCase();
    const rows = this.byPrefixStmt.all(prefix);
    if (rows.length > 1) {
      throw new BcError(
        'CONFLICT',
        `${rows.length} codes share the prefix ${prefix} (ids ${rows.map((r) => r.id).join(', ')}): name one by its id`,
      );
    }
    const row = rows[0];
    return row === undefined ? undefined : codeFromRow(row);
  }

  redemptions(codeId: number): RedemptionRecord[] {
    return this.redemptionsOf.all(codeId).map(redemptionFromRow);
  }

  /** Revoking a revoked code changes nothing; a used one shows as revoked from then on. */
  revoke(id: number): RedeemCodeRecord {
    const row = this.revokeStmt.get(id);
    if (row === undefined)
      throw new BcError('NOT_FOUND', `no redemption code with id ${id}: see \`bc redeem list\``);
    return codeFromRow(row);
  }

  /** Revokes the batch's codes that could still be redeemed; returns how many. */
  revokeBatch(batch: string): number {
    return this.db.transaction(() => {
      if (this.batchCount.get(batch) === 0)
        throw new BcError('NOT_FOUND', `no redemption code is in batch "${batch}": see \`bc redeem list\``);
      return this.revokeBatchStmt.run(batch).changes;
    })();
  }

  /** TENANTS.md 5.4 "Redeem": one transaction; see the file's header. */
  redeem(r: RedeemRequest, now: string = new Date().toISOString()): RedeemResult {
    const hash = hashCode(r.code);
    try {
      return this.db.transaction(() => this.redeemInTx(hash, r, now))();
    } catch (e) {
      // a second use of a multi-use code by the same user: the use it took was rolled back
      if (e instanceof Replay) return this.replayed(e.codeId, r.userId);
      throw e;
    }
  }

  private redeemInTx(hash: string, r: RedeemRequest, now: string): RedeemResult {
    // the user first, so a disabled or unmetered user learns nothing about the code
    const user = this.userState.get(r.userId);
    if (user === undefined || user.status === 'deleted')
      throw new BcError('NOT_FOUND', `user ${r.userId} not found`);
    if (user.status !== 'enabled')
      throw new BcError(
        'USER_DISABLED',
        `user "${user.name}" is disabled: enable them with \`bc user enable ${user.name}\``,
      );
    if (user.balance === null) {
      throw new BcError(
        'USER_UNMETERED',
        `user "${user.name}" is unmetered (no balance to credit a code to): make them metered with \`bc user edit ${user.name} --metered\``,
      );
    }
    const taken = this.takeUse.get({ hash, now, uid: r.userId });
    if (taken === undefined) {
      const code = this.byHashStmt.get(hash);
      if (code !== undefined && this.redemptionOf.get(code.id, r.userId) !== undefined)
        return this.replayed(code.id, r.userId);
      throw this.whyNot(code, r, now);
    }
    const inserted = this.insertRedemption.get({
      code_id: taken.id,
      user_id: r.userId,
      amount: taken.amount,
      ip: r.ip,
      now,
    });
    if (inserted === undefined) throw new Replay(taken.id);
    const credit = this.users.creditInTx({
      userId: r.userId,
      kind: 'redeem',
      amount: taken.amount,
      ref: `code:${taken.id}`,
      note: taken.prefix,
      actor: r.actor,
      paid: taken.promo !== 1,
      now,
    });
    const changes: BalanceChange[] = credit.changes;
    return { amount: taken.amount, balance: credit.entry.balanceAfter ?? 0, replayed: false, changes };
  }

  /** The first result of this user's redemption of this code. */
  private replayed(codeId: number, userId: number): RedeemResult {
    const prior = this.redemptionOf.get(codeId, userId);
    if (prior === undefined)
      throw new BcError('INTERNAL', `redemption of code ${codeId} by user ${userId} not found`);
    const first = this.firstBalance.get(userId, `code:${codeId}`);
    const balance = first ?? this.userState.get(userId)?.balance ?? 0;
    return { amount: prior.amount, balance, replayed: true, changes: [] };
  }

  /** Only after the conditional UPDATE matched nothing: which rule stopped it, in the admin's words. */
  private whyNot(code: CodeRow | undefined, r: RedeemRequest, now: string): RedeemInvalidError {
    if (code === undefined)
      return new RedeemInvalidError(
        'unknown',
        `no redemption code ${codePrefix(r.code)}... exists: check it was typed in full`,
      );
    const c = `code ${code.prefix} (id ${code.id})`;
    if (code.status === 'revoked') return new RedeemInvalidError('revoked', `${c} was revoked`);
    if (code.user_id !== null && code.user_id !== r.userId) {
      const owner = this.userName.get(code.user_id) ?? `user ${code.user_id}`;
      return new RedeemInvalidError('other_user', `${c} can be redeemed only by ${owner}`);
    }
    if (code.uses >= code.max_uses) {
      const last = this.lastRedemption.get(code.id);
      const by =
        last === undefined
          ? ''
          : ` by ${this.userName.get(last.user_id) ?? `user ${last.user_id}`} at ${last.time}`;
      return new RedeemInvalidError(
        'used',
        code.max_uses === 1
          ? `${c} was already redeemed${by}`
          : `${c} is used up: all ${code.max_uses} uses are taken, the last${by}`,
      );
    }
    if (code.expires_at !== null && code.expires_at <= now)
      return new RedeemInvalidError('expired', `${c} expired at ${code.expires_at}`);
    return new RedeemInvalidError('unknown', `${c} cannot be redeemed`);
  }
}
