/**
 * The data plane: a Fastify app for the gateway port, on the door's HTTP server (intake.ts:
 * connection cap, time for a request to arrive, body slots). Bodies are kept as raw bytes
 * (passthrough forwards them unchanged; handlers parse JSON themselves), request logging is off on
 * the hot path, and every error the framework raises (body too large, unknown route) is answered
 * in the caller's protocol shape. A body is read only once its request is known to be wanted: the
 * relay lanes check the key first, and so do the Gemini routes here (onRequest, before Fastify's
 * body parser), and a POST to an unknown route is answered 404 unread. No admin route lives here:
 * management is on the control socket only.
 */
import Fastify, {
  LogController,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { BcError } from '../../shared/errors.js';
import type { InboundProtocol } from '../providers/types.js';
import type { DaemonServices } from '../service-types.js';
import { errorPayload, toWireError } from './client-wire.js';
import { keyFromHeaders, newRequestId } from './handler.js';
import { Intake } from './intake/intake.js';
import type { GatewayState } from './state.js';
import { registerOpenAIRoutes } from './routes/openai.js';
import { registerAnthropicRoutes } from './routes/anthropic.js';
import { registerGeminiRoutes } from './routes/gemini.js';
import { registerSystemRoutes } from './routes/system.js';
import { registerSelfServiceRoutes } from './routes/self-service.js';
import { registerPrometheusRoute } from './routes/metrics.js';
import { daemonHealth, daemonHealthPrometheus } from '../lifecycle/daemon-health.js';
import { lazySchemaController } from '../lifecycle/schema-compilers.js';
import { RelayRoutes, refuse, serveRelay, tooLarge } from './lanes.js';
import { isTrusted } from './intake/client-address.js';

/** Fastify routes that relay (Gemini's model paths): their key is checked before their body is read. */
const KEYED_ROUTES = new Set(['/v1beta/models/*', '/v1/models/*']);

export async function buildGatewayApp(services: DaemonServices): Promise<FastifyInstance> {
  const state = services.gateway;
  const bodyLimit = state.options.bodyLimit;
  const intake = new Intake(state.options, services.metrics.transport, newRequestId);
  services.metrics.knowModels((model) => knowsModel(state, model));
  const relayRoutes = new RelayRoutes();
  registerOpenAIRoutes(relayRoutes);
  registerAnthropicRoutes(relayRoutes);
  const app = Fastify({
    // no logger on the app: Fastify would build a child logger per request; the gateway logs
    // through services.logger where something is worth a line
    logController: new LogController({ disableRequestLogging: true }),
    schemaController: lazySchemaController(),
    bodyLimit,
    return503OnClosing: true,
    // req.ip behind trusted proxies, by the same rule as the relay's lanes (intake/client-address.ts)
    ...(state.options.trustedProxies.length > 0
      ? { trustProxy: (address: string) => isTrusted(state.options.trustedProxies, address) }
      : {}),
    clientErrorHandler: intake.onClientError,
    // the relay's fixed-path endpoints are served before Fastify routes anything (lanes.ts)
    serverFactory: (fastifyHandler) =>
      intake.createServer((req, res) => {
        const route = relayRoutes.match(req.method, req.url);
        if (route) serveRelay(state, intake, req, res, route);
        else fastifyHandler(req, res);
      }),
  });
  app.addHook('onRequest', (req, reply, done) => {
    if (guardBody(state, intake, req, reply)) done();
  });
  app.addHook('preParsing', (req, reply, payload, done) => {
    if (!hasBody(req)) done(null, payload);
    else intake.readBody(req.raw, reply.raw, protocolOf(req.url), () => done(null, payload));
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = err.statusCode ?? 500;
    const bc =
      status === 413
        ? tooLarge(bodyLimit)
        : status < 500
          ? new BcError('INVALID_REQUEST', err.message, { status })
          : new BcError('INTERNAL', 'internal error');
    if (status >= 500) services.logger.error({ err }, 'gateway error');
    const { status: code, body } = errorPayload(protocolOf(req.url), toWireError(bc));
    return reply.code(code).header('x-request-id', newRequestId()).send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    const { status, body } = errorPayload(protocolOf(req.url), toWireError(notFound(req.method, req.url)));
    return reply.code(status).header('x-request-id', newRequestId()).send(body);
  });

  registerSystemRoutes(app, state, () => state.accepting);
  registerSelfServiceRoutes(app, services);
  registerGeminiRoutes(app, state);
  registerPrometheusRoute(
    app,
    services.metrics,
    () => services.channelHealth(),
    () => daemonHealthPrometheus(daemonHealth(services)),
  );
  return app;
}

/**
 * Before Fastify reads a body: a relayed route's key must be good, and a POST to an unknown
 * route is refused unread. Answers (and closes) and returns false when the request goes no further.
 */
function guardBody(state: GatewayState, intake: Intake, req: FastifyRequest, reply: FastifyReply): boolean {
  if (!hasBody(req)) return true;
  const protocol = protocolOf(req.url);
  if (req.is404) {
    reply.hijack();
    refuse(reply.raw, protocol, notFound(req.method, req.url));
    return false;
  }
  if (!KEYED_ROUTES.has(req.routeOptions.url ?? '')) return true;
  try {
    keyFromHeaders(state, req.headers, req.url, protocol);
    return true;
  } catch (err) {
    intake.stats.unauthenticated++;
    reply.hijack();
    refuse(reply.raw, protocol, err);
    return false;
  }
}

function hasBody(req: FastifyRequest): boolean {
  const h = req.headers;
  return h['transfer-encoding'] !== undefined || (h['content-length'] ?? '0') !== '0';
}

function notFound(method: string, url: string): BcError {
  return new BcError('NOT_FOUND', `unknown endpoint ${method} ${url.split('?')[0] ?? ''}`);
}

/** A model the gateway knows (a channel serves it or a price names it) gets its own metrics series. */
function knowsModel(state: GatewayState, model: string): boolean {
  const snap = state.snapshot;
  return snap.tiersByModel.has(model) || snap.prices.get(model) !== undefined;
}

function protocolOf(url: string): InboundProtocol {
  if (url.startsWith('/v1/messages')) return 'anthropic';
  if (url.startsWith('/v1beta/') || url.startsWith('/v1/models/')) return 'gemini';
  return 'openai';
}
