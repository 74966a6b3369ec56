/**
 * Chooses the Store implementation from the store URL in Paths (`BC_DB`). Only SQLite exists in
 * this build; PostgreSQL is recognised so the user gets a clear answer instead of a parse error.
 */
import { BcError } from '../../shared/errors.js';
import type { Paths } from '../../shared/paths.js';
import { openSqliteStore } from './sqlite/store.js';
import type { Store } from './types.js';

export async function openStore(paths: Paths): Promise<Store> {
  if (paths.sqliteFile !== undefined) return openSqliteStore(paths.sqliteFile);
  if (/^postgres(ql)?:\/\//i.test(paths.db)) {
    throw new BcError(
      'STARTUP_FAILED',
      'PostgreSQL store is not available in this build yet (BC_DB=postgres://...): use sqlite, the default',
    );
  }
  throw new BcError(
    'STARTUP_FAILED',
    `unsupported store URL "${hidePassword(paths.db)}" (BC_DB): use sqlite:/path/to/file.db or postgres://user@host/db`,
  );
}

/** The URL is echoed back to the user; a password in it must not be. */
function hidePassword(url: string): string {
  return url.replace(/(\/\/[^:/@]*):[^@/]*@/, '$1:***@');
}
