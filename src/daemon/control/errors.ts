/**
 * Every control-plane failure becomes `{ error: { code, message } }` (ControlErrorBody) with the
 * right status: a BcError keeps its status and wire code; Fastify's own request errors (bad JSON,
 * body too large) become 4xx with a matching code; anything else is a 500 whose details go to the
 * log. The CLI prints `message` as is, so messages are written for the user.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import type { ControlErrorBody } from '../../shared/errors.js';
import { isBcError } from '../../shared/errors.js';

export function toControlError(err: unknown): { status: number; body: ControlErrorBody } {
  if (isBcError(err))
    return { status: err.status, body: { error: { code: err.wireCode, message: err.message } } };
  const fe = err as Partial<FastifyError>;
  const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
  if (status >= 400 && status < 500) {
    const code =
      status === 413
        ? 'request_too_large'
        : String(fe.code ?? '').includes('JSON')
          ? 'invalid_json'
          : 'invalid_request';
    return { status, body: { error: { code, message: fe.message ?? 'bad request' } } };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { status: 500, body: { error: { code: 'internal_error', message: `internal error: ${message}` } } };
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err, req, reply) => {
    const { status, body } = toControlError(err);
    if (status >= 500) req.log.error({ err }, 'control request failed');
    void reply.status(status).send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    const body: ControlErrorBody = {
      error: { code: 'not_found', message: `no control route ${req.method} ${req.url.split('?')[0] ?? ''}` },
    };
    void reply.status(404).send(body);
  });
}
