/**
 * `GET /v1/logs/export` (`bc logs export`, shared/log-export.ts): the log rows of a window, oldest
 * first, one JSON line each, then the trailer line. Rows are read from the store in keyset pages
 * of PAGE_ROWS and a page is read only once the socket has taken the one before (a full socket
 * waits for 'drain'), so a slow reader holds the export back instead of filling the daemon's
 * memory: one page at a time whatever the window's size. The query is checked and the first page
 * read before the answer starts, so bad input is an ordinary error answer; a client that goes away
 * stops the reading, and the daemon's close ends every export still running.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { ROUTES, type LogRow } from '../../../shared/control-api.js';
import { BcError } from '../../../shared/errors.js';
import type { LogCursor, LogExportEnd } from '../../../shared/log-export.js';
import type { ExportWindow } from '../../store/types.js';
import type { ControlContext } from '../context.js';
import * as f from '../validate-fields.js';
import { flag, queryObject, sinceTime } from '../validate-query.js';

/** Rows per store read: one page is what the daemon holds of an export. */
export const PAGE_ROWS = 2000;

const PARAMS = ['key', 'user', 'model', 'channel', 'errors', 'since', 'until'] as const;

export function validateLogExportQuery(query: unknown, now: number): ExportWindow {
  const q = queryObject(query, PARAMS);
  const until = q.until === undefined ? new Date(now).toISOString() : untilTime(q.until, now);
  const out: ExportWindow = { until };
  for (const k of ['key', 'user', 'model', 'channel'] as const)
    if (q[k] !== undefined) out[k] = f.text(q[k], k);
  if (q.errors !== undefined) out.errors = flag(q.errors, 'errors');
  if (q.since !== undefined) {
    out.since = sinceTime(q.since, now);
    if (out.since >= until) throw f.invalid('since', `${out.since} is not before until ${until}`);
  }
  return out;
}

function untilTime(value: string, now: number): string {
  try {
    return sinceTime(value, now);
  } catch {
    throw f.invalid('until', 'must be an ISO 8601 time or a duration back from now such as 1h, 7d');
  }
}

/** Resolves once the socket can take more, or has closed. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

const cursorOf = (row: LogRow): LogCursor => ({ time: row.time, id: row.id });

export function logExportRoutes(app: FastifyInstance, ctx: ControlContext): void {
  const running = new Set<ServerResponse>();
  const url = ROUTES.logsExport.split(' ')[1]!;

  app.get(url, async (req, reply) => {
    const q = validateLogExportQuery(req.query, Date.now());
    const store = ctx.services.store;
    let page = await store.exportLogs(q, null, PAGE_ROWS);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'application/x-ndjson; charset=utf-8',
      'cache-control': 'no-store',
    });
    running.add(res);
    res.on('close', () => running.delete(res));
    let rows = 0;
    try {
      for (;;) {
        if (page.length > 0 && !res.write(page.map((r) => JSON.stringify(r)).join('\n') + '\n'))
          await drained(res);
        if (res.destroyed) return;
        rows += page.length;
        if (page.length < PAGE_ROWS) break;
        page = await store.exportLogs(q, cursorOf(page[page.length - 1]!), PAGE_ROWS);
      }
      const end: LogExportEnd = { end: { rows } };
      res.end(JSON.stringify(end) + '\n');
    } catch (err) {
      const e = err instanceof BcError ? err : new BcError('INTERNAL', (err as Error).message);
      if (!(err instanceof BcError)) app.log.error({ err }, 'log export failed');
      res.end(JSON.stringify({ error: { code: e.code, message: e.message } }) + '\n');
    }
  });

  app.addHook('preClose', async () => {
    for (const res of [...running]) res.destroy();
  });
}
