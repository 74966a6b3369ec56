/**
 * Writing to the client in its own protocol: response heads (x-request-id, server-timing, and
 * x-bc-max-tokens when the budget lowered the output limit), bodies, and errors in the OpenAI,
 * Anthropic or Gemini shape (SPEC section 5). The relay writes through these functions only, on
 * the raw Node response (the route hijacked the reply).
 */
import type { OutgoingHttpHeaders } from 'node:http';
import { BcError } from '../../shared/errors.js';
import type { InboundProtocol } from '../providers/types.js';
import type { WireError } from '../inbound/types.js';
import { getCodec } from '../registry.js';
import type { RelayContext } from './context.js';

export function toWireError(err: unknown): WireError {
  if (err instanceof BcError) {
    return {
      status: err.status,
      code: err.wireCode,
      type: err.wireType,
      message: err.message,
      param: err.param,
    };
  }
  return { status: 500, code: 'internal_error', type: 'api_error', message: 'internal error' };
}

/** The error body in the client's protocol. */
export function errorPayload(protocol: InboundProtocol, err: WireError): { status: number; body: unknown } {
  return getCodec(protocol).errorBody(err);
}

function timingHeader(ctx: RelayContext): string {
  const totalMs = Number(process.hrtime.bigint() - ctx.startNs) / 1e6;
  const upstreamMs = Number(ctx.upstreamNs) / 1e6;
  return `gw;dur=${Math.max(0, totalMs - upstreamMs).toFixed(2)}, upstream;dur=${upstreamMs.toFixed(2)}`;
}

/**
 * Sends the response head once. Marks the request committed (no retry after this). `headers` is
 * the caller's own fresh object and is completed in place (no copy on every response).
 */
export function writeHead(ctx: RelayContext, status: number, headers: OutgoingHttpHeaders): void {
  if (ctx.res.headersSent) return;
  ctx.committed = true;
  headers['x-request-id'] = ctx.requestId;
  headers['server-timing'] = timingHeader(ctx);
  if (ctx.outputLimit !== null) headers['x-bc-max-tokens'] = String(ctx.outputLimit);
  ctx.res.writeHead(status, headers);
}

/** Sends a complete body (non-stream answer). */
export function sendBody(
  ctx: RelayContext,
  status: number,
  contentType: string,
  body: string | Buffer,
): void {
  const buf = typeof body === 'string' ? Buffer.from(body) : body;
  writeHead(ctx, status, { 'content-type': contentType, 'content-length': buf.length });
  markFirstByte(ctx);
  ctx.res.end(buf);
}

export function markFirstByte(ctx: RelayContext): void {
  if (ctx.ttftMs === null) ctx.ttftMs = Number(process.hrtime.bigint() - ctx.startNs) / 1e6;
}

/**
 * A whole error answer in the client's protocol: its status, its headers (the error's own and
 * `retry-after`, content type and length) and its JSON body. The caller adds the request id.
 */
export function errorResponse(
  protocol: InboundProtocol,
  err: unknown,
): { status: number; headers: OutgoingHttpHeaders; body: Buffer } {
  const { status, body } = errorPayload(protocol, toWireError(err));
  const headers: OutgoingHttpHeaders = {};
  if (err instanceof BcError) {
    if (err.retryAfterS !== undefined) headers['retry-after'] = String(Math.ceil(err.retryAfterS));
    if (err.headers) Object.assign(headers, err.headers);
  }
  const buf = Buffer.from(JSON.stringify(body));
  headers['content-type'] = 'application/json';
  headers['content-length'] = buf.length;
  return { status, headers, body: buf };
}

/** An error before any byte went out: status + body in the client's protocol. */
export function sendError(ctx: RelayContext, err: unknown): void {
  if (ctx.res.headersSent || ctx.res.destroyed) return;
  const { status, headers, body } = errorResponse(ctx.protocol, err);
  writeHead(ctx, status, headers);
  ctx.res.end(body);
}
