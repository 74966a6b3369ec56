/**
 * A wire-faithful Gemini API simulator (PROTOCOLS.md 5 and 9.4) on 127.0.0.1 for integration
 * tests and the benchmark. It takes the key from `x-goog-api-key` or `?key=` (a missing or wrong
 * key gets Gemini's 400 API_KEY_INVALID, not a 401), refuses what Gemini refuses in a request
 * (gemini-sim-validate.ts: unknown field names at any depth, bad roles and parts, function
 * responses that do not answer the call turn before them, tool schemas and thinking settings
 * Gemini rejects), answers function calls without ids and with finishReason STOP, adds thought parts when thinkingConfig.includeThoughts is set, streams
 * `alt=sse` frames separated by `\r\n\r\n` without [DONE], serves `:embedContent`, `:batchEmbedContents`, and
 * injects the failures a gateway must survive. Per-request knobs: `x-sim-deltas`,
 * `x-sim-pace-ms`, `x-sim-text`, `x-sim-split-utf8`, `x-sim-cached-tokens`, as headers or as the
 * same names in the request's `labels`. `candidateCount` candidates are produced and billed.
 */
import type http from 'node:http';
import { knobsFrom } from './openai-sim-chat.js';
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
import {
  API_KEY_INVALID_BODY,
  batchEmbed,
  candidateCountProblem,
  generateContentBody,
  geminiErrorJson,
  MID_STREAM_ERROR_FRAME,
  planGemini,
  RESOURCE_EXHAUSTED_BODY,
  sseFrames,
  streamChunks,
} from './gemini-sim-answers.js';
import { geminiRequestProblem } from './gemini-sim-validate.js';

export type { Fault, SimCall } from './sim-common.js';
export { SIM_THOUGHT_SIGNATURE, THOUGHT_TEXT } from './gemini-sim-answers.js';

export interface GeminiSimOptions {
  port?: number;
  /** accepted keys; default: any non-empty key */
  keys?: string[];
}

export interface GeminiSim extends SimHandle {
  /** base URL without the version, as `@google/genai` takes it: http://127.0.0.1:PORT */
  url: string;
  /** calls whose path (or `:method` suffix, e.g. `:streamGenerateContent`) matches; all when omitted */
  callCount(path?: string): number;
}

type Json = Record<string, unknown>;

const STATUS_BODIES: Record<number, Json> = {
  400: API_KEY_INVALID_BODY,
  401: geminiErrorJson(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.'),
  403: geminiErrorJson(403, 'PERMISSION_DENIED', 'Permission denied: Consumer has been suspended.'),
  404: geminiErrorJson(404, 'NOT_FOUND', 'models/unknown is not found for API version v1beta.'),
  429: RESOURCE_EXHAUSTED_BODY,
  500: geminiErrorJson(500, 'INTERNAL', 'An internal error has occurred.'),
  503: geminiErrorJson(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.'),
  504: geminiErrorJson(504, 'DEADLINE_EXCEEDED', 'Deadline expired before operation could complete.'),
};

const ROUTE = /^\/v1(?:beta)?\/models\/([^/:]+):([A-Za-z]+)$/;

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.destroyed) return;
  res.writeHead(status, {
    'content-type': 'application/json; charset=UTF-8',
    vary: 'Origin, X-Origin, Referer',
  });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

function keyOf(call: SimCall, req: http.IncomingMessage): string | undefined {
  const h = req.headers['x-goog-api-key'];
  const header = Array.isArray(h) ? h[0] : h;
  const key = header ?? new URLSearchParams(call.query).get('key') ?? undefined;
  return key === '' ? undefined : key;
}

function invalid(message: string): Json {
  return geminiErrorJson(400, 'INVALID_ARGUMENT', message);
}

async function faultyJson(res: http.ServerResponse, body: Json, fault: StreamFault): Promise<void> {
  if (fault.kind === 'midStreamError') return sendJson(res, 500, STATUS_BODIES[500]);
  await sendHalfJson(res, { 'content-type': 'application/json; charset=UTF-8' }, body, fault);
}

function sendGarbage(res: http.ServerResponse, stream: boolean): void {
  if (stream) {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(
      'data: {"candidates": [{"content": {"parts": [{"text": "Hel\r\n\r\n<html>502 Bad Gateway</html>\r\n',
    );
  } else {
    sendJson(res, 200, '<html><body>502 Bad Gateway</body></html>');
  }
}

interface Route {
  call: SimCall;
  req: http.IncomingMessage;
  res: http.ServerResponse;
  body: Json;
  fault: Fault | undefined;
}

async function generate(r: Route, model: string, stream: boolean): Promise<void> {
  const problem = geminiRequestProblem(r.body, model) ?? candidateCountProblem(r.body);
  if (problem !== undefined) return sendJson(r.res, 400, invalid(problem));
  // through a gateway (which forwards bodies, not client headers) knobs ride in the request's labels
  const knobs = knobsFrom(r.req.headers, { metadata: r.body.labels });
  const plan = planGemini(r.body, model, knobs);
  const streamFault = isStreamFault(r.fault) ? r.fault : undefined;
  if (!stream) {
    const body = generateContentBody(plan);
    return streamFault === undefined ? sendJson(r.res, 200, body) : faultyJson(r.res, body, streamFault);
  }
  const chunks = streamChunks(plan);
  if (new URLSearchParams(r.call.query).get('alt') !== 'sse') {
    // Without alt=sse Gemini streams one JSON array; sent whole here, which clients accept alike.
    return sendJson(r.res, 200, chunks);
  }
  r.res.writeHead(200, { 'content-type': 'text/event-stream', 'content-disposition': 'attachment' });
  await writeFrames(r.res, sseFrames(chunks), {
    paceMs: knobs.paceMs,
    splitUtf8: knobs.splitUtf8,
    fault: streamFault,
    errorFrame: MID_STREAM_ERROR_FRAME,
  });
}

async function dispatch(r: Route): Promise<void> {
  const m = ROUTE.exec(r.call.path);
  const model = m?.[1] === undefined ? '' : decodeURIComponent(m[1]);
  switch (r.call.method === 'POST' ? m?.[2] : undefined) {
    case 'generateContent':
      return generate(r, model, false);
    case 'streamGenerateContent':
      return generate(r, model, true);
    case 'batchEmbedContents': {
      const answer = batchEmbed(r.body);
      return sendJson(
        r.res,
        answer === undefined ? 400 : 200,
        answer ?? invalid('* BatchEmbedContentsRequest.requests: must not be empty'),
      );
    }
    case 'embedContent': {
      const answer = batchEmbed({ requests: [r.body] });
      const first = (answer?.embeddings as Json[] | undefined)?.[0];
      return sendJson(
        r.res,
        first === undefined ? 400 : 200,
        first === undefined
          ? invalid('* EmbedContentRequest.content: must not be empty')
          : { embedding: first },
      );
    }
    case 'countTokens':
      return sendJson(r.res, 200, {
        totalTokens: planGemini(r.body, model, knobsFrom(r.req.headers)).promptTokens,
      });
    default:
      sendJson(
        r.res,
        404,
        geminiErrorJson(404, 'NOT_FOUND', `Method not found: ${r.call.method} ${r.call.path}`),
      );
  }
}

export async function startGeminiSim(opts: GeminiSimOptions = {}): Promise<GeminiSim> {
  const controls = new SimControls();
  const server = await startSimServer(opts.port ?? 0, async (call, req, res) => {
    const begun = await beginRequest(res, controls);
    if (begun === null) return;
    const { fault } = begun;
    if (fault?.kind === 'status') {
      if (res.destroyed) return;
      res.writeHead(fault.status, { 'content-type': 'application/json; charset=UTF-8', ...fault.headers });
      res.end(
        JSON.stringify(
          fault.body ??
            STATUS_BODIES[fault.status] ??
            geminiErrorJson(fault.status, 'UNKNOWN', 'Simulated failure.'),
        ),
      );
      return;
    }
    const key = keyOf(call, req);
    if (key === undefined || (opts.keys !== undefined && !opts.keys.includes(key))) {
      return sendJson(res, 400, API_KEY_INVALID_BODY);
    }
    const body = parseJsonObject(call.body);
    if (body === undefined) return sendJson(res, 400, invalid('Invalid JSON payload received.'));
    if (fault?.kind === 'garbage') return sendGarbage(res, call.path.endsWith(':streamGenerateContent'));
    await dispatch({ call, req, res, body, fault });
  });
  return simHandle(
    server,
    controls,
    `http://127.0.0.1:${server.port}`,
    (c, path) => c.path === path || c.path.endsWith(path),
  );
}
