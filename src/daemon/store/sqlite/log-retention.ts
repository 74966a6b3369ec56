/**
 * Log retention on SQLite: deleting the oldest rows in short batches, counting what a prune would
 * delete, giving the freed pages back to the file system, and the log's figures for `bc status`.
 * Kept apart from logs.ts (the settle and read side). better-sqlite3 runs on the event loop, so
 * each call here is one short transaction; store/retention.ts loops over them with a yield between.
 *
 * The settlement journal and a prune: the store flushes the journal before each batch, so every
 * row settled before it is in the table and none arrives after it. The journal re-applies a line
 * by id (INSERT OR IGNORE) only when it replays its file, and the file is emptied each time
 * everything in it is applied (at most 20 ms after a settlement) and replayed at open, before
 * retention's first run. A replayed line whose row was pruned would be inserted again with its
 * spend, so that would take a journal file that kept applied lines (its truncation failing)
 * for longer than the retention period; with the default 90 days it cannot happen in practice.
 */
import type { LogStats } from '../../../shared/control-api.js';
import type { PrunePreview } from '../types.js';
import type { Db } from './database.js';

/** Up to this many ids between the oldest and newest row, `bc status` counts exactly (a few ms). */
export const EXACT_COUNT_SPAN = 200_000;
/** Pages freed per incremental_vacuum step (8 MiB at 4 KiB pages): one short transaction each. */
const VACUUM_STEP_PAGES = 2048;
/** PRAGMA auto_vacuum's value for INCREMENTAL. */
const AUTO_VACUUM_INCREMENTAL = 2;

export class SqliteLogRetention {
  private readonly deleteOldest;
  private readonly preview;
  private readonly span;
  private readonly count;
  private readonly oldest;

  constructor(private readonly db: Db) {
    // the oldest first, through the logs_time index
    this.deleteOldest = db.prepare<[string, number]>(
      'DELETE FROM logs WHERE id IN (SELECT id FROM logs WHERE time < ? ORDER BY time LIMIT ?)',
    );
    this.preview = db.prepare<[string], PrunePreview>(
      'SELECT COUNT(*) AS rows, MIN(time) AS oldest, MAX(time) AS newest FROM logs WHERE time < ?',
    );
    this.span = db.prepare<[], { lo: number | null; hi: number | null }>(
      'SELECT MIN(id) AS lo, MAX(id) AS hi FROM logs',
    );
    this.count = db.prepare<[], number>('SELECT COUNT(*) FROM logs').pluck();
    this.oldest = db.prepare<[], string | null>('SELECT MIN(time) FROM logs').pluck();
  }

  /** Deletes up to `limit` of the oldest rows before `beforeIso` in one transaction. */
  prune(beforeIso: string, limit: number): number {
    return this.deleteOldest.run(beforeIso, limit).changes;
  }

  previewPrune(beforeIso: string): PrunePreview {
    return this.preview.get(beforeIso) ?? { rows: 0, oldest: null, newest: null };
  }

  /**
   * Frees up to one step of pages at the end of the file (a database made with
   * auto_vacuum=INCREMENTAL: see database.ts); true while more free pages remain. A database
   * from before keeps its free pages for new rows instead (the file stops growing, it does not shrink).
   */
  vacuumStep(): boolean {
    if (Number(this.db.pragma('auto_vacuum', { simple: true })) !== AUTO_VACUUM_INCREMENTAL) return false;
    this.db.pragma(`incremental_vacuum(${VACUUM_STEP_PAGES})`);
    return Number(this.db.pragma('freelist_count', { simple: true })) > 0;
  }

  /** Copies the WAL into the file and empties it, so the -wal file does not keep the space. */
  checkpoint(): void {
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  stats(): LogStats {
    const { lo, hi } = this.span.get() ?? { lo: null, hi: null };
    const span = lo === null || hi === null ? 0 : hi - lo + 1;
    const exact = span <= EXACT_COUNT_SPAN;
    const pages = Number(this.db.pragma('page_count', { simple: true }));
    const pageSize = Number(this.db.pragma('page_size', { simple: true }));
    return {
      rows: exact ? (this.count.get() ?? 0) : span,
      rows_estimated: !exact,
      oldest: this.oldest.get() ?? null,
      bytes: pages * pageSize,
    };
  }
}
