/**
 * The test oracle for the usage rollups (store/sqlite/rollups.ts): usage computed the way it was
 * before the rollups, by scanning the log table, in both dialects. Every rollup answer must equal
 * this scan to the micro-USD for any window the log still holds.
 */
import type Database from 'better-sqlite3';
import type { UsageDimension } from '../../src/shared/control-api.js';
import type { UsageAggregate } from '../../src/daemon/store/types.js';
import type { Sql } from '../../src/daemon/store/postgres/connection.js';

export type UserUsageBy = 'model' | 'key' | 'day';

const UNPRICED = 'CASE WHEN cost IS NULL AND input_tokens + output_tokens > 0 THEN 1 ELSE 0 END';

function aggregates(pg: boolean): string {
  const int = pg ? '::bigint' : '';
  return `COUNT(*) AS requests,
    SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END)${int} AS errors,
    SUM(input_tokens)${int} AS input_tokens, SUM(output_tokens)${int} AS output_tokens,
    (CASE WHEN COUNT(cost) = 0 AND SUM(${UNPRICED}) > 0 THEN NULL ELSE COALESCE(SUM(cost), 0) END)${int} AS cost,
    SUM(${UNPRICED})${int} AS unpriced`;
}

const NAME: Record<UsageDimension, string> = {
  model: 'model',
  key: "COALESCE(key_name, '-')",
  channel: "COALESCE(channel_name, '-')",
  user: "COALESCE(user_name, '-')",
};

function usageSql(by: UsageDimension, pg: boolean, since: string): string {
  const from =
    by === 'user'
      ? `(SELECT logs.*, users.name AS user_name FROM logs
          LEFT JOIN keys ON keys.id = logs.key_id LEFT JOIN users ON users.id = keys.user_id
          WHERE logs.time >= ${since}) AS logs`
      : `logs WHERE time >= ${since}`;
  return `SELECT ${NAME[by]}${pg ? ' COLLATE "C"' : ''} AS name, ${aggregates(pg)} FROM ${from}
    GROUP BY 1 ORDER BY cost DESC${pg ? ' NULLS LAST' : ''}, requests DESC, name`;
}

function userUsageSql(by: UserUsageBy, pg: boolean, oneKey: boolean, p: string[]): string {
  const d = {
    model: { name: 'model', group: 'model', byCost: true },
    key: {
      name: `COALESCE((SELECT name FROM keys WHERE keys.id = logs.key_id), MIN(key_name), '-')`,
      group: 'key_id',
      byCost: true,
    },
    day: { name: 'substr(time, 1, 10)', group: 'substr(time, 1, 10)', byCost: false },
  }[by];
  const order = d.byCost ? `cost DESC${pg ? ' NULLS LAST' : ''}, requests DESC, name` : 'name';
  return `SELECT (${d.name})${pg ? ' COLLATE "C"' : ''} AS name, ${aggregates(pg)} FROM logs
    WHERE time >= ${p[0]} AND key_id IN (SELECT id FROM keys WHERE user_id = ${p[1]})
      ${oneKey ? `AND key_id = ${p[2]}` : ''}
    GROUP BY ${d.group} ORDER BY ${order}`;
}

/** The scan on a store's database: a second SQLite connection, or a PostgreSQL client. */
export type ScanDb = { sqlite: Database.Database } | { pg: Sql };

export async function scanUsage(db: ScanDb, by: UsageDimension, since: string): Promise<UsageAggregate[]> {
  if ('sqlite' in db) return db.sqlite.prepare(usageSql(by, false, '?')).all(since) as UsageAggregate[];
  return plain(await db.pg.unsafe<UsageAggregate[]>(usageSql(by, true, '$1'), [since]));
}

export async function scanUserUsage(
  db: ScanDb,
  q: { userId: number; keyId: number | null; by: UserUsageBy; since: string },
): Promise<UsageAggregate[]> {
  const oneKey = q.keyId !== null;
  if ('sqlite' in db) {
    const values = [q.since, q.userId, ...(oneKey ? [q.keyId] : [])];
    return db.sqlite
      .prepare(userUsageSql(q.by, false, oneKey, ['?', '?', '?']))
      .all(...values) as UsageAggregate[];
  }
  const values = [q.since, q.userId, ...(oneKey ? [q.keyId!] : [])];
  return plain(
    await db.pg.unsafe<UsageAggregate[]>(userUsageSql(q.by, true, oneKey, ['$1', '$2', '$3']), values),
  );
}

function plain(rows: UsageAggregate[]): UsageAggregate[] {
  return rows.map((r) => ({ ...r }));
}
