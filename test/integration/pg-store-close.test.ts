/**
 * Closing a PostgreSQL store that holds the daemon lock (store/postgres/store.ts): close() gives
 * the lock's reserved connection back before ending the pool, so it returns at once instead of
 * after the pool's 5 s end timeout (every stop of a daemon on PostgreSQL, and every PostgreSQL
 * half of the store matrix, waited those 5 s), and the next daemon may take the lock.
 */
import { describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/daemon/store/postgres/store.js';
import { freshPgDatabase } from '../support/stores.js';

// the pool's end timeout is 5 s: a close that waited for it takes at least that long
const WELL_BELOW_THE_END_TIMEOUT_MS = 3000;

describe('a PostgreSQL store holding the daemon lock', () => {
  it.each(['exclusive', 'clustered'] as const)(
    'closes well before the pool end timeout (%s), and the lock is free after',
    async (mode) => {
      const url = await freshPgDatabase();
      const store = await openPostgresStore(url, { max: 2, [mode]: true });
      const started = Date.now();
      await store.close();
      expect(Date.now() - started).toBeLessThan(WELL_BELOW_THE_END_TIMEOUT_MS);
      const next = await openPostgresStore(url, { max: 2, exclusive: true });
      await next.close();
    },
  );
});
