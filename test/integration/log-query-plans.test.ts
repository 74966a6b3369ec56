// `bc logs` at size (issue 18): each listing the CLI and TUIs run (newest, by key, by model, by
// channel, errors only, by user) is answered by walking one index in id order and stopping at the
// limit. The statements the log tables really run are captured and explained: on SQLite the plan
// names the index and neither scans the log nor sorts it; on PostgreSQL (sequential scans priced
// out, 20,000 rows analysed) it names the index and has no Seq Scan of logs. A user's listing is
// also checked for content: each key's newest rows merged, newest or (after_id) oldest first.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LogQuery } from '../../src/shared/control-api.js';
import { connectPostgres, type Sql } from '../../src/daemon/store/postgres/connection.js';
import { PgLogTable } from '../../src/daemon/store/postgres/logs.js';
import { migratePostgres } from '../../src/daemon/store/postgres/migrate.js';
import { openSqliteDatabase, type Db } from '../../src/daemon/store/sqlite/database.js';
import { LogTable } from '../../src/daemon/store/sqlite/logs.js';
import { freshPgDatabase } from '../support/stores.js';

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

// user 1 owns keys 1 and 2; key 3 is an operator key (on PostgreSQL logs name 2,000 more)
const T = '2026-01-01T00:00:00.000Z';
const SCHEMA_ROWS = `INSERT INTO users (id, name, created_at, updated_at) VALUES (1, 'ann', '${T}', '${T}');
  INSERT INTO keys (id, name, prefix, hash, status, created_at, user_id) VALUES
    (1, 'k1', 'p1', 'h1', 'enabled', '${T}', 1), (2, 'k2', 'p2', 'h2', 'enabled', '${T}', 1),
    (3, 'k3', 'p3', 'h3', 'enabled', '${T}', NULL);`;

const resolve = (ref: string): number | undefined =>
  ref === 'ann' ? 1 : /^\d+$/.test(ref) ? Number(ref) : undefined;

/** The listings whose plans matter, with the index each must use. */
const LISTINGS: [what: string, q: LogQuery, sqliteIndex: string | null, pgIndex: string][] = [
  ['newest', {}, null, 'logs_pkey'],
  ['by key', { key: '1' }, 'logs_key_id', 'logs_key_id'],
  ['by model', { model: 'm-rare' }, 'logs_model', 'logs_model'],
  ['by channel', { channel: '7' }, 'logs_channel_id', 'logs_channel_id'],
  ['errors only', { errors: true }, 'logs_errors', 'logs_errors'],
  ['by user', { user: '1' }, 'logs_key_id', 'logs_key_id'],
];

describe('SQLite', () => {
  function table(): { db: Db; logs: LogTable; ran: { sql: string; params: unknown }[] } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-plans-'));
    const db = openSqliteDatabase(path.join(dir, 'bc.db'));
    cleanups.push(() => {
      db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });
    db.exec(SCHEMA_ROWS);
    const ran: { sql: string; params: unknown }[] = [];
    const prepare = db.prepare.bind(db);
    // every statement prepared from here on records what it ran with
    db.prepare = ((sql: string) => {
      const stmt = prepare(sql);
      const all = stmt.all.bind(stmt);
      stmt.all = (params: unknown) => {
        ran.push({ sql, params });
        return all(params);
      };
      return stmt;
    }) as typeof db.prepare;
    return { db, logs: new LogTable(db, resolve, resolve, resolve), ran };
  }

  it.each(LISTINGS)('%s walks its index in id order, no scan, no sort', (_what, q, index) => {
    const { db, logs, ran } = table();
    logs.query(q);
    const listings = ran.filter((r) => /^SELECT (\*|id) FROM logs/.test(r.sql));
    expect(listings.length).toBeGreaterThan(0);
    for (const { sql, params } of listings) {
      const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params as never) as { detail: string }[])
        .map((r) => r.detail)
        .filter((d) => !/keys/.test(d));
      if (index === null) expect(plan).toEqual(['SCAN logs']);
      // a user's listing then reads only the rows it shows, by id
      else if (sql.includes('json_each'))
        expect(plan).toContain('SEARCH logs USING INTEGER PRIMARY KEY (rowid=?)');
      else {
        expect(plan.join('\n')).toMatch(new RegExp(`USING (COVERING )?INDEX ${index}\\b`));
        expect(plan.join('\n')).not.toMatch(/SCAN logs$|TEMP B-TREE/m);
      }
    }
  });

  it("a user's rows are each key's newest merged, newest first, oldest first after an id", () => {
    const { db, logs } = table();
    insertRows(db, [1, 2, 3, 2, 1, 1, 3, 2]);
    const ids = (q: LogQuery): number[] => logs.query(q).map((r) => r.id);
    expect(ids({ user: '1', limit: 4 })).toEqual([8, 6, 5, 4]);
    expect(ids({ user: 'ann', limit: 100 })).toEqual([8, 6, 5, 4, 2, 1]);
    expect(ids({ user: '1', after_id: 2, limit: 3 })).toEqual([4, 5, 6]);
    expect(ids({ user: '1', key: '2', limit: 100 })).toEqual([8, 4, 2]);
  });
});

function insertRows(db: Db, keys: number[]): void {
  const insert = db.prepare(`INSERT INTO logs (id, request_id, time, key_id, model, endpoint, status)
    VALUES (?, ?, ?, ?, 'm', 'chat', 200)`);
  keys.forEach((k, i) =>
    insert.run(i + 1, `r${i + 1}`, new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), k),
  );
}

describe('PostgreSQL', () => {
  it.each(LISTINGS)('%s walks its index in id order, no Seq Scan of logs', async (_what, q, _s, index) => {
    const sql = connectPostgres(await freshPgDatabase(), { max: 1 });
    cleanups.push(() => sql.end({ timeout: 5 }));
    await migratePostgres(sql, 'test db');
    await sql.unsafe(SCHEMA_ROWS).simple();
    // 20,000 rows, most over 2,000 other keys (ids only); user 1's keys, model m-rare and channel 7 are
    // 1 in 1,000 each, errors 1 in 50: filtered rows are rare, as in a big log
    await sql`INSERT INTO logs (request_id, time, key_id, channel_id, model, endpoint, status)
      SELECT 'r' || g, to_char(timestamp '2026-01-01' + g * interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        CASE g % 1000 WHEN 1 THEN 1 WHEN 2 THEN 2 ELSE g % 2000 + 3 END, CASE WHEN g % 1000 = 0 THEN 7 ELSE 1 END,
        CASE WHEN g % 1000 = 0 THEN 'm-rare' ELSE 'm' END, 'chat', CASE WHEN g % 50 = 0 THEN 500 ELSE 200 END
      FROM generate_series(1, 20000) g`;
    await sql`ANALYZE logs`;
    const ran: { text: string; values: unknown[] }[] = [];
    const spy = {
      unsafe: (text: string, values: unknown[], opts: unknown) => {
        ran.push({ text, values });
        return sql.unsafe(text, values as never, opts as never);
      },
    } as unknown as Sql;
    const logs = new PgLogTable(
      spy,
      async (r) => resolve(r),
      async (r) => resolve(r),
      async (r) => resolve(r),
    );
    // fewer than each filter's 20 rows: the limit has to stop the walk
    await logs.query({ ...q, limit: 5 });
    expect(ran).toHaveLength(1);
    const plan = await sql.begin(async (tx) => {
      await tx`SET LOCAL enable_seqscan = off`;
      const rows = await tx.unsafe<{ 'QUERY PLAN': string }[]>(
        `EXPLAIN ${ran[0]!.text}`,
        ran[0]!.values as never,
      );
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    });
    expect(plan).toContain(`using ${index} on logs`);
    expect(plan).not.toMatch(/Seq Scan on logs|Bitmap Heap Scan on logs/);
  });
});
