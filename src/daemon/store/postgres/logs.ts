/**
 * Request logs in PostgreSQL, the read side. Rows are written, and their spend charged, by the
 * group commit in log-batch.ts. The read side (log queries, usage by model/key/channel/user, one user's usage) is the SQLite
 * queries in PostgreSQL's dialect: SUMs cast back to BIGINT (PostgreSQL sums BIGINT as NUMERIC,
 * which the client would return as a string), NULL costs sorted last as SQLite sorts them, and
 * names compared byte-wise (COLLATE "C") as SQLite's BINARY collation does.
 */
import { BcError } from '../../../shared/errors.js';
import type { LogQuery, LogRow, UsageDimension } from '../../../shared/control-api.js';
import type { UsageAggregate } from '../types.js';
import { DEFAULT_LOG_LIMIT, MAX_LOG_LIMIT, normaliseTime, type LogFilters } from '../sqlite/logs.js';
import { logFromRow, type LogDbRow } from '../sqlite/rows.js';
import type { UserUsageDimension, UserUsageQuery } from '../sqlite/tenant-queries.js';
import type { Sql } from './connection.js';

/** Maps a key, channel or user reference (name or id) to its current id, if it still exists. */
export type AsyncIdResolver = (ref: string) => Promise<number | undefined>;

// a row with tokens but no cost is spend on an unpriced model: counted, never added as $0
const UNPRICED = 'CASE WHEN cost IS NULL AND input_tokens + output_tokens > 0 THEN 1 ELSE 0 END';

const AGGREGATES = `COUNT(*) AS requests,
      SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END)::bigint AS errors,
      SUM(input_tokens)::bigint AS input_tokens, SUM(output_tokens)::bigint AS output_tokens,
      (CASE WHEN COUNT(cost) = 0 AND SUM(${UNPRICED}) > 0 THEN NULL ELSE COALESCE(SUM(cost), 0) END)::bigint AS cost,
      SUM(${UNPRICED})::bigint AS unpriced`;

const USAGE_NAME: Record<UsageDimension, string> = {
  model: 'model',
  key: "COALESCE(key_name, '-')",
  channel: "COALESCE(channel_name, '-')",
  // a key's owner never changes, so a row belongs to the user who owns its key now
  user: "COALESCE(user_name, '-')",
};

// rows with their user's name beside them, for usage by user (operator keys: NULL)
const LOGS_WITH_USER = `(SELECT logs.*, users.name AS user_name FROM logs
  LEFT JOIN keys ON keys.id = logs.key_id LEFT JOIN users ON users.id = keys.user_id
  WHERE logs.time >= $1) AS logs`;

function usageSql(by: UsageDimension): string {
  return `SELECT ${USAGE_NAME[by]} COLLATE "C" AS name, ${AGGREGATES}
    FROM ${by === 'user' ? LOGS_WITH_USER : 'logs WHERE time >= $1'}
    GROUP BY 1 ORDER BY cost DESC NULLS LAST, requests DESC, name`;
}

// tenant-queries.ts's dimensions: a key by its id, named as it is now (keys are never deleted,
// so the name is found; the logged name is the fallback all the same)
const USER_DIMENSION: Record<UserUsageDimension, { name: string; group: string; order: string }> = {
  model: { name: 'model', group: 'model', order: 'cost DESC NULLS LAST, requests DESC, name' },
  key: {
    name: "COALESCE((SELECT name FROM keys WHERE keys.id = logs.key_id), MIN(key_name), '-')",
    group: 'key_id',
    order: 'cost DESC NULLS LAST, requests DESC, name',
  },
  // log times are ISO 8601 UTC, so the first 10 characters are the UTC day
  day: { name: 'substr(time, 1, 10)', group: 'substr(time, 1, 10)', order: 'name' },
};

function userUsageSql(by: UserUsageDimension, oneKey: boolean): string {
  const d = USER_DIMENSION[by];
  return `SELECT (${d.name}) COLLATE "C" AS name, ${AGGREGATES}
    FROM logs
    WHERE time >= $1 AND key_id IN (SELECT id FROM keys WHERE user_id = $2)
      ${oneKey ? 'AND key_id = $3' : ''}
    GROUP BY ${d.group} ORDER BY ${d.order}`;
}

export type Value = string | number | null;

export class PgLogTable {
  constructor(
    private readonly sql: Sql,
    private readonly keyId: AsyncIdResolver,
    private readonly channelId: AsyncIdResolver,
    private readonly userId: AsyncIdResolver,
  ) {}

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

  async usage(by: UsageDimension, sinceIso: string): Promise<UsageAggregate[]> {
    const since = normaliseTime(sinceIso, 'since');
    return this.aggregates(usageSql(by), [since]);
  }

  /** One user's usage (GET /bc/v1/me/usage), as sqlite/tenant-queries.ts. */
  async userUsage(q: UserUsageQuery): Promise<UsageAggregate[]> {
    const values: Value[] = [normaliseTime(q.since, 'since'), q.userId];
    if (q.keyId !== null) values.push(q.keyId);
    return this.aggregates(userUsageSql(q.by, q.keyId !== null), values);
  }

  async countRequests(): Promise<number> {
    const [row] = await this.sql<{ n: number }[]>`SELECT COUNT(*) AS n FROM logs`;
    return row?.n ?? 0;
  }

  private async aggregates(text: string, values: Value[]): Promise<UsageAggregate[]> {
    const rows = await this.sql.unsafe<UsageAggregate[]>(text, values, { prepare: true });
    return rows.map((r) => ({
      name: r.name,
      requests: r.requests,
      errors: r.errors,
      input_tokens: r.input_tokens,
      output_tokens: r.output_tokens,
      cost: r.cost,
      unpriced: r.unpriced,
    }));
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
