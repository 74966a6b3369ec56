/**
 * Request logs and spend in SQLite. `settle` is the durability point of a request: the log row and
 * the key's spend commit together in one transaction or not at all. Log queries combine a handful
 * of optional filters; each combination's statement is prepared the first time it is used and
 * then reused, so filters stay plain indexed comparisons instead of `? IS NULL OR ...` tricks.
 */
import { BcError } from '../../../shared/errors.js';
import { roundHalfUp } from '../../../shared/money.js';
import type { LogQuery, LogRow, UsageDimension } from '../../../shared/control-api.js';
import type { NewLogRow, UsageAggregate } from '../types.js';
import type { Db, Statement } from './database.js';
import type { JournalEntry } from './journal.js';
import { BucketSums, SQLITE, SqliteRollups, usageSql, type UsageWindow } from './rollups.js';
import {
  insertSql,
  LOG_COLUMNS,
  logFromRow,
  logParams,
  logValues,
  type LogDbRow,
  type Params,
} from './rows.js';

export const DEFAULT_LOG_LIMIT = 100;
export const MAX_LOG_LIMIT = 10_000;

/** The filters a log listing and an export share. */
export type LogFilters = Pick<LogQuery, 'key' | 'user' | 'model' | 'channel' | 'errors' | 'since'>;

const USER_KEYS = 'key_id IN (SELECT id FROM keys WHERE user_id = @user_id)';

/** Maps a key or channel reference (name or id) to its current id, if it still exists. */
export type IdResolver = (ref: string) => number | undefined;

export function normaliseTime(iso: string, what: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms))
    throw new BcError('INVALID_REQUEST', `invalid ${what} time "${iso}": expected ISO 8601`);
  return new Date(ms).toISOString();
}

/** A settled request must leave a row, so an unreadable time falls back to now instead of failing. */
export function logTime(time: string, now: string): string {
  // the relay's own rows carry toISOString() already
  if (time.length === 24 && time.charCodeAt(23) === 90 /* Z */ && time.charCodeAt(10) === 84 /* T */)
    return time;
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? now : new Date(ms).toISOString();
}

export class LogTable {
  private readonly insert;
  private readonly spend;
  private readonly touch;
  private readonly userSpend;
  private readonly count;
  private readonly userKeys;
  private readonly usageBy: Record<UsageDimension, Statement<[UsageWindow], UsageAggregate>>;
  readonly rollups: SqliteRollups;
  private readonly queries = new Map<string, Statement<[Params], LogDbRow>>();
  private readonly idQueries = new Map<string, Statement<[Params], number>>();
  private readonly byIds;
  private readonly settleTx;
  private readonly insertWithId;
  private readonly maxId;
  private readonly applyOneTx;
  private readonly applyManyTx;

  constructor(
    private readonly db: Db,
    private readonly keyId: IdResolver,
    private readonly channelId: IdResolver,
    private readonly userId: IdResolver,
  ) {
    this.insert = db.prepare<[Params]>(insertSql('logs', LOG_COLUMNS));
    this.spend = db.prepare<[number, string, number]>(
      'UPDATE keys SET spent = spent + ?, last_used_at = ? WHERE id = ?',
    );
    this.touch = db.prepare<[string, number]>('UPDATE keys SET last_used_at = ? WHERE id = ?');
    // a user-owned key's spend comes out of its user's balance in the same transaction (an
    // unmetered user's NULL balance stays NULL); the owner of a key never changes
    this.userSpend = db.prepare<[number, number, number]>(
      `UPDATE users SET balance = balance - ?, spent = spent + ?
       WHERE id = (SELECT user_id FROM keys WHERE id = ?)`,
    );
    this.count = db.prepare<[], number>('SELECT COUNT(*) FROM logs').pluck();
    this.userKeys = db.prepare<[number], number>('SELECT id FROM keys WHERE user_id = ?').pluck();
    this.byIds = db.prepare<[string], LogDbRow>(
      'SELECT * FROM logs WHERE id IN (SELECT value FROM json_each(?))',
    );
    const usageBy = (by: UsageDimension): Statement<[UsageWindow], UsageAggregate> =>
      db.prepare<[UsageWindow], UsageAggregate>(usageSql(SQLITE, by));
    this.usageBy = {
      model: usageBy('model'),
      key: usageBy('key'),
      channel: usageBy('channel'),
      user: usageBy('user'),
    };
    this.rollups = new SqliteRollups(db);
    this.settleTx = db.transaction((row: NewLogRow): number => {
      // the relay rounds once at settlement; this only guards against a fractional slip
      const cost = row.cost === null ? null : roundHalfUp(row.cost);
      const now = new Date().toISOString();
      const time = logTime(row.time, now);
      const id = Number(this.insert.run(logParams(row, time, cost)).lastInsertRowid);
      if (row.key_id !== null) this.charge(row.key_id, cost, now);
      const sums = new BucketSums();
      sums.add(row, time, cost);
      this.rollups.add(sums);
      return id;
    });
    // positional, in logValues' order: the id, then LOG_COLUMNS
    const withId = ['id', ...LOG_COLUMNS];
    this.insertWithId = db.prepare<[(string | number | null)[]]>(
      `INSERT OR IGNORE INTO logs (${withId.map((c) => `"${c}"`).join(', ')})
       VALUES (${withId.map(() => '?').join(', ')})`,
    );
    this.maxId = db.prepare<[], number | null>('SELECT MAX(id) FROM logs').pluck();
    this.applyOneTx = db.transaction((e: JournalEntry): void => this.applyBatch([e]));
    this.applyManyTx = db.transaction((entries: JournalEntry[]): void => this.applyBatch(entries));
  }

  /** The highest log id, so the journal continues the sequence after a restart. */
  lastId(): number {
    return this.maxId.get() ?? 0;
  }

  /**
   * Applies journal entries in one transaction; an entry already in the table changes nothing, so
   * a replay never adds spend twice. If the batch fails, entries are applied one by one and those
   * that still fail are returned (they stay in the journal for a later attempt).
   */
  applyEntries(entries: JournalEntry[]): JournalEntry[] {
    try {
      this.applyManyTx(entries);
      return [];
    } catch {
      const failed: JournalEntry[] = [];
      for (const e of entries) {
        try {
          this.applyOneTx(e);
        } catch {
          failed.push(e);
        }
      }
      return failed;
    }
  }

  /**
   * Inserts the rows (inside the caller's transaction) and adds each new row's cost to its key
   * and the key's user, and its usage to its minute's bucket (rollups.ts): one UPDATE each per
   * key and one upsert per bucket for the whole batch, the sums of exactly the rows that were new.
   */
  private applyBatch(entries: JournalEntry[]): void {
    const now = new Date().toISOString();
    // key id -> spend of its new rows (null: only unpriced rows, the key is just touched)
    const perKey = new Map<number, number | null>();
    const sums = new BucketSums();
    for (const { id, row } of entries) {
      const cost = row.cost === null ? null : roundHalfUp(row.cost);
      const time = logTime(row.time, now);
      const inserted = this.insertWithId.run(logValues(id, row, time, cost)).changes === 1;
      if (!inserted) continue;
      sums.add(row, time, cost);
      if (row.key_id === null) continue;
      const before = perKey.get(row.key_id) ?? null;
      perKey.set(row.key_id, cost === null ? before : (before ?? 0) + cost);
    }
    for (const [keyId, cost] of perKey) this.charge(keyId, cost, now);
    this.rollups.add(sums);
  }

  /** Adds settled spend to a key and its user (null: unpriced rows only, the key is just touched). */
  private charge(keyId: number, cost: number | null, now: string): void {
    if (cost === null) {
      this.touch.run(now, keyId);
      return;
    }
    this.spend.run(cost, now, keyId);
    if (cost !== 0) this.userSpend.run(cost, cost, keyId);
  }

  settle(row: NewLogRow): number {
    return this.settleTx(row);
  }

  query(q: LogQuery): LogRow[] {
    const { where, params } = this.filters(q);
    params.limit = clampLimit(q.limit);
    if (q.after_id !== undefined) {
      where.push('id > @after_id');
      params.after_id = q.after_id;
    }
    const order = q.after_id !== undefined ? 'ASC' : 'DESC';
    const listing = (w: string[]): string =>
      `SELECT * FROM logs${w.length > 0 ? ` WHERE ${w.join(' AND ')}` : ''} ORDER BY id ${order} LIMIT @limit`;
    if (q.user === undefined || q.key !== undefined)
      return this.statement(listing(where)).all(params).map(logFromRow);
    // a user's rows: "key_id IN (...)" cannot walk one index in id order, so SQLite would sort
    // every row of the user's keys; each key's newest `limit` instead, merged, stop early
    const keyIds = this.userKeys.all(params.user_id as number);
    const perKey = where.map((t) => (t === USER_KEYS ? 'key_id = @user_key' : t));
    const newer = (a: number, b: number): number => (order === 'ASC' ? a - b : b - a);
    if (where.every((t) => t === USER_KEYS || t === 'id > @after_id')) {
      // the key index alone answers (key, id): each key's ids without reading the table, then
      // only the rows shown (a busy user's keys' rows are spread all over the table)
      const idSql = `SELECT id FROM logs WHERE ${perKey.join(' AND ')} ORDER BY id ${order} LIMIT @limit`;
      let stmt = this.idQueries.get(idSql);
      if (stmt === undefined)
        this.idQueries.set(idSql, (stmt = this.db.prepare<[Params], number>(idSql).pluck()));
      const ids = keyIds.flatMap((k) => stmt.all({ ...params, user_key: k })).sort(newer);
      const shown = this.byIds.all(JSON.stringify(ids.slice(0, params.limit)));
      return shown.sort((a, b) => newer(a.id, b.id)).map(logFromRow);
    }
    const rows = keyIds.flatMap((k) => this.statement(listing(perKey)).all({ ...params, user_key: k }));
    return rows
      .sort((a, b) => newer(a.id, b.id))
      .slice(0, params.limit)
      .map(logFromRow);
  }

  /**
   * The WHERE terms of a log query's filters (key, channel, user, model, errors, since), shared
   * with the export's pages.
   */
  filters(q: LogFilters): { where: string[]; params: Params } {
    const where: string[] = [];
    const params: Params = {};
    this.refFilter(where, params, 'key', q.key, this.keyId);
    this.refFilter(where, params, 'channel', q.channel, this.channelId);
    if (q.user !== undefined) {
      const userId = this.userId(q.user);
      if (userId === undefined)
        throw new BcError('NOT_FOUND', `user "${q.user}" not found: see \`bc user list\``);
      params.user_id = userId;
      where.push(USER_KEYS);
    }
    if (q.model !== undefined) {
      where.push('model = @model');
      params.model = q.model;
    }
    if (q.errors === true) where.push('status >= 400');
    if (q.since !== undefined) {
      where.push('time >= @since');
      params.since = normaliseTime(q.since, 'since');
    }
    return { where, params };
  }

  /** Usage since a time, from the rollups and the log rows of the window's partial edge. */
  usage(by: UsageDimension, sinceIso: string): UsageAggregate[] {
    const since = normaliseTime(sinceIso, 'since');
    return this.rollups.snapshot(() => this.usageBy[by].all(this.rollups.window(since)));
  }

  countRequests(): number {
    return this.count.get() ?? 0;
  }

  /** A reference still in the catalog filters by id (survives renames); else by what was logged. */
  private refFilter(
    where: string[],
    params: Params,
    what: 'key' | 'channel',
    ref: string | undefined,
    resolve: IdResolver,
  ): void {
    if (ref === undefined) return;
    const id = resolve(ref);
    if (id !== undefined) {
      where.push(`${what}_id = @${what}_id`);
      params[`${what}_id`] = id;
    } else if (/^\d+$/.test(ref)) {
      // gone from the catalog (a deleted channel): its number may be a logged name or a logged id
      where.push(`(${what}_name = @${what}_name OR ${what}_id = @${what}_id)`);
      params[`${what}_name`] = ref;
      params[`${what}_id`] = Number(ref);
    } else {
      where.push(`${what}_name = @${what}_name`);
      params[`${what}_name`] = ref;
    }
  }

  private statement(sql: string): Statement<[Params], LogDbRow> {
    let stmt = this.queries.get(sql);
    if (stmt === undefined) {
      stmt = this.db.prepare<[Params], LogDbRow>(sql);
      this.queries.set(sql, stmt);
    }
    return stmt;
  }
}

function clampLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_LOG_LIMIT;
  return Math.min(MAX_LOG_LIMIT, Math.max(1, Math.floor(limit)));
}
