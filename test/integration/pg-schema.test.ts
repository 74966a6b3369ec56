// The shared migration list builds the same schema on both stores (SCALEOUT 2(f)): after each
// migration, applied one at a time, SQLite (pragma table_info) and PostgreSQL (information_schema)
// have the same tables, the same columns in the same order with matching types and nullability,
// and the same indexes, but for the one PostgreSQL-only index migration 6 adds (its comment says
// why).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { connectPostgres, type Sql } from '../../src/daemon/store/postgres/connection.js';
import { migratePostgres } from '../../src/daemon/store/postgres/migrate.js';
import { openSqliteDatabase, type Db } from '../../src/daemon/store/sqlite/database.js';
import { MIGRATIONS } from '../../src/daemon/store/sqlite/migrations.js';
import { freshPgDatabase } from '../support/stores.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

// SQLite's declared type -> PostgreSQL's data_type, as the migrations translate them
const TYPES: Record<string, string> = { INTEGER: 'bigint', TEXT: 'text', REAL: 'double precision' };
// indexes only PostgreSQL has, each with the migration that says why
const PG_ONLY_INDEXES = ['logs.logs_request_id'];

type Column = [table: string, column: string, type: string, notNull: boolean];

it('SQLite and PostgreSQL have the same tables, columns and indexes after each migration', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-schema-'));
  const file = path.join(dir, 'bc.db');
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const sql = connectPostgres(await freshPgDatabase(), { max: 1 });
  cleanups.push(() => sql.end({ timeout: 5 }));
  // one version at a time, as a database upgraded build by build
  for (let n = 1; n <= MIGRATIONS.length; n++) {
    const upTo = MIGRATIONS.slice(0, n);
    await migratePostgres(sql, 'test db', upTo);
    const db = openSqliteDatabase(file, upTo);
    try {
      const [sqlite, pg] = [sqliteSchema(db), await pgSchema(sql)];
      expect({ version: n, ...pg }).toEqual({ version: n, ...sqlite });
      expect(sqlite.columns.length).toBeGreaterThan(20);
    } finally {
      db.close();
    }
  }
});

interface Schema {
  columns: Column[];
  indexes: string[];
}

function sqliteSchema(db: Db): Schema {
  const tables = db
    .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
    .pluck()
    .all() as string[];
  const columns = tables.flatMap((t) =>
    (db.pragma(`table_info("${t}")`) as { name: string; type: string; notnull: number; pk: number }[]).map(
      (c): Column => [t, c.name, TYPES[c.type] ?? `unmapped ${c.type}`, c.notnull === 1 || c.pk === 1],
    ),
  );
  const indexes = db
    .prepare(
      "SELECT tbl_name || '.' || name FROM sqlite_schema WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex_%'",
    )
    .pluck()
    .all() as string[];
  return { columns, indexes: indexes.sort() };
}

async function pgSchema(sql: Sql): Promise<Schema> {
  const rows = await sql<
    { table_name: string; column_name: string; data_type: string; is_nullable: string }[]
  >`
    SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name <> 'schema_migrations'
    ORDER BY table_name COLLATE "C", ordinal_position`;
  const columns = rows.map((c): Column => [c.table_name, c.column_name, c.data_type, c.is_nullable === 'NO']);
  // PostgreSQL names the indexes behind PRIMARY KEY and UNIQUE constraints itself (SQLite's are
  // autoindexes): only the CREATE INDEX ones are compared
  const indexes = await sql<{ name: string }[]>`
    SELECT tablename || '.' || indexname AS name FROM pg_indexes i
    WHERE schemaname = current_schema() AND tablename <> 'schema_migrations'
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`;
  return {
    columns,
    indexes: indexes
      .map((r) => r.name)
      .filter((n) => !PG_ONLY_INDEXES.includes(n))
      .sort(),
  };
}
