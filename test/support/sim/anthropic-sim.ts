/**
 * A wire-faithful Anthropic Messages simulator (PROTOCOLS 4 and 9.3) on 127.0.0.1: it insists on
 * `x-api-key` and `anthropic-version`, requires `max_tokens`, answers tool requests with a tool_use
 * and thinking requests with a signed thinking block, streams named SSE events with pings and the
 * recorded JSON padding, splits usage between message_start and message_delta, and injects the
 * failures a gateway must survive (529, 429 + retry-after, 401, resets, stalls, hang-ups, garbage,
 * `event: error` after HTTP 200). Usage is predictable: input = ceil(UTF-8 bytes of
 * JSON(messages) / 4) plus the `x-sim-cache-*` knobs; output = the number of deltas sent.
 */
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import type { SimHandle, StreamFault } from './sim-common.js';
import { messageBody, plan, simInputTokens, streamFrames } from './anthropic-sim-answers.js';
import { messagesProblem } from './anthropic-sim-validate.js';
import {
  hangUp,
  header,
  intHeader,
  parseJsonObject,
  pause,
  SimControls,
  simHandle,
  startSimServer,
  untilClosed,
  write,
  writeFrames,
} from './sim-common.js';

type Json = Record<string, unknown>;

export type AnthropicFault =
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> }
  | { kind: 'reset' }
  | { kind: 'stall' }
  | { kind: 'hangup'; afterFrames: number }
  | { kind: 'garbage' }
  | { kind: 'streamError'; afterFrames: number; errorType?: string; message?: string };

export interface AnthropicSimOptions {
  port?: number;
  /** when set, any other x-api-key gets 401 */
  apiKey?: string;
}

export interface AnthropicSim extends SimHandle<AnthropicFault> {
  /** base URL without `/v1` */
  url: string;
}

const ERROR_TYPES: Record<number, [string, string]> = {
  400: ['invalid_request_error', 'Invalid request'],
  401: ['authentication_error', 'invalid x-api-key'],
  402: ['billing_error', 'Your credit balance is too low to access the Anthropic API.'],
  403: ['permission_error', 'Your API key does not have permission to use the specified resource.'],
  404: ['not_found_error', 'Not found'],
  413: ['request_too_large', 'Request exceeds the maximum allowed number of bytes.'],
  429: ['rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit'],
  500: ['api_error', 'Internal server error'],
  529: ['overloaded_error', 'Overloaded'],
};

export function anthropicErrorJson(status: number, message?: string): Json {
  const [type, text] = ERROR_TYPES[status] ??
    (status >= 500 ? ERROR_TYPES[500] : ERROR_TYPES[400]) ?? ['api_error', ''];
  return { type: 'error', error: { type, message: message ?? text }, request_id: requestId() };
}

function requestId(): string {
  return `req_sim${randomBytes(10).toString('hex')}`;
}

function rfc3339(inMs: number): string {
  return new Date(Date.now() + inMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function rateLimitHeaders(): Record<string, string> {
  const h: Record<string, string> = { 'request-id': requestId() };
  for (const [kind, limit] of [
    ['requests', 4000],
    ['tokens', 2000000],
    ['input-tokens', 1600000],
    ['output-tokens', 400000],
  ] as const) {
    h[`anthropic-ratelimit-${kind}-limit`] = String(limit);
    h[`anthropic-ratelimit-${kind}-remaining`] = String(limit - 1);
    h[`anthropic-ratelimit-${kind}-reset`] = rfc3339(60_000);
  }
  return h;
}

function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...rateLimitHeaders(), ...extra });
  res.end(JSON.stringify(body));
}

/**
 * The checks Anthropic makes before reading the body: a key (`x-api-key`, or the
 * `Authorization: Bearer` form recent SDKs send) and a version header.
 */
function authProblem(req: http.IncomingMessage, apiKey: string | undefined): [number, string] | undefined {
  const bearer = /^Bearer\s+(.+)$/i.exec(header(req.headers, 'authorization') ?? '')?.[1];
  const key = header(req.headers, 'x-api-key') || bearer;
  if (key === undefined || key === '') return [401, 'x-api-key header is required'];
  if (apiKey !== undefined && key !== apiKey) return [401, 'invalid x-api-key'];
  if (!header(req.headers, 'anthropic-version')) return [400, 'anthropic-version: header is required'];
  return undefined;
}

function bodyProblem(body: Json | undefined, needMaxTokens: boolean): string | undefined {
  if (!body) return 'There was an error parsing the body of your request';
  if (typeof body.model !== 'string') return 'model: Field required';
  if (!Array.isArray(body.messages)) return 'messages: Field required';
  if (needMaxTokens && typeof body.max_tokens !== 'number') return 'max_tokens: Field required';
  return undefined;
}

async function applyFault(
  f: AnthropicFault,
  res: http.ServerResponse,
  stream: boolean,
): Promise<StreamFault | null> {
  switch (f.kind) {
    case 'status':
      sendJson(res, f.status, f.body ?? anthropicErrorJson(f.status), {
        ...(f.status === 429 ? { 'retry-after': '1' } : {}),
        ...f.headers,
      });
      return null;
    case 'reset':
      hangUp(res);
      return null;
    case 'stall':
      await untilClosed(res);
      return null;
    case 'garbage':
      res.writeHead(200, { 'content-type': stream ? 'text/event-stream' : 'application/json' });
      res.end(stream ? 'event: message_start\ndata: {"type":"message_start","mess\n\n' : '<html>oops</html>');
      return null;
    case 'hangup':
      return { kind: 'hangup', afterFrames: f.afterFrames };
    case 'streamError':
      return { kind: 'midStreamError', afterFrames: f.afterFrames };
  }
}

function errorFrame(fault: AnthropicFault | undefined): string {
  const sf = fault?.kind === 'streamError' ? fault : undefined;
  const error = { type: sf?.errorType ?? 'overloaded_error', message: sf?.message ?? 'Overloaded' };
  return `event: error\ndata: ${JSON.stringify({ type: 'error', error })}\n\n`;
}

async function answerMessages(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  body: Json,
  fault: AnthropicFault | undefined,
  streamFault: StreamFault | undefined,
): Promise<void> {
  const p = plan(body, req);
  if (body.stream !== true) {
    const text = JSON.stringify(messageBody(p));
    if (streamFault?.kind !== 'hangup') return sendJson(res, 200, JSON.parse(text));
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(text)),
    });
    if (await write(res, text.slice(0, Math.floor(text.length / 2)))) hangUp(res);
    return;
  }
  const headers = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };
  res.writeHead(200, { ...headers, ...rateLimitHeaders() });
  await writeFrames(res, streamFrames(p), {
    paceMs: intHeader(req.headers, 'x-sim-pace-ms', 0),
    splitUtf8: header(req.headers, 'x-sim-split-utf8') === '1',
    fault: streamFault,
    errorFrame: errorFrame(fault),
  });
}

export { simInputTokens };

export async function startAnthropicSim(opts: AnthropicSimOptions = {}): Promise<AnthropicSim> {
  const controls = new SimControls<AnthropicFault>();
  const server = await startSimServer(opts.port ?? 0, async (call, req, res) => {
    if (controls.delayMs > 0 && !(await pause(res, controls.delayMs))) return;
    const known =
      call.method === 'POST' && (call.path === '/v1/messages' || call.path === '/v1/messages/count_tokens');
    if (!known) return sendJson(res, 404, anthropicErrorJson(404, `Not found: ${call.method} ${call.path}`));
    const body = parseJsonObject(call.body);
    // An injected fault is the upstream failing, whatever the request says.
    const fault = controls.faults.take();
    const streamFault = fault ? await applyFault(fault, res, body?.stream === true) : undefined;
    if (streamFault === null) return;
    const auth = authProblem(req, opts.apiKey);
    if (auth) return sendJson(res, auth[0], anthropicErrorJson(auth[0], auth[1]));
    const counting = call.path === '/v1/messages/count_tokens';
    const problem = bodyProblem(body, !counting) ?? (body ? messagesProblem(body, req) : undefined);
    if (problem !== undefined || !body) return sendJson(res, 400, anthropicErrorJson(400, problem));
    if (counting) return sendJson(res, 200, { input_tokens: simInputTokens(body) });
    await answerMessages(req, res, body, fault, streamFault);
  });
  return simHandle(server, controls, `http://127.0.0.1:${server.port}`, (c, path) => c.path === path);
}
