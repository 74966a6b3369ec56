/**
 * The export's pages on PostgreSQL: rows of a time window in (time, id) order, each page starting
 * after the last row of the one before (keyset paging on the logs_time (time, id) index), so a
 * page costs the same at the end of the log as at its start and the daemon holds one page at a
 * time. The filters are the listing's (logs.ts).
 */
import type { LogRow } from '../../../shared/control-api.js';
import type { LogCursor } from '../../../shared/log-export.js';
import { logFromRow, type LogDbRow } from '../sqlite/rows.js';
import type { ExportWindow } from '../types.js';
import type { Sql } from './connection.js';
import type { PgLogTable, Value } from './logs.js';

export async function pgExportPage(
  sql: Sql,
  logs: PgLogTable,
  q: ExportWindow,
  after: LogCursor | null,
  limit: number,
): Promise<LogRow[]> {
  const values: Value[] = [];
  const param = (v: Value): string => {
    values.push(v);
    return `$${values.length}`;
  };
  const { where } = await logs.filters(q, param);
  where.push(`time < ${param(q.until)}`);
  if (after !== null) where.push(`(time, id) > (${param(after.time)}, ${param(after.id)})`);
  const text = `SELECT * FROM logs WHERE ${where.join(' AND ')} ORDER BY time, id LIMIT ${param(limit)}`;
  const rows = await sql.unsafe<LogDbRow[]>(text, values, { prepare: true });
  return rows.map(logFromRow);
}
