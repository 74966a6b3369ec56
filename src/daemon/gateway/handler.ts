/**
 * The one request lifecycle every relayed endpoint shares: take over the raw response, watch for
 * the client leaving (abort upstream at once), authenticate, parse and validate the body, admit,
 * relay, and make sure every authenticated request settles exactly once.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BcError, isBcError } from '../../shared/errors.js';
import type { InboundProtocol } from '../providers/types.js';
import { Aborter, type RelayContext, type RequestSpec } from './context.js';
import type { GatewayState } from './state.js';
import type { RouteKey } from './snapshot.js';
import { admit, authenticate, authorize, countedInput, extractKey } from './money/admission.js';
import { checkJsonDepth } from './intake/json-depth.js';
import { sendBody, sendError } from './client-wire.js';
import { relay } from './relay.js';
import { settle } from './money/settle.js';
import { unanswered } from './answer.js';

export type SpecBuilder = (raw: Buffer, contentType: string, headers: IncomingHttpHeaders) => RequestSpec;

/** One relayed call as the handler needs it, from the gateway's own lane or from a Fastify route. */
export interface RelayCall {
  /** the whole request body */
  raw: Buffer;
  headers: IncomingHttpHeaders;
  /** path and query */
  url: string;
  clientIp: string;
  res: ServerResponse;
  /** the key, when the lane already checked it from the headers before reading the body */
  key?: RouteKey;
}

/** A Fastify route's request as a RelayCall; the handler writes the raw response itself. */
export function callFromFastify(req: FastifyRequest, reply: FastifyReply): RelayCall {
  reply.hijack();
  return {
    raw: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
    headers: req.headers,
    url: req.url,
    clientIp: req.ip,
    res: reply.raw,
  };
}

export async function handleRelay(
  state: GatewayState,
  call: RelayCall,
  protocol: InboundProtocol,
  build: SpecBuilder,
): Promise<void> {
  const { raw, headers } = call;
  const contentType = headers['content-type'] ?? 'application/json';
  const ctx = newContext(call, protocol, contentType);
  const res = call.res;
  res.on('close', () => {
    if (!res.writableFinished) {
      ctx.clientGone = true;
      ctx.abort.abort();
    }
  });
  try {
    ctx.key = call.key ?? keyFromHeaders(state, headers, call.url, protocol);
  } catch (err) {
    sendError(ctx, err);
    return;
  }
  let invalid: unknown;
  try {
    Object.assign(ctx, build(raw, contentType, headers));
  } catch (err) {
    invalid = err;
  }
  state.metrics.requestStarted(ctx.model, ctx.key.record.id, ctx.key.user?.id ?? null);
  try {
    if (invalid !== undefined) throw invalid instanceof Error ? invalid : new Error('invalid request');
    authorize(ctx.key, ctx.model, ctx.clientIp, Date.now());
    if (!state.router.serves(state.snapshot, ctx.model, ctx.key.record.group)) {
      throw new BcError('MODEL_NOT_FOUND', `no channel serves model "${ctx.model}"`, { param: 'model' });
    }
    if (ctx.local) {
      await ctx.local(ctx);
      await settle(state, ctx, unanswered(200, null));
      return;
    }
    await admit(state, ctx, ctx.key);
    await relay(state, ctx);
  } catch (err) {
    if (!isBcError(err)) state.logger.error({ err, request_id: ctx.requestId }, 'request failed');
    const outcome = isBcError(err) ? unanswered(err.status, err.category) : unanswered(500, 'internal');
    // the row is committed before the client hears the refusal, as on the relay's own path: a 403
    // or 429 already answered is in the logs (SPEC section 7), also on a store that commits later
    // than the same tick (PostgreSQL)
    await settle(state, ctx, outcome).catch(() => {
      // the row could not be written; already logged by settle
    });
    if (ctx.res.headersSent) {
      if (!ctx.res.writableEnded) ctx.res.end();
    } else sendError(ctx, err);
  }
}

function newContext(call: RelayCall, protocol: InboundProtocol, contentType: string): RelayContext {
  const { raw, url } = call;
  return {
    requestId: newRequestId(),
    startNs: process.hrtime.bigint(),
    res: call.res,
    clientIp: call.clientIp,
    protocol,
    endpoint: pathOf(url),
    kind: 'chat',
    model: '',
    stream: false,
    raw,
    contentType,
    body: undefined,
    clientWantsUsage: false,
    passthroughPath: () => url,
    canonical: () => {
      throw new BcError('INVALID_REQUEST', 'this endpoint has no chat form');
    },
    key: null,
    dropped: [],
    attempts: 0,
    channel: null,
    upstreamModel: null,
    ttftMs: null,
    reserved: 0,
    outputLimit: null,
    admitted: false,
    inputTokens: null,
    abort: new Aborter(),
    clientGone: false,
    committed: false,
    settled: false,
    upstreamNs: 0n,
  };
}

/** The gateway's own request id: `x-request-id` on the answer and `request_id` in the log row. */
export function newRequestId(): string {
  const u = randomUUID();
  return `req_${u.slice(0, 8)}${u.slice(9, 13)}${u.slice(14, 18)}${u.slice(19, 23)}${u.slice(24)}`;
}

export function pathOf(url: string): string {
  const i = url.indexOf('?');
  return i < 0 ? url : url.slice(0, i);
}

/**
 * The key the request's headers name, checked (throws the 401). `?key=` counts only on Gemini
 * routes, where Gemini clients put it: anywhere else a key in the URL would end up in the access
 * logs of every proxy on the way, so it is not accepted there.
 */
export function keyFromHeaders(
  state: GatewayState,
  headers: IncomingHttpHeaders,
  url: string,
  protocol: InboundProtocol,
): RouteKey {
  return authenticate(state, extractKey(headers, protocol === 'gemini' ? queryOf(url) : undefined));
}

function queryOf(url: string): string | undefined {
  const i = url.indexOf('?');
  return i < 0 ? undefined : url.slice(i + 1);
}

/** Parses a JSON object body or throws a 400 that says what is wrong. */
export function parseJsonObject(raw: Buffer): Record<string, unknown> {
  if (raw.length === 0) throw new BcError('INVALID_JSON', 'request body is empty: send a JSON object');
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new BcError('INVALID_JSON', `request body is not valid JSON: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new BcError('INVALID_JSON', 'request body must be a JSON object');
  }
  checkJsonDepth(parsed);
  return parsed as Record<string, unknown>;
}

/**
 * A `local` answer for the count-tokens endpoints (Anthropic's `count_tokens`, Gemini's
 * `countTokens`): the gateway's own count of the prompt, in the protocol's field.
 */
export function answerPromptCount(
  field: 'input_tokens' | 'totalTokens',
): (ctx: RelayContext) => Promise<void> {
  return async (ctx) => {
    sendBody(ctx, 200, 'application/json', JSON.stringify({ [field]: await countedInput(ctx) }));
  };
}
