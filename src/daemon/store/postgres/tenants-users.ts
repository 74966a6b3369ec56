/**
 * Users (tenants) and their ledger in PostgreSQL (SPEC sections 9 and 11): the same records, error
 * codes and messages as the SQLite table (sqlite/users.ts), for N daemons sharing one database.
 *
 * Every balance change other than a request's settlement is one transaction: the conditional
 * UPDATE of the balance and the ledger row that says why, so `sum(user_ledger.amount) - spent =
 * balance` holds at every commit. There is no read-then-write on money: a credit is one
 * `UPDATE ... WHERE ... RETURNING` whose WHERE is the rule (metered, not deleted, not below zero
 * unless allowed). Under READ COMMITTED a second writer of the same row waits for the first to
 * commit and then re-evaluates the WHERE against the committed balance, so 100 concurrent debits
 * against a balance that covers 37 take exactly 37. Only when the UPDATE matched nothing is the
 * row read, to say why.
 *
 * `patch` and `remove` decide from the current row (a rename, making a user unmetered, zeroing
 * the balance), so they read it `FOR NO KEY UPDATE` (the lock an UPDATE takes, which leaves the
 * foreign keys' KEY SHARE locks alone): a credit committing between their read and their
 * write would otherwise be overwritten.
 *
 * The paid-credit hooks (the invitation payout, tenants-invites.ts) run inside the credit's
 * transaction and receive it; the credit's row lock on the user is held until commit, which is
 * what makes two paid credits of one user run their hooks one after the other.
 */
import type postgres from 'postgres';
import { BcError } from '../../../shared/errors.js';
import type {
  BalanceChange,
  CreditRequest,
  CreditResult,
  LedgerRecord,
  NewUser,
  UserPatch,
  UserRecord,
} from '../types.js';
import { ledgerFromRow, userFromRow, type LedgerRow, type UserRow } from '../sqlite/users.js';
import type { Sql, TxSql } from './connection.js';

/** A pool or a transaction: the tables' reads run on either. */
export type Q = postgres.ISql;

/** The SQLSTATE of a PostgreSQL error ('23505' unique, '23503' foreign key), else undefined. */
export function pgCode(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null || !('code' in e)) return undefined;
  const code = e.code;
  return typeof code === 'string' ? code : undefined;
}

export const UNIQUE_VIOLATION = '23505';
export const FOREIGN_KEY_VIOLATION = '23503';

// rows have the same columns on both stores: mapped by the SQLite side's mappers
export { userFromRow, type UserRow } from '../sqlite/users.js';

/**
 * Called inside the transaction of a paid credit (a top-up, or a redemption of a code that is not
 * a promotion), with that transaction: the invitation payout hangs here. Returns the balances it
 * changed.
 */
export type PgPaidCreditHook = (
  tx: TxSql,
  userId: number,
  amount: number,
  now: string,
) => Promise<BalanceChange[]>;

/** CreditRequest as the tables inside a transaction pass it: `paid` marks real money coming in. */
export interface PgCreditInTx extends CreditRequest {
  paid?: boolean;
  now?: string;
}

export class PgUserTable {
  private readonly paidHooks: PgPaidCreditHook[] = [];

  constructor(private readonly sql: Sql) {}

  /** The invitation payout registers here (tenants-invites.ts). */
  onPaidCredit(hook: PgPaidCreditHook): void {
    this.paidHooks.push(hook);
  }

  async list(): Promise<UserRecord[]> {
    const rows = await this.sql<UserRow[]>`SELECT * FROM users WHERE status <> 'deleted' ORDER BY id`;
    return rows.map(userFromRow);
  }

  /** Deleted users too (their history is kept). */
  async byId(id: number, q: Q = this.sql): Promise<UserRecord | undefined> {
    const [row] = await q<UserRow[]>`SELECT * FROM users WHERE id = ${id}`;
    return row === undefined ? undefined : userFromRow(row);
  }

  /** By id, or by name (a name of digits first as a name, then as an id), as the catalog resolves. */
  async get(idOrName: number | string): Promise<UserRecord | undefined> {
    let u: UserRecord | undefined;
    if (typeof idOrName === 'number') u = await this.byId(idOrName);
    else {
      const [row] = await this.sql<UserRow[]>`SELECT * FROM users WHERE name = ${idOrName}`;
      u = row === undefined ? undefined : userFromRow(row);
      if (u === undefined && /^\d+$/.test(idOrName)) u = await this.byId(Number(idOrName));
    }
    return u?.status === 'deleted' ? undefined : u;
  }

  async mustGet(id: number, q: Q = this.sql): Promise<UserRecord> {
    const u = await this.byId(id, q);
    if (u === undefined || u.status === 'deleted') throw new BcError('NOT_FOUND', `user ${id} not found`);
    return u;
  }

  /** The row locked until the transaction ends: what `patch` and `remove` decide from. */
  private async mustLock(tx: TxSql, id: number): Promise<UserRecord> {
    const [row] = await tx<UserRow[]>`SELECT * FROM users WHERE id = ${id} FOR NO KEY UPDATE`;
    if (row === undefined || row.status === 'deleted') throw new BcError('NOT_FOUND', `user ${id} not found`);
    return userFromRow(row);
  }

  create(u: NewUser): Promise<{ user: UserRecord; changes: BalanceChange[] }> {
    return this.sql.begin((tx) => this.createInTx(tx, u));
  }

  /** For callers that already hold a transaction (signup with an invitation, import). */
  async createInTx(
    tx: TxSql,
    u: NewUser,
    now = new Date().toISOString(),
  ): Promise<{ user: UserRecord; changes: BalanceChange[] }> {
    let id: number;
    try {
      const [row] = await tx<{ id: number }[]>`
        INSERT INTO users (name, "group", balance, rpm, tpm, concurrency, max_keys, note, invited_by,
          signup_ip, created_at, updated_at)
        VALUES (${u.name}, ${u.group ?? 'default'}, ${u.balance === null ? null : 0}, ${u.rpm ?? null},
          ${u.tpm ?? null}, ${u.concurrency ?? null}, ${u.maxKeys ?? null}, ${u.note ?? null},
          ${u.invitedBy ?? null}, ${u.signupIp ?? null}, ${now}, ${now})
        RETURNING id`;
      if (row === undefined) throw new BcError('INTERNAL', `user "${u.name}" was not stored`);
      id = row.id;
    } catch (e) {
      if (pgCode(e) === UNIQUE_VIOLATION)
        throw new BcError('CONFLICT', `a user named "${u.name}" already exists`, { cause: e });
      throw e;
    }
    const changes: BalanceChange[] = [];
    // the starting balance arrives through the ledger, so the sum holds from the start
    if (u.balance !== null && u.balance > 0) {
      const r = await this.creditInTx(tx, {
        userId: id,
        kind: 'topup',
        amount: u.balance,
        note: 'starting balance',
        actor: u.actor ?? 'admin',
        now,
      });
      changes.push(...r.changes);
    }
    return { user: await this.mustGet(id, tx), changes };
  }

  patch(id: number, patch: UserPatch): Promise<UserRecord> {
    return this.sql.begin(async (tx) => {
      const cur = await this.mustLock(tx, id);
      const name = patch.name ?? cur.name;
      let balance = cur.balance;
      if (patch.unmetered === true) balance = null;
      else if (patch.unmetered === false && cur.balance === null) balance = 0;
      if (balance === null && cur.balance !== null && cur.balance !== 0) {
        throw new BcError(
          'CONFLICT',
          `user "${cur.name}" has a balance of ${cur.balance} micro-USD: bring it to 0 with \`bc user adjust\` before making them unmetered`,
        );
      }
      try {
        await tx`
          UPDATE users SET name = ${name}, "group" = ${patch.group ?? cur.group},
            rpm = ${patch.rpm === undefined ? cur.rpm : patch.rpm},
            tpm = ${patch.tpm === undefined ? cur.tpm : patch.tpm},
            concurrency = ${patch.concurrency === undefined ? cur.concurrency : patch.concurrency},
            max_keys = ${patch.maxKeys === undefined ? cur.maxKeys : patch.maxKeys},
            note = ${patch.note === undefined ? cur.note : patch.note},
            status = ${patch.status ?? cur.status}, balance = ${balance},
            updated_at = ${new Date().toISOString()}
          WHERE id = ${id}`;
        // the user's keys are named `user/key`: a rename carries them along
        if (name !== cur.name) await this.renameKeys(tx, id, cur.name, name);
        if (patch.group !== undefined && patch.group !== cur.group)
          // a user's keys show the user's group, which is the one they route and are priced by
          await tx`UPDATE keys SET "group" = ${patch.group} WHERE user_id = ${id}`;
      } catch (e) {
        if (pgCode(e) === UNIQUE_VIOLATION)
          throw new BcError('CONFLICT', `a user or key named "${name}" already exists`, { cause: e });
        throw e;
      }
      return this.mustGet(id, tx);
    });
  }

  private async renameKeys(tx: TxSql, id: number, from: string, to: string): Promise<void> {
    await tx`
      UPDATE keys SET name = ${to} || substr(name, ${from.length + 1})
      WHERE user_id = ${id} AND name LIKE '%/%'`;
  }

  credit(c: PgCreditInTx): Promise<CreditResult> {
    return this.sql.begin((tx) => this.creditInTx(tx, c));
  }

  /**
   * The credit inside the caller's transaction: the balance moves only if the rule holds, and the
   * ledger row records the balance it left. A paid credit runs the payout hooks in the same
   * transaction.
   */
  async creditInTx(tx: TxSql, c: PgCreditInTx): Promise<CreditResult> {
    if (!Number.isSafeInteger(c.amount))
      throw new BcError('INVALID_REQUEST', 'amount must be an integer number of micro-USD');
    const now = c.now ?? new Date().toISOString();
    const allow = c.allowNegative === true;
    // the rule is the WHERE: metered, not deleted, and not below zero unless allowed
    const [row] = await tx<{ balance: number }[]>`
      UPDATE users SET balance = balance + ${c.amount},
        credited = credited + GREATEST(${c.amount}::bigint, 0), updated_at = ${now}
      WHERE id = ${c.userId} AND status <> 'deleted' AND balance IS NOT NULL
        AND (${allow}::boolean OR ${c.amount}::bigint >= 0 OR balance + ${c.amount}::bigint >= 0)
      RETURNING balance`;
    if (row === undefined) throw await this.whyNoCredit(tx, c);
    const [entry] = await tx<{ id: number }[]>`
      INSERT INTO user_ledger (user_id, time, kind, amount, balance_after, ref, actor, note)
      VALUES (${c.userId}, ${now}, ${c.kind}, ${c.amount}, ${row.balance}, ${c.ref ?? null},
        ${c.actor}, ${c.note ?? null})
      RETURNING id`;
    if (entry === undefined) throw new BcError('INTERNAL', `ledger row of user ${c.userId} was not stored`);
    const changes: BalanceChange[] = [{ userId: c.userId, amount: c.amount }];
    if (c.paid === true && c.amount > 0) {
      for (const hook of this.paidHooks) changes.push(...(await hook(tx, c.userId, c.amount, now)));
    }
    return {
      user: await this.mustGet(c.userId, tx),
      entry: {
        id: entry.id,
        time: now,
        userId: c.userId,
        kind: c.kind,
        amount: c.amount,
        balanceAfter: row.balance,
        ref: c.ref ?? null,
        actor: c.actor,
        note: c.note ?? null,
      },
      changes,
    };
  }

  /** Only after the conditional UPDATE matched nothing: which rule stopped it. */
  private async whyNoCredit(tx: TxSql, c: CreditRequest): Promise<BcError> {
    const u = await this.byId(c.userId, tx);
    if (u === undefined || u.status === 'deleted')
      return new BcError('NOT_FOUND', `user ${c.userId} not found`);
    if (u.balance === null) {
      return new BcError(
        'USER_UNMETERED',
        `user "${u.name}" is unmetered (no balance to credit): make them metered with \`bc user edit ${u.name} --metered\``,
      );
    }
    return new BcError(
      'BALANCE_NEGATIVE',
      `this would take user "${u.name}"'s balance below zero (${u.balance} micro-USD left, change ${c.amount}): pass --allow-negative to do it anyway`,
    );
  }

  /** Newest first. */
  async ledger(userId: number, limit: number): Promise<LedgerRecord[]> {
    const rows = await this.sql<LedgerRow[]>`
      SELECT * FROM user_ledger WHERE user_id = ${userId} ORDER BY id DESC LIMIT ${limit}`;
    return rows.map(ledgerFromRow);
  }

  /**
   * Deletes a user, keeping history: keys revoked, the balance zeroed by an `adjust` row, the
   * name freed as `deleted-<id>-<name>`.
   */
  remove(id: number, actor: string): Promise<{ user: UserRecord; changes: BalanceChange[] }> {
    return this.sql.begin(async (tx) => {
      const cur = await this.mustLock(tx, id);
      const changes: BalanceChange[] = [];
      if (cur.balance !== null && cur.balance !== 0) {
        const r = await this.creditInTx(tx, {
          userId: id,
          kind: 'adjust',
          amount: -cur.balance,
          note: 'user removed',
          actor,
          allowNegative: true,
        });
        changes.push(...r.changes);
      }
      await tx`UPDATE keys SET status = 'revoked' WHERE user_id = ${id}`;
      const name = `deleted-${id}-${cur.name}`;
      await this.renameKeys(tx, id, cur.name, name);
      await tx`
        UPDATE users SET name = ${name}, status = 'deleted',
          balance = ${cur.balance === null ? null : 0}, updated_at = ${new Date().toISOString()}
        WHERE id = ${id}`;
      const user = await this.byId(id, tx);
      if (user === undefined) throw new BcError('NOT_FOUND', `user ${id} not found`);
      return { user, changes };
    });
  }
}
