/**
 * A real HTTP server that behaves like the OpenAI API (or, with `flavour: 'qwen'`, like DashScope's
 * compatible mode) for the relay's integration tests and the benchmark. It records every call,
 * checks `Authorization: Bearer`, refuses the chat requests OpenAI refuses (unknown arguments
 * and message properties, bad roles, unanswered or unasked tool calls: openai-sim-chat-validate.ts),
 * sends OpenAI's rate-limit headers on every answer, and can be told to misbehave: queued faults
 * (status, reset, stall, hang up, garbage, stall or error after N frames) and per-request knobs
 * in `x-sim-*` headers (see openai-sim-chat.ts), so one test can shape a single request without
 * reconfiguring the simulator.
 */
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import type { Flavour } from './openai-sim-chat.js';
import { chatCompletionBody, knobsFrom, planChat, wantsUsage } from './openai-sim-chat.js';
import { choicesProblem } from './openai-sim-choices.js';
import { chatRequestProblem } from './openai-sim-chat-validate.js';
import * as ep from './openai-sim-endpoints.js';
import { answerResponses } from './openai-sim-responses.js';
import { chatStreamFrames, completionStreamFrames, MID_STREAM_ERROR_FRAME } from './openai-sim-stream.js';
import type { Fault, SimCall, SimHandle, StreamFault } from './sim-common.js';
import {
  beginRequest,
  isStreamFault,
  parseJsonObject,
  sendHalfJson,
  SimControls,
  simHandle,
  startSimServer,
  writeFrames,
} from './sim-common.js';

export type { Fault, SimCall } from './sim-common.js';

export interface OpenAISimOptions {
  port?: number;
  flavour?: Flavour;
  /** accepted keys; default: any non-empty key */
  keys?: string[];
  /** what GET /v1/models lists */
  models?: string[];
}

export interface OpenAISim extends SimHandle {
  /** base URL with the version prefix, e.g. http://127.0.0.1:PORT/v1 */
  url: string;
  /** calls whose path is `path`, with or without the `/v1` prefix; all when omitted */
  callCount(path?: string): number;
}

type Json = Record<string, unknown>;

const RATE_LIMIT_HEADERS = {
  'x-ratelimit-limit-requests': '500',
  'x-ratelimit-limit-tokens': '200000',
  'x-ratelimit-remaining-requests': '499',
  'x-ratelimit-remaining-tokens': '199987',
  'x-ratelimit-reset-requests': '120ms',
  'x-ratelimit-reset-tokens': '3ms',
};

function baseHeaders(contentType: string): Record<string, string> {
  return {
    'content-type': contentType,
    'x-request-id': `req_${randomBytes(16).toString('hex')}`,
    'openai-version': '2020-10-01',
    'openai-processing-ms': '1',
    ...RATE_LIMIT_HEADERS,
  };
}

function errorBody(message: string, type: string, code: string | null, param: string | null = null): Json {
  return { error: { message, type, param, code } };
}

const STATUS_BODIES: Record<number, Json> = {
  400: errorBody('Invalid request (simulated).', 'invalid_request_error', null),
  401: errorBody(
    'Incorrect API key provided: sk-sim***. You can find your API key at the dashboard.',
    'invalid_request_error',
    'invalid_api_key',
  ),
  403: errorBody(
    'Country, region, or territory not supported',
    'request_forbidden',
    'unsupported_country_region_territory',
  ),
  404: errorBody(
    'The model `unknown` does not exist or you do not have access to it.',
    'invalid_request_error',
    'model_not_found',
  ),
  429: errorBody('Rate limit reached for requests (simulated).', 'requests', 'rate_limit_exceeded'),
  500: errorBody(
    'The server had an error while processing your request. Sorry about that!',
    'server_error',
    null,
  ),
  503: errorBody('The engine is currently overloaded, please try again later.', 'server_error', null),
};

function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  extra: Record<string, string> = {},
): void {
  if (res.destroyed) return;
  res.writeHead(status, { ...baseHeaders('application/json'), ...extra });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

function sendStatusFault(res: http.ServerResponse, f: Extract<Fault, { kind: 'status' }>): void {
  const body =
    f.body ?? STATUS_BODIES[f.status] ?? errorBody(`Simulated status ${f.status}.`, 'api_error', null);
  const extra: Record<string, string> =
    f.status === 429 ? { 'retry-after': '1', 'x-ratelimit-remaining-requests': '0' } : {};
  sendJson(res, f.status, body, { ...extra, ...(f.headers ?? {}) });
}

function keyOf(headers: http.IncomingHttpHeaders): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
  return m?.[1];
}

function unauthorized(res: http.ServerResponse, flavour: Flavour, key: string | undefined): void {
  const masked = key === undefined ? '' : `: ${key.slice(0, 3)}***${key.slice(-2)}`;
  const body =
    flavour === 'qwen'
      ? {
          ...errorBody('Incorrect API key provided. ', 'invalid_request_error', 'invalid_api_key'),
          request_id: randomBytes(8).toString('hex'),
        }
      : errorBody(
          key === undefined
            ? "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth."
            : `Incorrect API key provided${masked}. You can find your API key at the dashboard.`,
          'invalid_request_error',
          key === undefined ? null : 'invalid_api_key',
        );
  sendJson(res, 401, body);
}

/** Non-stream request with a stream fault: break the JSON body off halfway the same way. */
async function faultyJson(res: http.ServerResponse, body: Json, fault: StreamFault): Promise<void> {
  if (fault.kind === 'midStreamError') return sendJson(res, 500, STATUS_BODIES[500]);
  await sendHalfJson(res, baseHeaders('application/json'), body, fault);
}

async function sendGarbage(res: http.ServerResponse, stream: boolean): Promise<void> {
  if (stream) {
    res.writeHead(200, baseHeaders('text/event-stream; charset=utf-8'));
    res.end(
      'data: {"id":"chatcmpl-garbage", this is not json\n\n<html><body>502 Bad Gateway</body></html>\n',
    );
  } else {
    // Proxies in front of real upstreams do send HTML labelled as JSON.
    sendJson(res, 200, '<html><body>502 Bad Gateway</body></html>');
  }
}

interface Route {
  call: SimCall;
  req: http.IncomingMessage;
  res: http.ServerResponse;
  body: Json;
  fault: Fault | undefined;
  flavour: Flavour;
}

async function stream(r: Route, frames: string[]): Promise<void> {
  const knobs = knobsFrom(r.req.headers, r.body);
  r.res.writeHead(200, baseHeaders('text/event-stream; charset=utf-8'));
  await writeFrames(r.res, frames, {
    paceMs: knobs.paceMs,
    splitUtf8: knobs.splitUtf8,
    fault: isStreamFault(r.fault) ? r.fault : undefined,
    errorFrame: MID_STREAM_ERROR_FRAME,
  });
}

async function json(r: Route, body: Json): Promise<void> {
  if (isStreamFault(r.fault)) return faultyJson(r.res, body, r.fault);
  sendJson(r.res, 200, body);
}

/** OpenAI caps the end-user id at 64 characters (gateways converting Anthropic's metadata.user_id trip on it). */
const MAX_USER_LENGTH = 64;

async function chat(r: Route, legacy: boolean): Promise<void> {
  const user = r.body.user;
  if (r.flavour === 'openai' && typeof user === 'string' && user.length > MAX_USER_LENGTH) {
    const message = `Invalid 'user': string too long. Expected a string with maximum length ${MAX_USER_LENGTH}, but got a string with length ${user.length} instead.`;
    return sendJson(
      r.res,
      400,
      errorBody(message, 'invalid_request_error', 'string_above_max_length', 'user'),
    );
  }
  const refusal =
    r.flavour !== 'openai'
      ? undefined
      : ((legacy ? undefined : chatRequestProblem(r.body)) ?? choicesProblem(r.body, legacy));
  if (refusal !== undefined) {
    const { message, code, param } = refusal;
    return sendJson(r.res, 400, errorBody(message, 'invalid_request_error', code, param));
  }
  const plan = planChat(r.body, knobsFrom(r.req.headers, r.body), r.flavour);
  if (r.body.stream === true) {
    const frames = legacy
      ? completionStreamFrames(plan, wantsUsage(r.body))
      : chatStreamFrames(plan, r.flavour, wantsUsage(r.body));
    return stream(r, frames);
  }
  return json(r, legacy ? ep.completion(plan) : chatCompletionBody(plan, r.flavour));
}

async function responses(r: Route): Promise<void> {
  const answer = answerResponses(r.body, knobsFrom(r.req.headers, r.body), r.flavour);
  if (answer.refusal) {
    const { status, message, code, param } = answer.refusal;
    return sendJson(r.res, status, errorBody(message, 'invalid_request_error', code, param));
  }
  if (r.body.stream === true) return stream(r, answer.frames);
  return json(r, answer.body);
}

async function dispatch(r: Route, models: string[]): Promise<void> {
  const route = `${r.call.method} ${r.call.path}`;
  switch (route) {
    case 'POST /v1/chat/completions':
      return chat(r, false);
    case 'POST /v1/completions':
      return chat(r, true);
    case 'POST /v1/responses':
      return responses(r);
    case 'POST /v1/embeddings':
      return json(r, ep.embeddings(r.body));
    case 'POST /v1/moderations':
      return json(r, ep.moderation(r.body));
    case 'POST /v1/images/generations':
      return json(r, ep.images(r.body));
    case 'POST /v1/rerank':
      return json(r, ep.rerank(r.body));
    case 'POST /v1/audio/transcriptions':
      return json(r, ep.transcription(r.call.body, r.req.headers['content-type'] ?? ''));
    case 'POST /v1/audio/speech': {
      const audio = ep.speech(r.body);
      r.res.writeHead(200, { ...baseHeaders('audio/mpeg'), 'content-length': String(audio.length) });
      r.res.end(audio);
      return;
    }
    case 'GET /v1/models':
      return json(r, ep.modelList(models));
    default:
      sendJson(r.res, 404, errorBody(`Invalid URL (${route})`, 'invalid_request_error', null));
  }
}

function parseJsonBody(call: SimCall, contentType: string | undefined): Json | undefined {
  if (call.method !== 'POST' || !(contentType ?? '').includes('json')) return {};
  return parseJsonObject(call.body);
}

export async function startOpenAISim(opts: OpenAISimOptions = {}): Promise<OpenAISim> {
  const controls = new SimControls();
  const flavour = opts.flavour ?? 'openai';
  const models = opts.models ?? ep.DEFAULT_SIM_MODELS;

  const server = await startSimServer(opts.port ?? 0, async (call, req, res) => {
    const begun = await beginRequest(res, controls);
    if (begun === null) return;
    const { fault } = begun;
    if (fault?.kind === 'status') return sendStatusFault(res, fault);
    const key = keyOf(req.headers);
    if (key === undefined || (opts.keys !== undefined && !opts.keys.includes(key))) {
      return unauthorized(res, flavour, key);
    }
    const body = parseJsonBody(call, req.headers['content-type']);
    if (body === undefined) {
      return sendJson(
        res,
        400,
        errorBody('We could not parse the JSON body of your request.', 'invalid_request_error', null),
      );
    }
    if (fault?.kind === 'garbage') return sendGarbage(res, body.stream === true);
    try {
      await dispatch({ call, req, res, body, fault, flavour }, models);
    } catch (err) {
      if (!(err instanceof ep.SimBadRequest)) throw err;
      sendJson(res, 400, errorBody(err.message, 'invalid_request_error', null));
    }
  });

  return simHandle(
    server,
    controls,
    `http://127.0.0.1:${server.port}/v1`,
    (c, path) => c.path === path || c.path === `/v1${path}`,
  );
}
