/**
 * Request logs in PostgreSQL, the read side. Rows are written, and their spend charged, by the
 * group commit in log-batch.ts. Log queries are the SQLite queries in PostgreSQL's dialect; usage
 * (by model/key/channel/user, one user's usage) is read from the rollups (rollups.ts), with the
 * SQL the SQLite store uses written in PostgreSQL's dialect: SUMs cast back to BIGINT, NULL
 * costs sorted last as SQLite sorts them, names compared byte-wise (COLLATE "C").
 */
import { BcError } from '../../../shared/errors.js';
import type { LogQuery, LogRow, UsageDimension } from '../../../shared/control-api.js';
import type { UsageAggregate } from '../types.js';
import { DEFAULT_LOG_LIMIT, MAX_LOG_LIMIT, normaliseTime, type LogFilters } from '../sqlite/logs.js';
import { logFromRow, type LogDbRow } from '../sqlite/rows.js';
import type { UserUsageQuery } from '../sqlite/tenant-queries.js';
import type { Sql } from './connection.js';
import { PgRollups } from './rollups.js';

/** Maps a key, channel or user reference (name or id) to its current id, if it still exists. */
export type AsyncIdResolver = (ref: string) => Promise<number | undefined>;

export type Value = string | number | null;

export class PgLogTable {
  readonly rollups: PgRollups;

  constructor(
    private readonly sql: Sql,
    private readonly keyId: AsyncIdResolver,
    private readonly channelId: AsyncIdResolver,
    private readonly userId: AsyncIdResolver,
  ) {
    this.rollups = new PgRollups(sql);
  }

  async query(q: LogQuery): Promise<LogRow[]> {
    const values: Value[] = [];
    const param = (v: Value): string => {
      values.push(v);
      return `$${values.length}`;
    };
    const { where, user } = await this.filters(q, param);
    if (q.after_id !== undefined) where.push(`id > ${param(q.after_id)}`);
    const order = q.after_id !== undefined ? 'ASC' : 'DESC';
    const limit = param(clampLimit(q.limit));
    const listing = (w: string[]): string =>
      `SELECT * FROM logs${w.length > 0 ? ` WHERE ${w.join(' AND ')}` : ''} ORDER BY id ${order} LIMIT ${limit}`;
    // a user's rows: "key_id IN (...)" cannot walk one index in id order, so PostgreSQL would
    // sort every row of the user's keys; each key's newest `limit` instead, merged, stop early
    const text =
      user === undefined || q.key !== undefined
        ? listing(where)
        : `SELECT l.* FROM keys k CROSS JOIN LATERAL (${listing(
            where.map((t) => (t === user.term ? 'key_id = k.id' : t)),
          )}) l WHERE k.user_id = ${user.param} ORDER BY l.id ${order} LIMIT ${limit}`;
    const rows = await this.sql.unsafe<LogDbRow[]>(text, values, { prepare: true });
    return rows.map(logFromRow);
  }

  /**
   * The WHERE terms of a log query's filters (key, channel, user, model, errors, since), shared
   * with the export's pages; `user` is the term that limits rows to the user's keys.
   */
  async filters(
    q: LogFilters,
    param: (v: Value) => string,
  ): Promise<{ where: string[]; user?: { term: string; param: string } }> {
    const where: string[] = [];
    let user: { term: string; param: string } | undefined;
    await this.refFilter(where, param, 'key', q.key, this.keyId);
    await this.refFilter(where, param, 'channel', q.channel, this.channelId);
    if (q.user !== undefined) {
      const userId = await this.userId(q.user);
      if (userId === undefined)
        throw new BcError('NOT_FOUND', `user "${q.user}" not found: see \`bc user list\``);
      const p = param(userId);
      user = { term: `key_id IN (SELECT id FROM keys WHERE user_id = ${p})`, param: p };
      where.push(user.term);
    }
    if (q.model !== undefined) where.push(`model = ${param(q.model)}`);
    if (q.errors === true) where.push('status >= 400');
    if (q.since !== undefined) where.push(`time >= ${param(normaliseTime(q.since, 'since'))}`);
    return user === undefined ? { where } : { where, user };
  }

  /** Usage since a time, from the rollups and the log rows of the window's partial edge. */
  async usage(by: UsageDimension, sinceIso: string): Promise<UsageAggregate[]> {
    return this.rollups.usage(by, normaliseTime(sinceIso, 'since'));
  }

  /** One user's usage (GET /bc/v1/me/usage), as sqlite/tenant-queries.ts. */
  async userUsage(q: UserUsageQuery): Promise<UsageAggregate[]> {
    return this.rollups.userUsage(q.by, normaliseTime(q.since, 'since'), q.userId, q.keyId);
  }

  async countRequests(): Promise<number> {
    const [row] = await this.sql<{ n: number }[]>`SELECT COUNT(*) AS n FROM logs`;
    return row?.n ?? 0;
  }

  /** A reference still in the catalog filters by id (survives renames); else by what was logged. */
  private async refFilter(
    where: string[],
    param: (v: Value) => string,
    what: 'key' | 'channel',
    ref: string | undefined,
    resolve: AsyncIdResolver,
  ): Promise<void> {
    if (ref === undefined) return;
    const id = await resolve(ref);
    if (id !== undefined) {
      where.push(`${what}_id = ${param(id)}`);
    } else if (/^\d+$/.test(ref) && Number.isSafeInteger(Number(ref))) {
      // gone from the catalog (a deleted channel): its number may be a logged name or a logged id
      where.push(`(${what}_name = ${param(ref)} OR ${what}_id = ${param(Number(ref))})`);
    } else {
      where.push(`${what}_name = ${param(ref)}`);
    }
  }
}

function clampLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_LOG_LIMIT;
  return Math.min(MAX_LOG_LIMIT, Math.max(1, Math.floor(limit)));
}
