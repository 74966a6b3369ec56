/**
 * The control plane: a Fastify app for the Unix socket, with one route file per noun. It is
 * built, not started: main.ts listens on the socket, tests call `inject()`. Only the socket's
 * permissions (0600, folder 0700) guard it, so nothing here authenticates; the gateway port has
 * no admin route at all.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { defaultBaseUrl } from '../providers/registry.js';
import type { Services } from '../services.js';
import type { ControlContext, ControlHooks } from './context.js';
import { installErrorHandlers } from './errors.js';
import { channelRoutes } from './routes/channels.js';
import { groupRoutes } from './routes/groups.js';
import { keyRoutes } from './routes/keys.js';
import { lifecycleRoutes } from './routes/lifecycle.js';
import { logRoutes } from './routes/logs.js';
import { modelRoutes } from './routes/models.js';
import { priceRoutes } from './routes/prices.js';
import { statusRoutes } from './routes/status.js';
import { usageRoutes } from './routes/usage.js';

export type { ControlHooks } from './context.js';

const BODY_LIMIT = 1024 * 1024;

/** Route files, one per noun; the metrics routes join this list when they land. */
const ROUTE_FILES: readonly ((app: FastifyInstance, ctx: ControlContext) => void)[] = [
  statusRoutes,
  lifecycleRoutes,
  channelRoutes,
  keyRoutes,
  priceRoutes,
  groupRoutes,
  modelRoutes,
  logRoutes,
  usageRoutes,
];

export async function buildControlApp(
  services: Services,
  hooks: ControlHooks = {},
): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: services.logger,
    // Every CLI call and metrics poll would be a log line; failures are logged by the error handler.
    disableRequestLogging: true,
    bodyLimit: BODY_LIMIT,
  });
  installErrorHandlers(app);
  const ctx: ControlContext = { services, hooks, defaultBaseUrl };
  for (const register of ROUTE_FILES) register(app, ctx);
  return app;
}
