/**
 * Chooses the Store implementation from the store URL in Paths (`BC_DB`): SQLite (the default, a
 * file in the home folder) or PostgreSQL (`postgres://...`; rows PostgreSQL cannot take wait in
 * `settle-spill.jsonl` in the home folder). On PostgreSQL a daemon is alone on its database
 * (`exclusive`, the default) unless it coordinates with the others through Redis (BC_REDIS).
 */
import fs from 'node:fs';
import path from 'node:path';
import { BcError } from '../../shared/errors.js';
import type { Paths } from '../../shared/paths.js';
import { openSqliteStore } from './sqlite/store.js';
import type { Store } from './types.js';
import { isWorkerFileOf, workerFile, type WorkerIdentity } from '../workers/identity.js';
import { readEntries } from './sqlite/journal.js';

export interface OpenStoreOptions {
  /** alone on a PostgreSQL database (default); false with BC_REDIS: shared with other such daemons */
  exclusive?: boolean;
  /** one of `--workers N`: its own journal or spill file and log ids (workers/identity.ts) */
  worker?: WorkerIdentity | null;
}

export async function openStore(paths: Paths, opts: OpenStoreOptions = {}): Promise<Store> {
  const worker = opts.worker ?? null;
  if (paths.sqliteFile !== undefined) return openSqliteStore(paths.sqliteFile, undefined, worker);
  if (/^postgres(ql)?:\/\//i.test(paths.db)) {
    const { openPostgresStore } = await import('./postgres/store.js');
    const spillFile = path.join(paths.home, 'settle-spill.jsonl');
    try {
      const store = await openPostgresStore(paths.db, {
        spillFile: workerFile(spillFile, worker),
        ...(opts.exclusive === false ? { clustered: true } : { exclusive: true }),
        name: 'burncloud daemon',
      });
      if (worker === null) await adoptWorkerSpills(spillFile, store);
      return store;
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

/**
 * Settles what workers of an earlier run left in their spill files (`settle-spill-w<i>.jsonl`)
 * through this store, and removes each file once every row in it is settled or in this store's
 * own spill file. Settling is idempotent by request id, so a crash in here only repeats it.
 */
async function adoptWorkerSpills(spillFile: string, store: Pick<Store, 'settle'>): Promise<void> {
  const dir = path.dirname(spillFile);
  for (const name of fs.readdirSync(dir)) {
    const file = path.join(dir, name);
    if (!isWorkerFileOf(spillFile, file)) continue;
    for (const { row } of readEntries(file)) await store.settle(row);
    fs.rmSync(file, { force: true });
  }
}

/** The URL is echoed back to the user; a password in it must not be. */
function hidePassword(url: string): string {
  return url.replace(/(\/\/[^:/@]*):[^@/]*@/, '$1:***@');
}
