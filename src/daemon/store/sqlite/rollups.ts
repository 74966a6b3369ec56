/**
 * Usage rollups (issue 18): usage is summed into buckets as requests settle, so `bc usage`, the
 * billing endpoints and a tenant's usage read a few buckets instead of scanning the log.
 *
 * A settlement adds its rows to per-minute buckets (span 1) in the transaction that inserts the
 * rows, counting only rows actually inserted: a journal replayed after SIGKILL, or a request id
 * logged already, adds nothing, and a crash loses the rows and their sums together. As buckets
 * age, `rollUp` moves minutes into hours (span 60) and hours into days (span 1440), one hour or
 * day per transaction: the coarser bucket gets the sums and the finer ones are deleted in the
 * same transaction, so a crash mid-rollup neither loses nor doubles anything. A row settled late
 * into an hour already rolled up starts a new minute bucket, moved into that hour next time.
 *
 * A window [since, now] is read as every bucket starting at or after an edge, plus the log's rows
 * in [since, edge): the edge is the first minute boundary after `since`, or the end of the hour or
 * day bucket holding `since` when that time has been rolled up. Buckets are aligned (a day starts
 * on an hour, an hour on a minute), so no bucket starting at or after the edge reaches before it,
 * and none starting before it reaches after it: the answer is the log scan's to the micro-USD,
 * and stays available for whole buckets after their log rows are deleted.
 *
 * This file holds what both stores share (the bucketing of rows, the edge, the read SQL) and the
 * SQLite statements; postgres/rollups.ts has PostgreSQL's.
 */
import type { UsageDimension } from '../../../shared/control-api.js';
import type { NewLogRow, UsageAggregate } from '../types.js';
import type { Db, Statement } from './database.js';
import type { UserUsageDimension } from './tenant-queries.js';

/** Bucket lengths in minutes. */
export const SPAN = { minute: 1, hour: 60, day: 1440 } as const;

/** How long buckets stay fine-grained: minutes for 48 hours, hours for 90 days, days for good. */
export const KEEP_MINUTES_MS = 48 * 3600_000;
export const KEEP_HOURS_MS = 90 * 86400_000;

/** The bucket key's columns and the summed ones, in the order `BucketSums.rows` gives them. */
export const KEY_COLUMNS = ['bucket', 'key_id', 'key_name', 'channel_name', 'model'] as const;
export const SUM_COLUMNS = [
  'requests',
  'errors',
  'input_tokens',
  'output_tokens',
  'cost',
  'priced',
  'unpriced',
] as const;

type BucketRow = [string, number, string, string, string, ...number[]];

/** Per-minute sums of a batch's inserted rows, one entry per bucket. */
export class BucketSums {
  private readonly buckets = new Map<string, BucketRow>();

  /** Adds one inserted row (`time` as logged, ISO 8601 UTC; `cost` as logged, rounded). */
  add(row: NewLogRow, time: string, cost: number | null): void {
    const minute = time.slice(0, 16);
    const keyName = row.key ?? '-';
    const channelName = row.channel ?? '-';
    const id = `${minute}\0${row.key_id ?? 0}\0${keyName}\0${channelName}\0${row.model}`;
    let b = this.buckets.get(id);
    if (b === undefined) {
      b = [minute, row.key_id ?? 0, keyName, channelName, row.model, 0, 0, 0, 0, 0, 0, 0];
      this.buckets.set(id, b);
    }
    b[5] = b[5]! + 1;
    if (row.status >= 400) b[6] = b[6]! + 1;
    b[7] = b[7]! + row.input_tokens;
    b[8] = b[8]! + row.output_tokens;
    if (cost !== null) {
      b[9] = b[9]! + cost;
      b[10] = b[10]! + 1;
    } else if (row.input_tokens + row.output_tokens > 0) b[11] = b[11]! + 1;
  }

  get size(): number {
    return this.buckets.size;
  }

  /** The buckets sorted by key (several PostgreSQL writers then lock them in one order). */
  rows(): BucketRow[] {
    return [...this.buckets.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
  }
}

/** The read window: buckets from `edge` (a minute, YYYY-MM-DDTHH:MM) on, log rows in [since, edgeTime). */
export interface UsageWindow {
  since: string;
  edge: string;
  edgeTime: string;
}

/** The hour and day buckets that would hold `since`, when it is not their first instant. */
export function straddling(since: string): { hour: string | null; day: string | null } {
  const ms = Date.parse(since);
  return {
    hour: ms % 3600_000 === 0 ? null : `${since.slice(0, 13)}:00`,
    day: ms % 86400_000 === 0 ? null : `${since.slice(0, 10)}T00:00`,
  };
}

/** The window, given which of `straddling(since)`'s buckets exist (as span, bucket). */
export function usageWindow(since: string, found: { span: number; bucket: string }[]): UsageWindow {
  const ms = Date.parse(since);
  let edgeMs = Math.ceil(ms / 60_000) * 60_000;
  for (const f of found) edgeMs = Math.max(edgeMs, Date.parse(`${f.bucket}:00.000Z`) + f.span * 60_000);
  const edgeTime = new Date(edgeMs).toISOString();
  return { since, edge: edgeTime.slice(0, 16), edgeTime };
}

/** How a dialect writes a parameter, a sum and a name; SQLite's and PostgreSQL's differ. */
export interface Dialect {
  param: (name: 'since' | 'edge' | 'edgeTime' | 'user' | 'key') => string;
  /** a SUM as an integer (PostgreSQL sums BIGINT as NUMERIC) */
  sum: (expr: string) => string;
  /** names compared byte-wise, as SQLite's BINARY collation */
  collate: string;
  /** NULL costs last when sorting by cost descending, as SQLite does */
  nullsLast: string;
}

export const SQLITE: Dialect = {
  param: (n) => `@${n}`,
  sum: (e) => `SUM(${e})`,
  collate: '',
  nullsLast: '',
};

// the summed columns of a log row, as a bucket holds them
const ROW_SUMS = `1 AS requests, CASE WHEN status >= 400 THEN 1 ELSE 0 END AS errors,
  input_tokens, output_tokens, COALESCE(cost, 0) AS cost, CASE WHEN cost IS NULL THEN 0 ELSE 1 END AS priced,
  CASE WHEN cost IS NULL AND input_tokens + output_tokens > 0 THEN 1 ELSE 0 END AS unpriced`;

// a window's spend is unknown (NULL) when it has unpriced rows and no priced one, never $0
function aggregates(d: Dialect): string {
  return `${d.sum('requests')} AS requests, ${d.sum('errors')} AS errors,
    ${d.sum('input_tokens')} AS input_tokens, ${d.sum('output_tokens')} AS output_tokens,
    CASE WHEN SUM(priced) = 0 AND SUM(unpriced) > 0 THEN NULL ELSE ${d.sum('cost')} END AS cost,
    ${d.sum('unpriced')} AS unpriced`;
}

// the buckets of the window and the rows of its partial edge, with the same columns
function windowRows(
  d: Dialect,
  bucketCols: string,
  logCols: string,
  bucketWhere = '',
  logWhere = '',
): string {
  return `SELECT ${bucketCols}, ${SUM_COLUMNS.join(', ')} FROM usage_rollups
      WHERE span IN (1, 60, 1440) AND bucket >= ${d.param('edge')} ${bucketWhere}
    UNION ALL
    SELECT ${logCols}, ${ROW_SUMS} FROM logs
      WHERE time >= ${d.param('since')} AND time < ${d.param('edgeTime')} ${logWhere}`;
}

const USAGE_NAME: Record<UsageDimension, { bucket: string; log: string }> = {
  model: { bucket: 'model', log: 'model' },
  key: { bucket: 'key_name', log: "COALESCE(key_name, '-')" },
  channel: { bucket: 'channel_name', log: "COALESCE(channel_name, '-')" },
  // a key's owner never changes, so a row belongs to the user who owns its key now
  user: { bucket: 'key_id', log: 'key_id' },
};

/** `usage(by, since)`: the window's sums by model, logged key name, logged channel name or user. */
export function usageSql(d: Dialect, by: UsageDimension): string {
  const n = USAGE_NAME[by];
  const rows = windowRows(d, `${n.bucket} AS name`, `${n.log} AS name`);
  const from =
    by === 'user'
      ? `(SELECT users.name AS name, u.requests, u.errors, u.input_tokens, u.output_tokens, u.cost, u.priced,
          u.unpriced FROM (${rows}) AS u
          LEFT JOIN keys ON keys.id = u.name LEFT JOIN users ON users.id = keys.user_id) AS w`
      : `(${rows}) AS w`;
  const name = by === 'user' ? "COALESCE(name, '-')" : 'name';
  return `SELECT ${name}${d.collate} AS name, ${aggregates(d)} FROM ${from}
    GROUP BY 1 ORDER BY cost DESC${d.nullsLast}, requests DESC, name`;
}

// tenant-queries.ts's dimensions: a key by its id, named as it is now (keys are never deleted,
// so the name is found; the logged name is the fallback all the same)
const USER_DIMENSION: Record<UserUsageDimension, { name: string; group: string; byCost: boolean }> = {
  model: { name: 'model', group: 'model', byCost: true },
  key: {
    name: "COALESCE((SELECT name FROM keys WHERE keys.id = w.key_id), MIN(key_name), '-')",
    group: 'key_id',
    byCost: true,
  },
  // log times are ISO 8601 UTC, so the first 10 characters are the UTC day, as of a bucket
  day: { name: 'day', group: 'day', byCost: false },
};

/** One user's usage (`GET /bc/v1/me/usage`): their keys' sums, or one key's, by model, key or day. */
export function userUsageSql(d: Dialect, by: UserUsageDimension, oneKey: boolean): string {
  const dim = USER_DIMENSION[by];
  const mine = `AND key_id IN (SELECT id FROM keys WHERE user_id = ${d.param('user')})${oneKey ? ` AND key_id = ${d.param('key')}` : ''}`;
  const rows = windowRows(
    d,
    'key_id, key_name, model, substr(bucket, 1, 10) AS day',
    "key_id, COALESCE(key_name, '-'), model, substr(time, 1, 10)",
    mine,
    mine,
  );
  const order = dim.byCost ? `cost DESC${d.nullsLast}, requests DESC, name` : 'name';
  return `SELECT (${dim.name})${d.collate} AS name, ${aggregates(d)} FROM (${rows}) AS w
    GROUP BY ${dim.group} ORDER BY ${order}`;
}

/** The last minute of the hour or day starting at `bucket` (a range's inclusive end). */
export function lastMinute(bucket: string, span: number): string {
  return span === SPAN.hour ? `${bucket.slice(0, 13)}:59` : `${bucket.slice(0, 10)}T23:59`;
}

/** Where a finer bucket goes: its hour, or its day. */
export function coarser(bucket: string, span: number): string {
  return span === SPAN.hour ? `${bucket.slice(0, 13)}:00` : `${bucket.slice(0, 10)}T00:00`;
}

/** Rollup cut-offs at `now`: minutes before the first, hours before the second are moved up. */
export function cutoffs(nowMs: number): { span: number; into: number; before: string }[] {
  const hour = new Date(nowMs - KEEP_MINUTES_MS).toISOString();
  const day = new Date(nowMs - KEEP_HOURS_MS).toISOString();
  return [
    { span: SPAN.minute, into: SPAN.hour, before: `${hour.slice(0, 13)}:00` },
    { span: SPAN.hour, into: SPAN.day, before: `${day.slice(0, 10)}T00:00` },
  ];
}

const ADD_SUMS = SUM_COLUMNS.map((c) => `${c} = usage_rollups.${c} + excluded.${c}`).join(', ');
const ALL_COLUMNS = ['span', ...KEY_COLUMNS, ...SUM_COLUMNS].join(', ');
const CONFLICT = `ON CONFLICT (span, ${KEY_COLUMNS.join(', ')}) DO UPDATE SET ${ADD_SUMS}`;

/** SQLite's buckets: the settlement's upsert, the window's edge, the rollup. */
export class SqliteRollups {
  private readonly upsert;
  private readonly found;
  private readonly oldest;
  private readonly moveUp;
  private readonly drop;
  private readonly moveTx;
  private readonly readTx;

  constructor(db: Db) {
    this.upsert = db.prepare<BucketRow>(
      `INSERT INTO usage_rollups (${ALL_COLUMNS}) VALUES (1, ${[...KEY_COLUMNS, ...SUM_COLUMNS].map(() => '?').join(', ')})
       ${CONFLICT}`,
    );
    this.found = db.prepare<[string, string], { span: number; bucket: string }>(
      `SELECT span, bucket FROM usage_rollups WHERE (span = 60 AND bucket = ?) OR (span = 1440 AND bucket = ?)
       GROUP BY span, bucket`,
    );
    this.oldest = db
      .prepare<[number, string], string | null>(
        'SELECT MIN(bucket) FROM usage_rollups WHERE span = ? AND bucket < ?',
      )
      .pluck();
    this.moveUp = db.prepare<[number, string, number, string, string]>(
      `INSERT INTO usage_rollups (${ALL_COLUMNS})
       SELECT ?, ?, key_id, key_name, channel_name, model, ${SUM_COLUMNS.map((c) => `SUM(${c})`).join(', ')}
       FROM usage_rollups WHERE span = ? AND bucket >= ? AND bucket <= ?
       GROUP BY key_id, key_name, channel_name, model
       ${CONFLICT}`,
    );
    this.drop = db.prepare<[number, string, string]>(
      'DELETE FROM usage_rollups WHERE span = ? AND bucket >= ? AND bucket <= ?',
    );
    this.readTx = db.transaction((read: () => unknown) => read());
    this.moveTx = db.transaction((span: number, into: number, from: string): void => {
      const to = coarser(from, into);
      const last = lastMinute(to, into);
      this.moveUp.run(into, to, span, to, last);
      this.drop.run(span, to, last);
    });
  }

  /** Adds a batch's sums (inside the caller's transaction, the one inserting its rows). */
  add(sums: BucketSums): void {
    for (const r of sums.rows()) this.upsert.run(...r);
  }

  /**
   * Runs a read in one transaction: the window's edge and its sums from one snapshot, so another
   * process's rollup (bc daemon --workers) committing in between cannot move rows across the edge.
   */
  snapshot<T>(read: () => T): T {
    return this.readTx(read) as T;
  }

  window(since: string): UsageWindow {
    const s = straddling(since);
    if (s.hour === null && s.day === null) return usageWindow(since, []);
    return usageWindow(since, this.found.all(s.hour ?? '', s.day ?? ''));
  }

  /**
   * Moves aged minutes into hours and aged hours into days, one hour or day per transaction;
   * returns how many hours and days were rolled up.
   */
  rollUp(nowMs: number): number {
    let moved = 0;
    for (const c of cutoffs(nowMs)) {
      for (let from = this.oldest.get(c.span, c.before); from; from = this.oldest.get(c.span, c.before)) {
        this.moveTx.immediate(c.span, c.into, from);
        moved += 1;
      }
    }
    return moved;
  }
}

/** Prepared read statements, one per query shape, made on first use. */
export class StatementCache<P extends unknown[]> {
  private readonly statements = new Map<string, Statement<P, UsageAggregate>>();

  constructor(private readonly db: Db) {}

  get(sql: string): Statement<P, UsageAggregate> {
    let stmt = this.statements.get(sql);
    if (stmt === undefined) {
      stmt = this.db.prepare<P, UsageAggregate>(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }
}
