/**
 * `GET /v1/usage?by=model|key|channel&since=...`: requests, errors, tokens and cost (micro-USD)
 * per value of one dimension since a time (default: the last 24 hours). Each row carries the
 * value both as `name` and under the dimension's own name.
 */
import type { FastifyInstance } from 'fastify';
import { ROUTES } from '../../../shared/control-api.js';
import { on, type ControlContext } from '../context.js';
import { validateUsageQuery } from '../validate.js';
import { usageRow } from '../views.js';

export function usageRoutes(app: FastifyInstance, ctx: ControlContext): void {
  on(app, ROUTES.usage, async (req) => {
    const { by, since } = validateUsageQuery(req.query);
    const rows = await ctx.services.store.usage(by, since);
    return rows.map((r) => usageRow(by, r));
  });
}
