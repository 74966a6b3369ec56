/**
 * The relay's own lane in front of Fastify. Every relayed endpoint with a fixed path (OpenAI's and
 * Anthropic's) is matched here by one map lookup on the raw Node request, its body read straight
 * into a buffer under the body limit, and handed to the relay: no Fastify request, reply, hooks
 * or content-type parsing on the hot path. Anything else (Gemini's model paths, the system and
 * metrics routes, unknown routes) goes on to Fastify unchanged.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BcError } from '../../shared/errors.js';
import type { InboundProtocol } from '../providers/types.js';
import { errorResponse } from './client-wire.js';
import { handleRelay, newRequestId, pathOf, type SpecBuilder } from './handler.js';
import type { GatewayState } from './state.js';

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

/** Reads the body under `limit` bytes, then relays; answers 413 (and closes) above it, 503 while draining. */
export function serveRelay(
  state: GatewayState,
  req: IncomingMessage,
  res: ServerResponse,
  route: RelayRoute,
  limit: number,
): void {
  if (!state.accepting) {
    const err = new BcError('INTERNAL', 'the gateway is shutting down: send the request again', {
      status: 503,
    });
    refuse(res, route.protocol, err);
    return;
  }
  const declared = Number(req.headers['content-length']);
  if (declared > limit) {
    refuse(res, route.protocol, tooLarge(limit));
    return;
  }
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
    const call = { raw, headers: req.headers, url, clientIp: req.socket.remoteAddress ?? '', res };
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
function refuse(res: ServerResponse, protocol: InboundProtocol, err: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const { status, headers, body } = errorResponse(protocol, err);
  headers['x-request-id'] = newRequestId();
  headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(body);
}
