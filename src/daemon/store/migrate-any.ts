/**
 * `bc migrate` (SPEC section 9): brings the configured store (BC_DB) to this build's schema,
 * without a daemon. SQLite applies pending migrations in one transaction when the file is opened
 * (sqlite/database.ts); PostgreSQL applies them one transaction each under an advisory lock, so
 * several nodes or a migrate run beside starting daemons never apply one twice
 * (postgres/migrate.ts). Loaded by the CLI only when the command runs.
 */
import { BcError } from '../../shared/errors.js';
import type { Paths } from '../../shared/paths.js';
import { LATEST_VERSION } from './sqlite/migrations.js';

export interface MigrateResult {
  /** the store, password hidden */
  store: string;
  /** migrations this run applied (0: the store was up to date, or another process did them) */
  applied: number;
  /** the schema version the store is at now */
  version: number;
}

export async function migrateStore(paths: Paths): Promise<MigrateResult> {
  if (paths.sqliteFile !== undefined) {
    const { openSqliteDatabase } = await import('./sqlite/database.js');
    const before = await sqliteVersion(paths.sqliteFile);
    // opening checks the file and applies what is pending, in one transaction
    openSqliteDatabase(paths.sqliteFile).close();
    return { store: `sqlite:${paths.sqliteFile}`, applied: LATEST_VERSION - before, version: LATEST_VERSION };
  }
  if (/^postgres(ql)?:\/\//i.test(paths.db)) {
    const { connectPostgres, describePostgresUrl } = await import('./postgres/connection.js');
    const { migratePostgres } = await import('./postgres/migrate.js');
    const where = describePostgresUrl(paths.db);
    const sql = connectPostgres(paths.db, { max: 1, name: 'bc migrate' });
    try {
      const applied = await migratePostgres(sql, where);
      return { store: where, applied, version: LATEST_VERSION };
    } catch (err) {
      if (err instanceof BcError) throw err;
      throw new BcError('STARTUP_FAILED', `cannot migrate ${where}: ${(err as Error).message}`, {
        cause: err,
      });
    } finally {
      await sql.end({ timeout: 5 });
    }
  }
  throw new BcError(
    'STARTUP_FAILED',
    'unsupported store URL (BC_DB): use sqlite:/path/to/file.db or postgres://user@host/db',
  );
}

/** The schema version of a SQLite file (0 when it does not exist yet), read without writing. */
async function sqliteVersion(file: string): Promise<number> {
  const fs = await import('node:fs');
  if (!fs.existsSync(file)) return 0;
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return Number(db.pragma('user_version', { simple: true }));
  } finally {
    db.close();
  }
}
