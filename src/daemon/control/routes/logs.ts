/**
 * `GET /v1/logs`: request log rows, newest first, filtered by key, model, channel, errors only,
 * time and id (`after_id`, which `bc logs -f` polls with). The newest 100 unless `limit` says.
 * `POST /v1/logs/prune`: `bc logs prune`, one bounded step at a time: it deletes at most
 * `max_rows` rows (in short batches, store/retention.ts) and says whether more remain, so no call
 * holds the store or outlasts the client's timeout and the CLI can show progress between calls.
 */
import type { FastifyInstance } from 'fastify';
import { ROUTES, type LogPruneRequest, type LogPruneResult } from '../../../shared/control-api.js';
import { on, type ControlContext } from '../context.js';
import { validateLogQuery } from '../validate.js';
import * as f from '../validate-fields.js';
import { pruneBefore } from '../../store/retention.js';

/** Rows one prune call deletes at most: well under a second of batches. */
const DEFAULT_PRUNE_STEP = 50_000;

export function logRoutes(app: FastifyInstance, ctx: ControlContext): void {
  on(app, ROUTES.logs, async (req) => ctx.services.store.queryLogs(validateLogQuery(req.query)));

  on(app, ROUTES.logsPrune, async (req): Promise<LogPruneResult> => {
    const p = validatePrune(req.body);
    const store = ctx.services.store;
    if (p.dry_run === true) {
      const preview = await store.previewPrune(p.before);
      return {
        before: p.before,
        dry_run: true,
        deleted: preview.rows,
        oldest: preview.oldest,
        newest: preview.newest,
        more: false,
      };
    }
    const done = await pruneBefore(store, p.before, { maxRows: p.max_rows ?? DEFAULT_PRUNE_STEP });
    return { before: p.before, dry_run: false, deleted: done.deleted, more: done.more };
  });
}

function validatePrune(body: unknown): LogPruneRequest {
  const o = f.bodyObject(body, ['before', 'dry_run', 'max_rows']);
  if (!f.has(o, 'before')) throw f.invalid('before', 'is required (an ISO 8601 time)');
  const p: LogPruneRequest = { before: f.isoTime(o.before, 'before') };
  if (f.has(o, 'dry_run')) p.dry_run = f.bool(o.dry_run, 'dry_run');
  if (f.has(o, 'max_rows')) p.max_rows = f.integer(o.max_rows, 'max_rows', { min: 1 });
  return p;
}
