/**
 * `POST /v1/reload` rebuilds the relay's in-memory snapshots from the store (what SIGHUP does);
 * `POST /v1/shutdown` starts the same graceful stop as SIGTERM, but only once its own answer has
 * been sent, so `bc stop` always hears back before the socket closes.
 */
import type { FastifyInstance } from 'fastify';
import { ROUTES } from '../../../shared/control-api.js';
import { BcError } from '../../../shared/errors.js';
import { on, type ControlContext } from '../context.js';

export function lifecycleRoutes(app: FastifyInstance, ctx: ControlContext): void {
  on(app, ROUTES.reload, async () => {
    await ctx.services.refresh();
    ctx.services.logger.info('reloaded (control request)');
    return { ok: true };
  });

  on(
    app,
    ROUTES.shutdown,
    async () => {
      if (ctx.hooks.requestShutdown === undefined)
        throw new BcError('UNSUPPORTED', 'this daemon cannot be stopped from the socket');
      return { ok: true, pid: process.pid };
    },
    {
      onResponse: (_req, reply, done) => {
        if (reply.statusCode < 300) ctx.hooks.requestShutdown?.();
        done();
      },
    },
  );
}
