/**
 * Users (tenants) and their ledger in SQLite (SPEC section 11). Every balance change other than a
 * request's settlement is one transaction: the conditional UPDATE of the balance and the ledger
 * row that says why, so for every metered user `sum(user_ledger.amount) - spent = balance` holds
 * at every commit, also after SIGKILL. Settlement itself moves balance and spent together
 * (logs.ts), which keeps the same sum.
 *
 * There is no read-then-write: a credit is one `UPDATE ... WHERE` whose condition is the rule
 * (metered, not deleted, not below zero unless allowed), and only when it matched nothing does the
 * table read the row, to say why.
 */
import { BcError } from '../../../shared/errors.js';
import type {
  BalanceChange,
  CreditRequest,
  CreditResult,
  LedgerKind,
  LedgerRecord,
  NewUser,
  UserPatch,
  UserRecord,
  UserStatus,
} from '../types.js';
import { isConstraint, resolveIdOrName } from './catalog.js';
import type { Db } from './database.js';

export interface UserRow {
  id: number;
  name: string;
  group: string;
  balance: number | null;
  spent: number;
  credited: number;
  status: string;
  rpm: number | null;
  tpm: number | null;
  concurrency: number | null;
  max_keys: number | null;
  referral_code: string | null;
  invited_by: number | null;
  referral_rewards: number;
  note: string | null;
  signup_ip: string | null;
  created_at: string;
  updated_at: string;
}

export interface LedgerRow {
  id: number;
  user_id: number;
  time: string;
  kind: string;
  amount: number;
  balance_after: number | null;
  ref: string | null;
  actor: string;
  note: string | null;
}

export function userFromRow(r: UserRow): UserRecord {
  return {
    id: r.id,
    name: r.name,
    group: r.group,
    balance: r.balance,
    spent: r.spent,
    credited: r.credited,
    status: r.status as UserStatus,
    rpm: r.rpm,
    tpm: r.tpm,
    concurrency: r.concurrency,
    maxKeys: r.max_keys,
    referralCode: r.referral_code,
    invitedBy: r.invited_by,
    referralRewards: r.referral_rewards,
    note: r.note,
    signupIp: r.signup_ip,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function ledgerFromRow(r: LedgerRow): LedgerRecord {
  return {
    id: r.id,
    time: r.time,
    userId: r.user_id,
    kind: r.kind as LedgerKind,
    amount: r.amount,
    balanceAfter: r.balance_after,
    ref: r.ref,
    actor: r.actor,
    note: r.note,
  };
}

/**
 * Called inside the transaction of a paid credit (a top-up, or a redemption of a code that is not
 * a promotion): the invitation payout (SPEC section 11) hangs here. Returns the balances it changed.
 */
export type PaidCreditHook = (userId: number, amount: number, now: string) => BalanceChange[];

/** CreditRequest as the tables inside a transaction pass it: `paid` marks real money coming in. */
export interface CreditInTx extends CreditRequest {
  paid?: boolean;
  now?: string;
}

export class UserTable {
  private readonly all;
  private readonly byIdStmt;
  private readonly byNameStmt;
  private readonly insert;
  private readonly update;
  private readonly creditStmt;
  private readonly insertLedger;
  private readonly ledgerStmt;
  private readonly renameKeys;
  private readonly revokeKeys;
  private readonly regroupKeys;
  private readonly paidHooks: PaidCreditHook[] = [];

  constructor(private readonly db: Db) {
    this.all = db.prepare<[], UserRow>("SELECT * FROM users WHERE status != 'deleted' ORDER BY id");
    this.byIdStmt = db.prepare<[number], UserRow>('SELECT * FROM users WHERE id = ?');
    this.byNameStmt = db.prepare<[string], UserRow>('SELECT * FROM users WHERE name = ?');
    this.insert = db.prepare<[Record<string, string | number | null>]>(
      `INSERT INTO users (name, "group", balance, rpm, tpm, concurrency, max_keys, note, invited_by,
         signup_ip, created_at, updated_at)
       VALUES (@name, @group, @balance, @rpm, @tpm, @concurrency, @max_keys, @note, @invited_by,
         @signup_ip, @now, @now)`,
    );
    this.update = db.prepare<[Record<string, string | number | null>]>(
      `UPDATE users SET name = @name, "group" = @group, rpm = @rpm, tpm = @tpm,
         concurrency = @concurrency, max_keys = @max_keys, note = @note, status = @status,
         balance = @balance, updated_at = @now
       WHERE id = @id`,
    );
    // the rule is the WHERE: metered, not deleted, and not below zero unless allowed
    this.creditStmt = db.prepare<[Record<string, string | number>], { balance: number }>(
      `UPDATE users SET balance = balance + @amount,
         credited = credited + MAX(@amount, 0), updated_at = @now
       WHERE id = @id AND status != 'deleted' AND balance IS NOT NULL
         AND (@allow_negative = 1 OR @amount >= 0 OR balance + @amount >= 0)
       RETURNING balance`,
    );
    this.insertLedger = db.prepare<[Record<string, string | number | null>]>(
      `INSERT INTO user_ledger (user_id, time, kind, amount, balance_after, ref, actor, note)
       VALUES (@user_id, @time, @kind, @amount, @balance_after, @ref, @actor, @note)`,
    );
    this.ledgerStmt = db.prepare<[number, number], LedgerRow>(
      'SELECT * FROM user_ledger WHERE user_id = ? ORDER BY id DESC LIMIT ?',
    );
    this.renameKeys = db.prepare<[string, number, number]>(
      "UPDATE keys SET name = ? || substr(name, ? + 1) WHERE user_id = ? AND name LIKE '%/%'",
    );
    this.revokeKeys = db.prepare<[number]>("UPDATE keys SET status = 'revoked' WHERE user_id = ?");
    // a user's keys show the user's group, which is the one they route and are priced by
    this.regroupKeys = db.prepare<[string, number]>('UPDATE keys SET "group" = ? WHERE user_id = ?');
  }

  /** The invitation payout registers here (invites.ts). */
  onPaidCredit(hook: PaidCreditHook): void {
    this.paidHooks.push(hook);
  }

  list(): UserRecord[] {
    return this.all.all().map(userFromRow);
  }

  byId(id: number): UserRecord | undefined {
    const row = this.byIdStmt.get(id);
    return row === undefined ? undefined : userFromRow(row);
  }

  get(idOrName: number | string): UserRecord | undefined {
    const u = resolveIdOrName(
      idOrName,
      (id) => this.byId(id),
      (n) => {
        const row = this.byNameStmt.get(n);
        return row === undefined ? undefined : userFromRow(row);
      },
    );
    return u?.status === 'deleted' ? undefined : u;
  }

  mustGet(id: number): UserRecord {
    const u = this.byId(id);
    if (u === undefined || u.status === 'deleted') throw new BcError('NOT_FOUND', `user ${id} not found`);
    return u;
  }

  create(u: NewUser): { user: UserRecord; changes: BalanceChange[] } {
    return this.db.transaction(() => this.createInTx(u))();
  }

  /** For callers that already hold a transaction (signup with an invitation, import). */
  createInTx(u: NewUser, now = new Date().toISOString()): { user: UserRecord; changes: BalanceChange[] } {
    let id: number;
    try {
      id = Number(
        this.insert.run({
          name: u.name,
          group: u.group ?? 'default',
          // the starting balance arrives through the ledger below, so the sum holds from the start
          balance: u.balance === null ? null : 0,
          rpm: u.rpm ?? null,
          tpm: u.tpm ?? null,
          concurrency: u.concurrency ?? null,
          max_keys: u.maxKeys ?? null,
          note: u.note ?? null,
          invited_by: u.invitedBy ?? null,
          signup_ip: u.signupIp ?? null,
          now,
        }).lastInsertRowid,
      );
    } catch (e) {
      if (isConstraint(e, 'UNIQUE'))
        throw new BcError('CONFLICT', `a user named "${u.name}" already exists`, { cause: e });
      throw e;
    }
    const changes: BalanceChange[] = [];
    if (u.balance !== null && u.balance > 0) {
      const r = this.creditInTx({
        userId: id,
        kind: 'topup',
        amount: u.balance,
        note: 'starting balance',
        actor: u.actor ?? 'admin',
        now,
      });
      changes.push(...r.changes);
    }
    return { user: this.mustGet(id), changes };
  }

  patch(id: number, patch: UserPatch): UserRecord {
    return this.db.transaction(() => {
      const cur = this.mustGet(id);
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
        this.update.run({
          id,
          name,
          group: patch.group ?? cur.group,
          rpm: patch.rpm === undefined ? cur.rpm : patch.rpm,
          tpm: patch.tpm === undefined ? cur.tpm : patch.tpm,
          concurrency: patch.concurrency === undefined ? cur.concurrency : patch.concurrency,
          max_keys: patch.maxKeys === undefined ? cur.maxKeys : patch.maxKeys,
          note: patch.note === undefined ? cur.note : patch.note,
          status: patch.status ?? cur.status,
          balance,
          now: new Date().toISOString(),
        });
        // the user's keys are named `user/key`: a rename carries them along
        if (name !== cur.name) this.renameKeys.run(name, cur.name.length, id);
        if (patch.group !== undefined && patch.group !== cur.group) this.regroupKeys.run(patch.group, id);
      } catch (e) {
        if (isConstraint(e, 'UNIQUE'))
          throw new BcError('CONFLICT', `a user or key named "${name}" already exists`, { cause: e });
        throw e;
      }
      return this.mustGet(id);
    })();
  }

  credit(c: CreditInTx): CreditResult {
    return this.db.transaction(() => this.creditInTx(c))();
  }

  /**
   * The credit inside the caller's transaction: the balance moves only if the rule holds, and the
   * ledger row records the balance it left. A paid credit runs the payout hooks in the same
   * transaction.
   */
  creditInTx(c: CreditInTx): CreditResult {
    if (!Number.isSafeInteger(c.amount))
      throw new BcError('INVALID_REQUEST', 'amount must be an integer number of micro-USD');
    const now = c.now ?? new Date().toISOString();
    const row = this.creditStmt.get({
      id: c.userId,
      amount: c.amount,
      allow_negative: c.allowNegative === true ? 1 : 0,
      now,
    });
    if (row === undefined) throw this.whyNoCredit(c);
    const entryId = Number(
      this.insertLedger.run({
        user_id: c.userId,
        time: now,
        kind: c.kind,
        amount: c.amount,
        balance_after: row.balance,
        ref: c.ref ?? null,
        actor: c.actor,
        note: c.note ?? null,
      }).lastInsertRowid,
    );
    const changes: BalanceChange[] = [{ userId: c.userId, amount: c.amount }];
    if (c.paid === true && c.amount > 0) {
      for (const hook of this.paidHooks) changes.push(...hook(c.userId, c.amount, now));
    }
    const entry: LedgerRecord = {
      id: entryId,
      time: now,
      userId: c.userId,
      kind: c.kind,
      amount: c.amount,
      balanceAfter: row.balance,
      ref: c.ref ?? null,
      actor: c.actor,
      note: c.note ?? null,
    };
    return { user: this.mustGet(c.userId), entry, changes };
  }

  /** Only after the conditional UPDATE matched nothing: which rule stopped it. */
  private whyNoCredit(c: CreditRequest): BcError {
    const u = this.byId(c.userId);
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

  ledger(userId: number, limit: number): LedgerRecord[] {
    return this.ledgerStmt.all(userId, limit).map(ledgerFromRow);
  }

  /**
   * Deletes a user, keeping history: keys revoked, the balance zeroed by an `adjust` row, the
   * name freed as `deleted-<id>-<name>`.
   */
  remove(id: number, actor: string): { user: UserRecord; changes: BalanceChange[] } {
    return this.db.transaction(() => {
      const cur = this.mustGet(id);
      const changes: BalanceChange[] = [];
      if (cur.balance !== null && cur.balance !== 0) {
        changes.push(
          ...this.creditInTx({
            userId: id,
            kind: 'adjust',
            amount: -cur.balance,
            note: 'user removed',
            actor,
            allowNegative: true,
          }).changes,
        );
      }
      this.revokeKeys.run(id);
      const name = `deleted-${id}-${cur.name}`;
      this.renameKeys.run(name, cur.name.length, id);
      this.update.run({
        id,
        name,
        group: cur.group,
        rpm: cur.rpm,
        tpm: cur.tpm,
        concurrency: cur.concurrency,
        max_keys: cur.maxKeys,
        note: cur.note,
        status: 'deleted',
        balance: cur.balance === null ? null : 0,
        now: new Date().toISOString(),
      });
      const user = this.byId(id);
      if (user === undefined) throw new BcError('NOT_FOUND', `user ${id} not found`);
      return { user, changes };
    })();
  }
}
