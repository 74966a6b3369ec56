/**
 * The store matrix for the relay and CLI integration tests (issue 17): a test file runs its suite
 * once on SQLite (the home's burncloud.db, the default) and once on PostgreSQL (a fresh database on
 * the run's server, SPEC section 9) by wrapping it in `eachStore((store) => ...)` and handing
 * `store` to startGateway() / startTestDaemon(): one file, not a copy per store.
 *
 * Opted in: the files whose assertions go through the store (settlement, spend, log rows, budgets,
 * failover and failure rows, the records `bc` reads and writes): relay-openai, relay-admission,
 * relay-failover, stream-failure-rows, budget-clamp, budget-multipliers, budget-pricing,
 * budget-worst-case, cli-key, cli-catalog. Their PostgreSQL halves are what the suite's time
 * allows (issue 17: well within CI's time): each measured from about as long as its SQLite half to
 * about twice (a database created and migrated per gateway or daemon).
 *
 * Left on SQLite only, and why:
 * - cli-channel, cli-invite: channel and invitation records through `bc`; the records and their
 *   errors are the same Store calls store.test.ts and pg-tenants.test.ts prove on PostgreSQL, the
 *   secrets are sealed before the store sees them, and their `bc` runs would cost the suite another
 *   ~30 and ~60 s for no store code they alone reach.
 * - cli-json-errors: how `bc --json` prints an error; the daemon's "not found" comes from the same
 *   Store call cli-key proves on both.
 * - cli-budget-clamp: 100 requests near the end of a budget through `bc`; a daemon alone keeps the
 *   budget in its own memory whatever the store, and the same race on PostgreSQL is
 *   relay-admission's 100 concurrent requests on a budget covering 30 (the `bc` side would add
 *   ~20-30 s).
 * - relay-streams, relay-bytes, relay-deep-json, relay-backpressure, relay-cooldown-retry-after,
 *   protocols-*, *-sim: the bytes on the wire, parsing and back-pressure, and in-memory cooldowns;
 *   the store only holds their channel and key, which the opted-in files already cover.
 * - relay-crash, relay-crash-ordering, tenant-crash: SIGKILL and the SQLite settle journal; the
 *   PostgreSQL side of "a kill loses no settled request" is pg-daemon.test.ts.
 * - cli-lifecycle, cli-migrate, store-file-modes, store-unwritable, full-disk, journal-full-disk,
 *   daemon-instance-lock: they are about the SQLite file itself (its path in `bc status`, its mode,
 *   its disk); the PostgreSQL counterparts are pg-daemon, pg-schema and cli-migrate's own
 *   PostgreSQL case.
 * - the cluster-*, shared-books, redis-coord and pg-* files run on PostgreSQL only already.
 */
import fs from 'node:fs';
import path from 'node:path';
import postgres from 'postgres';
import { describe } from 'vitest';
import { freshPgDatabase } from './stores.js';

export type StoreKind = 'sqlite' | 'postgres';

export const STORE_KINDS: readonly StoreKind[] = ['sqlite', 'postgres'];

/** Runs `suite` once per store kind, as `describe('sqlite store')` and `describe('postgres store')`. */
export function eachStore(suite: (store: StoreKind) => void): void {
  describe.each(STORE_KINDS)('%s store', suite);
}

/** The daemon environment for a store kind: none for SQLite, BC_DB = a fresh database for PostgreSQL. */
export async function storeEnv(store: StoreKind = 'sqlite'): Promise<Record<string, string>> {
  return store === 'postgres' ? { BC_DB: await freshPgDatabase() } : {};
}

/**
 * Everything the store holds, as bytes to search (e.g. for a secret that must never be stored):
 * the SQLite files (database, WAL, shared memory) in `home`, or every row of every table of the
 * PostgreSQL database `db` as text.
 */
export async function storeBytes(home: string, db: string | undefined): Promise<Buffer> {
  if (!db?.startsWith('postgres')) {
    const files = fs.readdirSync(home).filter((f) => f.startsWith('burncloud.db'));
    if (!files.includes('burncloud.db')) throw new Error(`no burncloud.db in ${home}`);
    return Buffer.concat(files.map((f) => fs.readFileSync(path.join(home, f))));
  }
  const sql = postgres(db, { max: 1, onnotice: () => undefined });
  try {
    const tables = await sql<{ name: string }[]>`
      SELECT table_name AS name FROM information_schema.tables
      WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`;
    if (tables.length === 0) throw new Error(`no tables in ${db}`);
    const parts: string[] = [];
    for (const { name } of tables) {
      const rows = await sql<{ row: string }[]>`SELECT t::text AS row FROM ${sql(name)} t`;
      parts.push(...rows.map((r) => r.row));
    }
    return Buffer.from(parts.join('\n'));
  } finally {
    await sql.end();
  }
}
