/**
 * The control plane: a Fastify app for the Unix socket, with one route file per noun. It is
 * built, not started: main.ts listens on the socket, tests call `inject()`. Only the socket's
 * permissions (0600, folder 0700) guard it, so nothing here authenticates; the gateway port has
 * no admin route at all.
 */
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { BcError } from '../../shared/errors.js';
import { defaultBaseUrl } from '../registry.js';
import type { Services } from '../service-types.js';
import type { ControlContext, ControlHooks } from './context.js';
import { installErrorHandlers } from './errors.js';
import { channelRoutes } from './routes/channels.js';
import { groupRoutes } from './routes/groups.js';
import { importRoutes } from './routes/import.js';
import { inviteRoutes } from './routes/invites.js';
import { keyRoutes } from './routes/keys.js';
import { lifecycleRoutes } from './routes/lifecycle.js';
import { logRoutes } from './routes/logs.js';
import { logExportRoutes } from './routes/log-export.js';
import { registerMetricsRoutes } from './routes/metrics.js';
import { modelRoutes } from './routes/models.js';
import { priceRoutes } from './routes/prices.js';
import { redeemRoutes } from './routes/redeem.js';
import { statusRoutes } from './routes/status.js';
import { usageRoutes } from './routes/usage.js';
import { userRoutes } from './routes/users.js';
import { lazySchemaController } from '../lifecycle/schema-compilers.js';

export type { ControlHooks } from './context.js';

const BODY_LIMIT = 1024 * 1024;

/** Route files, one per noun. */
const ROUTE_FILES: readonly ((app: FastifyInstance, ctx: ControlContext) => void)[] = [
  statusRoutes,
  lifecycleRoutes,
  channelRoutes,
  keyRoutes,
  userRoutes,
  redeemRoutes,
  priceRoutes,
  groupRoutes,
  modelRoutes,
  logRoutes,
  logExportRoutes,
  usageRoutes,
  importRoutes,
  metricsRoutes,
  inviteRoutes,
];

/** `curl -X POST -H 'content-type: application/json'` without a body is a request without input. */
function acceptEmptyJson(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (e) {
      done(new BcError('INVALID_JSON', `the request body is not valid JSON: ${(e as Error).message}`));
    }
  });
}

/** The monitor routes (`bc top`, /metrics) read the metrics' snapshots and the channels' health. */
function metricsRoutes(app: FastifyInstance, ctx: ControlContext): void {
  const { metrics, clusterMetrics } = ctx.services;
  registerMetricsRoutes(app, metrics, () => ctx.services.channelHealth(), { cluster: clusterMetrics });
}

export async function buildControlApp(
  services: Services,
  hooks: ControlHooks = {},
): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: services.logger,
    // Every CLI call and metrics poll would be a log line; failures are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    schemaController: lazySchemaController(),
    bodyLimit: BODY_LIMIT,
  });
  installErrorHandlers(app);
  acceptEmptyJson(app);
  const ctx: ControlContext = { services, hooks, defaultBaseUrl };
  for (const register of ROUTE_FILES) register(app, ctx);
  return app;
}
