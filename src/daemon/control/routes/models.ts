/**
 * `GET /v1/models` on the control socket: every model any channel serves (its models and its
 * map's aliases), with the channels behind it, highest priority first, and the upstream model
 * each would be asked for. Disabled channels are listed with their status so nothing is hidden.
 */
import type { FastifyInstance } from 'fastify';
import { ROUTES } from '../../../shared/control-api.js';
import { on, type ControlContext } from '../context.js';
import { modelViews } from '../views.js';

export function modelRoutes(app: FastifyInstance, ctx: ControlContext): void {
  on(app, ROUTES.models, async () => modelViews(await ctx.services.store.listChannels()));
}
