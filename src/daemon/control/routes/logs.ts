/**
 * `GET /v1/logs`: request log rows, newest first, filtered by key, model, channel, errors only,
 * time and id (`after_id`, which `bc logs -f` polls with). The newest 100 unless `limit` says.
 */
import type { FastifyInstance } from 'fastify';
import { ROUTES } from '../../../shared/control-api.js';
import { on, type ControlContext } from '../context.js';
import { validateLogQuery } from '../validate.js';

export function logRoutes(app: FastifyInstance, ctx: ControlContext): void {
  on(app, ROUTES.logs, async (req) => ctx.services.store.queryLogs(validateLogQuery(req.query)));
}
