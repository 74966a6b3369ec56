/**
 * The data plane: a Fastify app for the gateway port. Bodies are kept as raw bytes (passthrough
 * forwards them unchanged; handlers parse JSON themselves), request logging is off on the hot
 * path, and every error the framework raises (body too large, unknown route) is answered in the
 * caller's protocol shape. No admin route lives here: management is on the control socket only.
 */
import http from 'node:http';
import Fastify, { LogController, type FastifyError, type FastifyInstance } from 'fastify';
import { BcError } from '../../shared/errors.js';
import type { InboundProtocol } from '../providers/types.js';
import type { DaemonServices } from '../services.js';
import { errorPayload, toWireError } from './client-wire.js';
import { newRequestId } from './handler.js';
import { registerOpenAIRoutes } from './routes/openai.js';
import { registerAnthropicRoutes } from './routes/anthropic.js';
import { registerGeminiRoutes } from './routes/gemini.js';
import { registerSystemRoutes } from './routes/system.js';
import { registerPrometheusRoute } from './routes/metrics.js';
import { daemonHealth, daemonHealthPrometheus } from '../lifecycle/daemon-health.js';
import { RelayRoutes, serveRelay, tooLarge } from './lanes.js';

const KEEP_ALIVE_TIMEOUT_MS = 65_000;

export async function buildGatewayApp(services: DaemonServices): Promise<FastifyInstance> {
  const state = services.gateway;
  const bodyLimit = state.options.bodyLimit;
  const relayRoutes = new RelayRoutes();
  registerOpenAIRoutes(relayRoutes);
  registerAnthropicRoutes(relayRoutes);
  const app = Fastify({
    // no logger on the app: Fastify would build a child logger per request; the gateway logs
    // through services.logger where something is worth a line
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit,
    return503OnClosing: true,
    // the relay's fixed-path endpoints are served before Fastify routes anything (lanes.ts)
    serverFactory: (fastifyHandler) => {
      const server = http.createServer((req, res) => {
        const route = relayRoutes.match(req.method, req.url);
        if (route) serveRelay(state, req, res, route, bodyLimit);
        else fastifyHandler(req, res);
      });
      server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
      // streams may run for a long time: no overall request deadline
      server.requestTimeout = 0;
      return server;
    },
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
    const bc = new BcError('NOT_FOUND', `unknown endpoint ${req.method} ${req.url.split('?')[0] ?? ''}`);
    const { status, body } = errorPayload(protocolOf(req.url), toWireError(bc));
    return reply.code(status).header('x-request-id', newRequestId()).send(body);
  });

  registerSystemRoutes(app, state, () => state.accepting);
  registerGeminiRoutes(app, state);
  registerPrometheusRoute(
    app,
    services.metrics,
    () => services.channelHealth(),
    () => daemonHealthPrometheus(daemonHealth(services)),
  );
  return app;
}

function protocolOf(url: string): InboundProtocol {
  if (url.startsWith('/v1/messages')) return 'anthropic';
  if (url.startsWith('/v1beta/') || url.startsWith('/v1/models/')) return 'gemini';
  return 'openai';
}
