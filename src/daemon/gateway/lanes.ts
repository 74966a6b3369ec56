/**
 * The relay's own lane in front of Fastify. Every relayed endpoint with a fixed path (OpenAI's and
 * Anthropic's) is matched here by one map lookup on the raw Node request; its key is checked from
 * the headers before a byte of the body is read (no key, or an unknown one: 401 and the connection
 * closed, so nobody without a key can make the gateway buffer a body); then the body is read into
 * a buffer under the body limit, in one of the door's body slots (intake.ts), and handed to the
 * relay: no Fastify request, reply, hooks or content-type parsing on the hot path. Anything else
 * (Gemini's model paths, the system and metrics routes, unknown routes) goes on to Fastify.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BcError } from '../../shared/errors.js';
import type { InboundProtocol } from '../providers/types.js';
import { errorResponse } from './client-wire.js';
import { handleRelay, keyFromHeaders, newRequestId, pathOf, type SpecBuilder } from './handler.js';
import type { Intake } from './intake/intake.js';
import type { RouteKey } from './snapshot.js';
import type { GatewayState } from './state.js';
import { clientAddress } from './intake/client-address.js';

export interface RelayRoute {
  protocol: InboundProtocol;
  build: SpecBuilder;
}

/** Relayed POST endpoints by exact path. */
export class RelayRoutes {
  private readonly byPath = new Map<string, RelayRoute>();

  post(path: string, protocol: InboundProtocol, build: SpecBuilder): void {
    this.byPath.set(path, { protocol, build });
  }

  match(method: string | undefined, url: string | undefined): RelayRoute | undefined {
    if (method !== 'POST' || url === undefined) return undefined;
    return this.byPath.get(pathOf(url));
  }
}

/**
 * Checks the key from the headers, then reads the body under `limit` bytes and relays; answers
 * (and closes) at once with 401 for a missing or unknown key, 413 above the limit, 503 while
 * draining, none of which reads the body.
 */
export function serveRelay(
  state: GatewayState,
  intake: Intake,
  req: IncomingMessage,
  res: ServerResponse,
  route: RelayRoute,
): void {
  if (!state.accepting) {
    const err = new BcError('INTERNAL', 'the gateway is shutting down: send the request again', {
      status: 503,
    });
    refuse(res, route.protocol, err);
    return;
  }
  let key: RouteKey;
  try {
    key = keyFromHeaders(state, req.headers, req.url ?? '/', route.protocol);
  } catch (err) {
    intake.stats.unauthenticated++;
    refuse(res, route.protocol, err);
    return;
  }
  const limit = state.options.bodyLimit;
  if (Number(req.headers['content-length']) > limit) {
    refuse(res, route.protocol, tooLarge(limit));
    return;
  }
  intake.readBody(req, res, route.protocol, () => readThenRelay(state, req, res, route, key));
}

function readThenRelay(
  state: GatewayState,
  req: IncomingMessage,
  res: ServerResponse,
  route: RelayRoute,
  key: RouteKey,
): void {
  const limit = state.options.bodyLimit;
  const chunks: Buffer[] = [];
  let size = 0;
  const onData = (chunk: Buffer): void => {
    size += chunk.length;
    if (size > limit) {
      req.off('data', onData);
      req.off('end', onEnd);
      refuse(res, route.protocol, tooLarge(limit));
      return;
    }
    chunks.push(chunk);
  };
  const onEnd = (): void => {
    const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
    const url = req.url ?? '/';
    const clientIp = clientAddress(
      req.socket.remoteAddress ?? '',
      req.headers['x-forwarded-for'],
      state.options.trustedProxies,
    );
    const call = { raw, headers: req.headers, url, clientIp, res, key };
    handleRelay(state, call, route.protocol, route.build).catch((err: unknown) => {
      state.logger.error({ err }, 'relay failed outside the request lifecycle');
      if (!res.headersSent) refuse(res, route.protocol, err);
      else res.destroy();
    });
  };
  req.on('data', onData);
  req.on('end', onEnd);
  // a client that hangs up mid-body sent no request: nothing to answer or log
  req.on('error', () => undefined);
}

/** The 413 for a body over the limit, from this lane or from a Fastify route. */
export function tooLarge(limit: number): BcError {
  return new BcError('BODY_TOO_LARGE', `request body is larger than the ${limit} byte limit`);
}

/** An answer before the relay took the request: the body is not read, so the connection closes. */
export function refuse(res: ServerResponse, protocol: InboundProtocol, err: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const { status, headers, body } = errorResponse(protocol, err);
  headers['x-request-id'] = newRequestId();
  headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(body);
}
