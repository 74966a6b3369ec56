/**
 * Redemption codes in PostgreSQL (SPEC sections 9 and 11, TENANTS.md 5.4): the same records,
 * errors and guarantees as the SQLite table (sqlite/redeem-codes.ts). Only `sha256(canonical
 * code)` and a display prefix are stored; the codes are returned once, by `create`.
 *
 * `create` makes up to 10,000 codes in one transaction and one statement: the hashes and prefixes
 * go in as two arrays and `unnest` turns them into rows (a multi-row VALUES of 10,000 rows would
 * pass PostgreSQL's 65,535 parameters per statement).
 *
 * A redemption is one transaction with no read-then-write: the conditional
 * `UPDATE redeem_codes SET uses = uses + 1 WHERE ... uses < max_uses ... RETURNING` takes a use
 * only if every rule holds. Under READ COMMITTED a concurrent redeemer of the same code waits on
 * the row lock until the first commits and then re-evaluates the WHERE on the committed `uses`, so
 * 50 users racing for a one-use code make exactly one credit. The `redemptions` row (UNIQUE per
 * code and user, `ON CONFLICT DO NOTHING`) records who took it: when it inserts nothing, the user
 * had redeemed the code already, the transaction is rolled back (giving the use back) and the
 * first result is returned (`replayed`). The credit and its ledger row (PgUserTable.creditInTx,
 * paid unless the code is a promotion, so the invitation payout runs in the same transaction)
 * commit with the use. Only when the UPDATE matched nothing is the code read, to say why.
 */
import type postgres from 'postgres';
import { BcError } from '../../../shared/errors.js';
import { canonicalCode, codePrefix, generateCode, hashCode } from '../../../shared/redeem-code.js';
import type {
  NewRedeemCodes,
  RedeemCodeQuery,
  RedeemCodeRecord,
  RedeemRequest,
  RedeemResult,
  RedemptionRecord,
} from '../types.js';
import { MAX_CODES_PER_CREATE, RedeemInvalidError, type RedeemCodeStatus } from '../sqlite/redeem-codes.js';
import { codeFromRow, redemptionFromRow, type CodeRow, type RedemptionRow } from '../sqlite/redeem-codes.js';
import type { Sql, TxSql } from './connection.js';
import type { PgUserTable, Q } from './tenants-users.js';

/** Thrown inside the transaction to roll back a use taken by a user who had redeemed already. */
class Replay extends Error {
  constructor(readonly codeId: number) {
    super('replayed redemption');
  }
}

export class PgRedeemCodeTable {
  constructor(
    private readonly sql: Sql,
    private readonly users: PgUserTable,
  ) {}

  /** `count` new codes in one transaction; the plain codes are in the answer and nowhere else. */
  async create(
    c: NewRedeemCodes,
    now: string = new Date().toISOString(),
  ): Promise<{ record: RedeemCodeRecord; code: string }[]> {
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
    const codes = Array.from({ length: c.count }, () => generateCode('BCR'));
    const byHash = new Map(codes.map((code) => [hashCode(code), code]));
    return this.sql.begin(async (tx) => {
      if (c.userId !== null) await this.users.mustGet(c.userId, tx);
      const rows = await tx<CodeRow[]>`
        INSERT INTO redeem_codes (hash, prefix, batch, amount, max_uses, user_id, promo, expires_at, created_at)
        SELECT h, p, ${c.batch}, ${c.amount}, ${c.maxUses}, ${c.userId}, ${c.promo ? 1 : 0},
          ${c.expiresAt}, ${now}
        FROM unnest(${tx.array([...byHash.keys()])}::text[], ${tx.array(codes.map(codePrefix))}::text[])
          WITH ORDINALITY AS t(h, p, n)
        ORDER BY n
        RETURNING *`;
      if (rows.length !== c.count)
        throw new BcError('INTERNAL', `${c.count - rows.length} new redemption codes were not stored`);
      return rows
        .sort((a, b) => a.id - b.id)
        .map((row) => {
          const code = byHash.get(row.hash);
          if (code === undefined)
            throw new BcError('INTERNAL', `redemption code ${row.id} is not one just made`);
          return { record: codeFromRow(row), code };
        });
    });
  }

  async list(q: RedeemCodeQuery, now: string = new Date().toISOString()): Promise<RedeemCodeRecord[]> {
    const sql = this.sql;
    // the derived statuses, as in redeemStatus (sqlite/redeem-codes.ts)
    const status: Record<RedeemCodeStatus, postgres.PendingQuery<postgres.Row[]>> = {
      active: sql`status = 'active' AND uses < max_uses AND (expires_at IS NULL OR expires_at > ${now})`,
      used: sql`status = 'active' AND uses >= max_uses`,
      expired: sql`status = 'active' AND uses < max_uses AND expires_at IS NOT NULL AND expires_at <= ${now}`,
      revoked: sql`status = 'revoked'`,
    };
    let where = sql`TRUE`;
    if (q.batch !== undefined) where = sql`${where} AND batch = ${q.batch}`;
    if (q.userId !== undefined) where = sql`${where} AND user_id = ${q.userId}`;
    if (q.status !== undefined) where = sql`${where} AND ${status[q.status]}`;
    const rows = await sql<CodeRow[]>`SELECT * FROM redeem_codes WHERE ${where} ORDER BY id`;
    return rows.map(codeFromRow);
  }

  async byId(id: number): Promise<RedeemCodeRecord | undefined> {
    const [row] = await this.sql<CodeRow[]>`SELECT * FROM redeem_codes WHERE id = ${id}`;
    return row === undefined ? undefined : codeFromRow(row);
  }

  /**
   * By id (digits), by the whole code (its hash), or by display prefix (`BCR-7KQ2X`; any case).
   * Prefixes are short, so two codes can share one: then CONFLICT, naming their ids.
   */
  async get(ref: number | string): Promise<RedeemCodeRecord | undefined> {
    if (typeof ref === 'number') return this.byId(ref);
    const s = ref.trim();
    if (/^\d+$/.test(s)) return this.byId(Number(s));
    const canonical = canonicalCode(s);
    if (/^BCR[0-9A-Z]{20}$/.test(canonical) || /^[0-9a-f]{32}$/.test(canonical)) {
      const row = await this.byHash(this.sql, hashCode(s));
      return row === undefined ? undefined : codeFromRow(row);
    }
    const m = /^bcr-?([0-9a-z]{5})$/i.exec(s);
    const prefix = m ? `BCR-${canonicalCode(m[1] ?? '')}` : s.toLowerCase();
    const rows = await this.sql<CodeRow[]>`SELECT * FROM redeem_codes WHERE prefix = ${prefix} ORDER BY id`;
    if (rows.length > 1) {
      throw new BcError(
        'CONFLICT',
        `${rows.length} codes share the prefix ${prefix} (ids ${rows.map((r) => r.id).join(', ')}): name one by its id`,
      );
    }
    const row = rows[0];
    return row === undefined ? undefined : codeFromRow(row);
  }

  private async byHash(q: Q, hash: string): Promise<CodeRow | undefined> {
    const [row] = await q<CodeRow[]>`SELECT * FROM redeem_codes WHERE hash = ${hash}`;
    return row;
  }

  async redemptions(codeId: number): Promise<RedemptionRecord[]> {
    const rows = await this.sql<RedemptionRow[]>`
      SELECT * FROM redemptions WHERE code_id = ${codeId} ORDER BY id`;
    return rows.map(redemptionFromRow);
  }

  /** Revoking a revoked code changes nothing; a used one shows as revoked from then on. */
  async revoke(id: number): Promise<RedeemCodeRecord> {
    const [row] = await this.sql<CodeRow[]>`
      UPDATE redeem_codes SET status = 'revoked' WHERE id = ${id} RETURNING *`;
    if (row === undefined)
      throw new BcError('NOT_FOUND', `no redemption code with id ${id}: see \`bc redeem list\``);
    return codeFromRow(row);
  }

  /** Revokes the batch's codes that could still be redeemed; returns how many. */
  revokeBatch(batch: string): Promise<number> {
    return this.sql.begin(async (tx) => {
      const [n] = await tx<
        { n: number }[]
      >`SELECT count(*)::bigint AS n FROM redeem_codes WHERE batch = ${batch}`;
      if (n === undefined || n.n === 0)
        throw new BcError('NOT_FOUND', `no redemption code is in batch "${batch}": see \`bc redeem list\``);
      const r = await tx`
        UPDATE redeem_codes SET status = 'revoked'
        WHERE batch = ${batch} AND status = 'active' AND uses < max_uses`;
      return r.count;
    });
  }

  /** TENANTS.md 5.4 "Redeem": one transaction; see the file's header. */
  async redeem(r: RedeemRequest, now: string = new Date().toISOString()): Promise<RedeemResult> {
    const hash = hashCode(r.code);
    try {
      return await this.sql.begin((tx) => this.redeemInTx(tx, hash, r, now));
    } catch (e) {
      // a second use of a multi-use code by the same user: the use it took was rolled back
      if (e instanceof Replay) return this.replayed(this.sql, e.codeId, r.userId);
      throw e;
    }
  }

  private async redeemInTx(tx: TxSql, hash: string, r: RedeemRequest, now: string): Promise<RedeemResult> {
    // the user first, so a disabled or unmetered user learns nothing about the code
    const [user] = await tx<{ name: string; status: string; balance: number | null }[]>`
      SELECT name, status, balance FROM users WHERE id = ${r.userId}`;
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
    // the rule is the WHERE: a use is taken only if every condition holds at this moment
    const [taken] = await tx<Pick<CodeRow, 'id' | 'amount' | 'promo' | 'prefix'>[]>`
      UPDATE redeem_codes SET uses = uses + 1
      WHERE hash = ${hash} AND status = 'active' AND uses < max_uses
        AND (expires_at IS NULL OR expires_at > ${now})
        AND (user_id IS NULL OR user_id = ${r.userId})
      RETURNING id, amount, promo, prefix`;
    if (taken === undefined) {
      const code = await this.byHash(tx, hash);
      if (code !== undefined && (await this.redemptionOf(tx, code.id, r.userId)) !== undefined)
        return this.replayed(tx, code.id, r.userId);
      throw await this.whyNot(tx, code, r, now);
    }
    const [inserted] = await tx<{ id: number }[]>`
      INSERT INTO redemptions (code_id, user_id, amount, time, ip)
      VALUES (${taken.id}, ${r.userId}, ${taken.amount}, ${now}, ${r.ip})
      ON CONFLICT (code_id, user_id) DO NOTHING RETURNING id`;
    if (inserted === undefined) throw new Replay(taken.id);
    const credit = await this.users.creditInTx(tx, {
      userId: r.userId,
      kind: 'redeem',
      amount: taken.amount,
      ref: `code:${taken.id}`,
      note: taken.prefix,
      actor: r.actor,
      paid: taken.promo !== 1,
      now,
    });
    return {
      amount: taken.amount,
      balance: credit.entry.balanceAfter ?? 0,
      replayed: false,
      changes: credit.changes,
    };
  }

  private async redemptionOf(q: Q, codeId: number, userId: number): Promise<RedemptionRow | undefined> {
    const [row] = await q<RedemptionRow[]>`
      SELECT * FROM redemptions WHERE code_id = ${codeId} AND user_id = ${userId}`;
    return row;
  }

  private async userName(q: Q, id: number): Promise<string | undefined> {
    const [row] = await q<{ name: string }[]>`SELECT name FROM users WHERE id = ${id}`;
    return row?.name;
  }

  /** The first result of this user's redemption of this code. */
  private async replayed(q: Q, codeId: number, userId: number): Promise<RedeemResult> {
    const prior = await this.redemptionOf(q, codeId, userId);
    if (prior === undefined)
      throw new BcError('INTERNAL', `redemption of code ${codeId} by user ${userId} not found`);
    const [first] = await q<{ balance_after: number | null }[]>`
      SELECT balance_after FROM user_ledger
      WHERE user_id = ${userId} AND kind = 'redeem' AND ref = ${`code:${codeId}`}
      ORDER BY id LIMIT 1`;
    let balance = first?.balance_after ?? null;
    if (balance === null) {
      const [u] = await q<{ balance: number | null }[]>`SELECT balance FROM users WHERE id = ${userId}`;
      balance = u?.balance ?? 0;
    }
    return { amount: prior.amount, balance, replayed: true, changes: [] };
  }

  /** Only after the conditional UPDATE matched nothing: which rule stopped it, in the admin's words. */
  private async whyNot(
    q: Q,
    code: CodeRow | undefined,
    r: RedeemRequest,
    now: string,
  ): Promise<RedeemInvalidError> {
    if (code === undefined)
      return new RedeemInvalidError(
        'unknown',
        `no redemption code ${codePrefix(r.code)}... exists: check it was typed in full`,
      );
    const c = `code ${code.prefix} (id ${code.id})`;
    if (code.status === 'revoked') return new RedeemInvalidError('revoked', `${c} was revoked`);
    if (code.user_id !== null && code.user_id !== r.userId) {
      const owner = (await this.userName(q, code.user_id)) ?? `user ${code.user_id}`;
      return new RedeemInvalidError('other_user', `${c} can be redeemed only by ${owner}`);
    }
    if (code.uses >= code.max_uses) {
      const [last] = await q<RedemptionRow[]>`
        SELECT * FROM redemptions WHERE code_id = ${code.id} ORDER BY id DESC LIMIT 1`;
      const by =
        last === undefined
          ? ''
          : ` by ${(await this.userName(q, last.user_id)) ?? `user ${last.user_id}`} at ${last.time}`;
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
