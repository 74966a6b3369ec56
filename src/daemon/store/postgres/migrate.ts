/**
 * Applies the PostgreSQL form of the shared migration list (sqlite/migrations.ts) to a database,
 * recording each version in `schema_migrations(version, name, applied_at)`. Several daemons may
 * start at once against one database: every migration runs in its own transaction that first
 * takes `pg_advisory_xact_lock(0x42434c44)` ("BCLD") and then re-reads what is applied, so the
 * runners queue behind one another and each version is applied exactly once (PostgreSQL DDL is
 * transactional: a failed migration leaves nothing half-done). A database whose record holds a
 * version this build does not know, or that holds tables but no record, is refused before
 * anything is written, as the SQLite side refuses a newer or foreign file (sqlite/database.ts).
 */
import { BcError } from '../../../shared/errors.js';
import { APPLICATION_ID, MIGRATIONS, type Migration } from '../sqlite/migrations.js';
import type { Sql, TxSql } from './connection.js';

/** The advisory lock every migration transaction holds: the application id, "BCLD". */
export const MIGRATION_LOCK = APPLICATION_ID;

const CREATE_RECORD = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at TEXT NOT NULL
)`;

/**
 * Brings the database up to the latest version of `migrations`; resolves with how many this call
 * applied (0 when another process did them, or nothing was pending). `where` names the database
 * in a refusal (describePostgresUrl: no password).
 */
export async function migratePostgres(
  sql: Sql,
  where: string,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number> {
  const latest = migrations.reduce((v, m) => Math.max(v, m.version), 0);
  const ordered = [...migrations].sort((a, b) => a.version - b.version);
  let applied = 0;
  for (;;) {
    const done = await sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`;
      const have = await appliedVersions(tx, where, latest);
      const next = ordered.find((m) => !have.has(m.version));
      if (next === undefined) return false;
      if (next.postgres === undefined) {
        throw new BcError(
          'STARTUP_FAILED',
          `migration ${next.version} (${next.name}) has no PostgreSQL form: this build cannot use ${where}`,
        );
      }
      await tx.unsafe(next.postgres);
      await tx`INSERT INTO schema_migrations (version, name, applied_at)
        VALUES (${next.version}, ${next.name}, ${new Date().toISOString()})`;
      return true;
    });
    if (!done) return applied;
    applied += 1;
  }
}

/**
 * The versions applied, read under the lock; creates the record on a database that is still
 * empty, and refuses one that is not ours or is newer than this build.
 */
async function appliedVersions(tx: TxSql, where: string, latest: number): Promise<Set<number>> {
  const [state] = await tx<{ record: boolean; tables: number }[]>`
    SELECT to_regclass('schema_migrations') IS NOT NULL AS record,
      (SELECT count(*) FROM pg_tables WHERE schemaname = current_schema())::int AS tables`;
  if (state !== undefined && !state.record) {
    if (state.tables > 0) {
      throw new BcError(
        'STARTUP_FAILED',
        `${where} is not a BurnCloud database (it has tables but no schema_migrations): point BC_DB at an empty database`,
      );
    }
    await tx.unsafe(CREATE_RECORD);
  }
  const rows = await tx<{ version: number }[]>`SELECT version FROM schema_migrations`;
  const versions = new Set(rows.map((r) => r.version));
  const newest = Math.max(0, ...versions);
  if (newest > latest) {
    throw new BcError(
      'STARTUP_FAILED',
      `${where} was written by a newer BurnCloud (schema version ${newest}, this build knows up to ${latest}): upgrade BurnCloud`,
    );
  }
  return versions;
}
