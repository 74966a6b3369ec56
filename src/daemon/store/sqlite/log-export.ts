/**
 * The export's pages on SQLite: rows of a time window in (time, id) order, each page starting
 * after the last row of the one before (keyset paging), so a page costs the same at the end of a
 * 100-million-row log as at its start and the daemon holds one page at a time. The time index
 * (time, then the rowid) is named: with a filter SQLite could otherwise pick the filter's index
 * and sort every matching row for every page.
 */
import type { LogRow } from '../../../shared/control-api.js';
import type { LogCursor } from '../../../shared/log-export.js';
import type { ExportWindow } from '../types.js';
import type { Db, Statement } from './database.js';
import type { LogTable } from './logs.js';
import { logFromRow, type LogDbRow, type Params } from './rows.js';

export class LogExportPages {
  private readonly statements = new Map<string, Statement<[Params], LogDbRow>>();

  constructor(
    private readonly db: Db,
    private readonly logs: LogTable,
  ) {}

  page(q: ExportWindow, after: LogCursor | null, limit: number): LogRow[] {
    const { where, params } = this.logs.filters(q);
    where.push('time < @until');
    params.until = q.until;
    if (after !== null) {
      where.push('(time, id) > (@after_time, @after_id)');
      params.after_time = after.time;
      params.after_id = after.id;
    }
    params.limit = limit;
    const sql = `SELECT * FROM logs INDEXED BY logs_time WHERE ${where.join(' AND ')} ORDER BY time, id LIMIT @limit`;
    let stmt = this.statements.get(sql);
    if (stmt === undefined) this.statements.set(sql, (stmt = this.db.prepare<[Params], LogDbRow>(sql)));
    return stmt.all(params).map(logFromRow);
  }
}
