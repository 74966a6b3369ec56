/**
 * Opens a BurnCloud SQLite file safely: refuses what is not ours (a foreign SQLite database, a
 * corrupt or non-SQLite file, a database from a newer BurnCloud) with a one-line reason before
 * writing anything, sets the pragmas the durability promise rests on (WAL + synchronous=NORMAL:
 * a committed transaction survives SIGKILL of the process), and applies pending migrations in one
 * transaction tracked by `PRAGMA user_version`. Also the write probe the store runs while its
 * disk is failing.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { BcError } from '../../../shared/errors.js';
import { APPLICATION_ID, MIGRATIONS, type Migration } from './migrations.js';
import { describeWriteError } from '../write-health.js';

export type Db = Database.Database;
export type Statement<P extends unknown[], R = unknown> = Database.Statement<P, R>;

const BUSY_TIMEOUT_MS = 5000;

export function openSqliteDatabase(file: string, migrations: readonly Migration[] = MIGRATIONS): Db {
  ensureWritableFolder(path.dirname(file));
  ownerOnly(file);
  let db: Db;
  try {
    db = new Database(file);
  } catch (e) {
    throw openError(file, e);
  }
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    checkIdentity(db, file, latestVersion(migrations));
    // a new file frees the pages of pruned log rows back to the file system (log-retention.ts);
    // SQLite takes this only before the first table exists (an older file would need a VACUUM)
    if (tableCount(db) === 0) db.pragma('auto_vacuum = INCREMENTAL');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    applyMigrations(db, migrations);
    return db;
  } catch (e) {
    db.close();
    throw e instanceof BcError ? e : openError(file, e);
  }
}

/**
 * Commits one small write (a timestamp in bc_meta): null when the database takes writes, else
 * why not, from the error's code (`database or disk is full (SQLITE_FULL)`). The store's probe
 * after a failed write, so it finds out by itself when space returns.
 */
export function probeDatabaseWrite(db: Db): string | null {
  try {
    db.prepare('INSERT OR REPLACE INTO bc_meta (key, value) VALUES (?, ?)').run(
      'write_probe',
      new Date().toISOString(),
    );
    return null;
  } catch (e) {
    return describeWriteError(e);
  }
}

/** bc_meta's record of the migration versions applied, as a JSON array. */
const APPLIED_KEY = 'migrations_applied';

/**
 * Applies every migration the file has not had yet, in version order, all in one transaction.
 * Which ones it had is recorded by version, not only as the highest one (user_version), so a
 * migration whose number lies below one already applied (two written at once, landing in either
 * order) still runs once the build carries it.
 */
export function applyMigrations(db: Db, migrations: readonly Migration[]): number {
  const current = userVersion(db);
  const applied = appliedVersions(db, current);
  const pending = [...migrations]
    .filter((m) => !applied.has(m.version))
    .sort((a, b) => a.version - b.version);
  if (pending.length === 0) return 0;
  db.transaction(() => {
    db.pragma(`application_id = ${APPLICATION_ID}`);
    for (const m of pending) {
      db.exec(m.sql);
      applied.add(m.version);
    }
    db.pragma(`user_version = ${Math.max(current, ...applied)}`);
    if (hasMetaTable(db)) {
      db.prepare('INSERT OR REPLACE INTO bc_meta (key, value) VALUES (?, ?)').run(
        APPLIED_KEY,
        JSON.stringify([...applied].sort((a, b) => a - b)),
      );
    }
  })();
  return pending.length;
}

/** The versions applied: bc_meta's record, or (a file from before it was kept) 1..user_version. */
function appliedVersions(db: Db, current: number): Set<number> {
  const text = hasMetaTable(db)
    ? (db.prepare('SELECT value FROM bc_meta WHERE key = ?').pluck().get(APPLIED_KEY) as string | undefined)
    : undefined;
  if (text !== undefined) return new Set(JSON.parse(text) as number[]);
  return new Set(Array.from({ length: current }, (_, i) => i + 1));
}

function hasMetaTable(db: Db): boolean {
  return (
    db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'bc_meta'").get() !== undefined
  );
}

function checkIdentity(db: Db, file: string, latest: number): void {
  const appId = Number(db.pragma('application_id', { simple: true }));
  if (appId !== APPLICATION_ID) {
    // A brand-new (or empty) file has application_id 0 and no tables: that one we may claim.
    if (appId !== 0 || tableCount(db) > 0) {
      throw new BcError(
        'STARTUP_FAILED',
        `${file} is not a BurnCloud database (application_id 0x${appId.toString(16)}, expected 0x${APPLICATION_ID.toString(16)}): point BC_DB at another file`,
      );
    }
  }
  const version = userVersion(db);
  if (version > latest) {
    throw new BcError(
      'STARTUP_FAILED',
      `${file} was written by a newer BurnCloud (schema version ${version}, this build knows up to ${latest}): upgrade BurnCloud`,
    );
  }
}

/** SQLite's companions of a database file: they get the database file's own mode when created. */
const COMPANIONS = ['', '-wal', '-shm', '-journal'];

/**
 * Makes the database file (created empty if missing) and its companions readable by the owner
 * only, whatever the umask: BC_DB may point outside the 0700 home, and the file holds key hashes,
 * encrypted upstream secrets and every request's log. SQLite creates -wal, -shm and -journal with
 * the database file's mode, so creating that one 0600 covers them; files left group- or
 * world-readable by an older build are narrowed. Anything unexpected is left for the open to report.
 */
function ownerOnly(file: string): void {
  if (file === '' || file === ':memory:' || file.startsWith('file:')) return;
  try {
    fs.closeSync(fs.openSync(file, fs.constants.O_CREAT | fs.constants.O_WRONLY, 0o600));
  } catch {
    return;
  }
  for (const suffix of COMPANIONS) {
    try {
      const st = fs.statSync(file + suffix);
      if (st.isFile() && (st.mode & 0o077) !== 0) fs.chmodSync(file + suffix, st.mode & 0o700);
    } catch {
      // absent (most companions, most of the time), or not ours to change
    }
  }
}

function ensureWritableFolder(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (e) {
    throw new BcError('STARTUP_FAILED', `database folder ${dir} is not writable: ${reason(e)}`, { cause: e });
  }
}

function openError(file: string, e: unknown): BcError {
  const code = e instanceof Database.SqliteError ? e.code : '';
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return new BcError('STARTUP_FAILED', `${file} is not a database file / is corrupt (${reason(e)})`, {
      cause: e,
    });
  }
  return new BcError('STARTUP_FAILED', `cannot open database ${file}: ${reason(e)}`, { cause: e });
}

function tableCount(db: Db): number {
  return Number(db.prepare('SELECT count(*) FROM sqlite_schema').pluck().get());
}

function userVersion(db: Db): number {
  return Number(db.pragma('user_version', { simple: true }));
}

function latestVersion(migrations: readonly Migration[]): number {
  return migrations.reduce((v, m) => Math.max(v, m.version), 0);
}

function reason(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.replace(/\s+/g, ' ').trim();
}
