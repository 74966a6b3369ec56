/**
 * Log retention on PostgreSQL: deleting the oldest rows in short batches, counting what a prune
 * would delete, and the log's figures for `bc status`. Every daemon on the database may run
 * retention; a transaction-scoped advisory lock lets one batch run at a time across all of them,
 * so two daemons never delete the same rows twice over nor contend for the same index pages.
 * The space of deleted rows goes back to PostgreSQL (autovacuum makes it reusable), not to the
 * file system; dropping whole day partitions is the plan (README "Log growth").
 */
import type { LogStats } from '../../../shared/control-api.js';
import type { PrunePreview } from '../types.js';
import { EXACT_COUNT_SPAN } from '../sqlite/log-retention.js';
import type { Sql } from './connection.js';

/** pg_advisory_xact_lock's key for log pruning ("bc-prune" in ASCII, as one bigint). */
const PRUNE_LOCK = 0x62632d7072756e65n;

export class PgLogRetention {
  constructor(private readonly sql: Sql) {}

  /** Deletes up to `limit` of the oldest rows before `beforeIso` in one transaction. */
  async prune(beforeIso: string, limit: number): Promise<number> {
    return this.sql.begin(async (tx) => {
      // waits for another daemon's batch, then sees what it deleted (each statement's snapshot)
      await tx`SELECT pg_advisory_xact_lock(${PRUNE_LOCK.toString()}::bigint)`;
      const deleted = await tx`
        DELETE FROM logs WHERE id IN (
          SELECT id FROM logs WHERE time < ${beforeIso} ORDER BY time LIMIT ${limit})`;
      return deleted.count;
    });
  }

  async previewPrune(beforeIso: string): Promise<PrunePreview> {
    const [row] = await this.sql<PrunePreview[]>`
      SELECT COUNT(*) AS rows, MIN(time) AS oldest, MAX(time) AS newest FROM logs WHERE time < ${beforeIso}`;
    return row ?? { rows: 0, oldest: null, newest: null };
  }

  async stats(): Promise<LogStats> {
    const [row] = await this.sql<
      { lo: number | null; hi: number | null; oldest: string | null; bytes: number }[]
    >`
      SELECT (SELECT MIN(id) FROM logs) AS lo, (SELECT MAX(id) FROM logs) AS hi,
        (SELECT MIN(time) FROM logs) AS oldest, pg_database_size(current_database()) AS bytes`;
    const span = row?.lo == null || row.hi == null ? 0 : row.hi - row.lo + 1;
    const exact = span <= EXACT_COUNT_SPAN;
    let rows = span;
    if (exact) {
      const [c] = await this.sql<{ n: number }[]>`SELECT COUNT(*) AS n FROM logs`;
      rows = c?.n ?? 0;
    }
    return { rows, rows_estimated: !exact, oldest: row?.oldest ?? null, bytes: row?.bytes ?? 0 };
  }
}
