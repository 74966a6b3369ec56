/**
 * Chooses the Store implementation from the store URL in Paths (`BC_DB`): SQLite (the default, a
 * file in the home folder) or PostgreSQL (`postgres://...`; rows PostgreSQL cannot take wait in
 * `settle-spill.jsonl` in the home folder). On PostgreSQL a daemon is alone on its database
 * (`exclusive`, the default) unless it coordinates with the others through Redis (BC_REDIS).
 */
import path from 'node:path';
import { BcError } from '../../shared/errors.js';
import type { Paths } from '../../shared/paths.js';
import { openSqliteStore } from './sqlite/store.js';
import type { Store } from './types.js';

export interface OpenStoreOptions {
  /** alone on a PostgreSQL database (default); false with BC_REDIS: shared with other such daemons */
  exclusive?: boolean;
}

export async function openStore(paths: Paths, opts: OpenStoreOptions = {}): Promise<Store> {
  if (paths.sqliteFile !== undefined) return openSqliteStore(paths.sqliteFile);
  if (/^postgres(ql)?:\/\//i.test(paths.db)) {
    const { openPostgresStore } = await import('./postgres/store.js');
    try {
      return await openPostgresStore(paths.db, {
        spillFile: path.join(paths.home, 'settle-spill.jsonl'),
        ...(opts.exclusive === false ? { clustered: true } : { exclusive: true }),
        name: 'burncloud daemon',
      });
    } catch (err) {
      if (err instanceof BcError) throw err;
      throw new BcError(
        'STARTUP_FAILED',
        `cannot open ${hidePassword(paths.db)} (BC_DB): ${(err as Error).message}`,
        { cause: err },
      );
    }
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
