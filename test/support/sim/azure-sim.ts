/**
 * A wire-faithful Azure OpenAI simulator (PROTOCOLS.md 2 and 9.2) on 127.0.0.1. It wants the
 * `api-key` header and an `api-version` query, routes by the deployment in the path
 * (`/openai/deployments/{d}/chat/completions`; an unknown one is 404 DeploymentNotFound), and
 * answers like the recordings: content-filter annotations on the body and on every chunk, a first
 * stream chunk with empty choices, id and model carrying only prompt_filter_results, the usage
 * chunk only when `stream_options.include_usage` asks for it, then [DONE]. Failures are Azure's:
 * 429 with `code: "429"` and `retry-after-ms`, 400 content_filter, 401 with Azure's message.
 * Knobs as the OpenAI simulator (`x-sim-deltas`, `x-sim-pace-ms`, `x-sim-text`...), plus
 * `x-sim-filter: output` to cut the answer off with finish_reason content_filter.
 */
import type http from 'node:http';
import { completionBody, frame, STATUS_BODIES, streamFrames } from './azure-sim-answers.js';
import { knobsFrom, planChat, wantsUsage } from './openai-sim-chat.js';
import * as ep from './openai-sim-endpoints.js';
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
export { AZURE_429_BODY, AZURE_CONTENT_FILTER_BODY } from './azure-sim-answers.js';

export interface AzureSimOptions {
  port?: number;
  /** accepted keys; default: any non-empty key */
  keys?: string[];
  /** deployments that exist; default: any name */
  deployments?: string[];
  /** the model name answers report (Azure reports the model, not the deployment) */
  model?: string;
}

export interface AzureSim extends SimHandle {
  /** the resource endpoint, as AzureOpenAI's `endpoint` takes it: http://127.0.0.1:PORT */
  url: string;
  /** calls whose path ends with `path` (e.g. `/chat/completions`); all when omitted */
  callCount(path?: string): number;
}

type Json = Record<string, unknown>;

const ROUTE = /^\/openai\/deployments\/([^/]+)(\/.+)$/;

function headersFor(contentType: string, deployment: string): Record<string, string> {
  return {
    'content-type': contentType,
    'apim-request-id': crypto.randomUUID(),
    'x-request-id': crypto.randomUUID(),
    'x-ms-region': 'East US 2',
    'x-ms-deployment-name': deployment,
    'x-ratelimit-limit-requests': '100',
    'x-ratelimit-limit-tokens': '100000',
    'x-ratelimit-remaining-requests': '99',
    'x-ratelimit-remaining-tokens': '99998',
  };
}

function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  extra: Record<string, string> = {},
): void {
  if (res.destroyed) return;
  res.writeHead(status, { ...headersFor('application/json', ''), ...extra });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

interface Route {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  body: Json;
  deployment: string;
  model: string;
  fault: StreamFault | undefined;
}

async function faultyJson(r: Route, body: Json, fault: StreamFault): Promise<void> {
  if (fault.kind === 'midStreamError') return sendJson(r.res, 500, STATUS_BODIES[500]);
  await sendHalfJson(r.res, headersFor('application/json', r.deployment), body, fault);
}

async function chat(r: Route): Promise<void> {
  const knobs = knobsFrom(r.req.headers);
  const filterOutput = r.req.headers['x-sim-filter'] === 'output';
  const plan = planChat({ ...r.body, model: r.model }, knobs, 'openai');
  if (filterOutput) plan.content = plan.content.slice(0, Math.ceil(plan.content.length / 2));
  if (r.body.stream !== true) {
    const body = completionBody(plan, filterOutput);
    if (r.fault !== undefined) return faultyJson(r, body, r.fault);
    return sendJson(r.res, 200, body, { 'x-ms-deployment-name': r.deployment });
  }
  r.res.writeHead(200, headersFor('text/event-stream; charset=utf-8', r.deployment));
  await writeFrames(r.res, streamFrames(plan, wantsUsage(r.body), filterOutput), {
    paceMs: knobs.paceMs,
    splitUtf8: knobs.splitUtf8,
    fault: r.fault,
    errorFrame: frame(STATUS_BODIES[500] ?? {}),
  });
}

async function dispatch(r: Route, operation: string): Promise<void> {
  switch (operation) {
    case '/chat/completions':
      return chat(r);
    case '/embeddings':
      return sendJson(r.res, 200, ep.embeddings({ ...r.body, model: r.model }));
    default:
      sendJson(r.res, 404, { error: { code: '404', message: 'Resource not found' } });
  }
}

/** Azure's checks, in Azure's order: route and api-version, key, deployment, body. */
function gate(call: SimCall, req: http.IncomingMessage, opts: AzureSimOptions): [number, Json] | undefined {
  const m = ROUTE.exec(call.path);
  if (call.method !== 'POST' || m === null)
    return [404, { error: { code: '404', message: 'Resource not found' } }];
  if (!new URLSearchParams(call.query).get('api-version')) {
    return [404, { error: { code: '404', message: 'Resource not found' } }];
  }
  const key = req.headers['api-key'];
  if (typeof key !== 'string' || key === '' || (opts.keys !== undefined && !opts.keys.includes(key))) {
    return [401, STATUS_BODIES[401] ?? {}];
  }
  const deployment = decodeURIComponent(m[1] ?? '');
  if (opts.deployments !== undefined && !opts.deployments.includes(deployment))
    return [404, STATUS_BODIES[404] ?? {}];
  return undefined;
}

function sendStatusFault(res: http.ServerResponse, f: Extract<Fault, { kind: 'status' }>): void {
  const extra: Record<string, string> =
    f.status === 429 ? { 'retry-after': '1', 'retry-after-ms': '1000' } : {};
  sendJson(
    res,
    f.status,
    f.body ?? STATUS_BODIES[f.status] ?? { error: { code: String(f.status), message: 'Simulated failure.' } },
    {
      ...extra,
      ...f.headers,
    },
  );
}

export async function startAzureSim(opts: AzureSimOptions = {}): Promise<AzureSim> {
  const controls = new SimControls();
  const server = await startSimServer(opts.port ?? 0, async (call, req, res) => {
    const begun = await beginRequest(res, controls);
    if (begun === null) return;
    const { fault } = begun;
    if (fault?.kind === 'status') return sendStatusFault(res, fault);
    const refused = gate(call, req, opts);
    if (refused !== undefined) return sendJson(res, refused[0], refused[1]);
    const body = parseJsonObject(call.body);
    if (body === undefined) {
      return sendJson(res, 400, {
        error: { code: 'BadRequest', message: 'Failed to parse the request body as JSON.' },
      });
    }
    if (fault?.kind === 'garbage') {
      res.writeHead(200, headersFor(body.stream === true ? 'text/event-stream' : 'application/json', ''));
      res.end(body.stream === true ? 'data: {"choices":[{"delta": broken\n\n' : '<html>Bad Gateway</html>');
      return;
    }
    const [, deployment = '', operation = ''] = ROUTE.exec(call.path) ?? [];
    const route: Route = {
      req,
      res,
      body,
      deployment: decodeURIComponent(deployment),
      model: opts.model ?? 'gpt-4o-mini-2024-07-18',
      fault: isStreamFault(fault) ? fault : undefined,
    };
    await dispatch(route, operation);
  });
  return simHandle(server, controls, `http://127.0.0.1:${server.port}`, (c, path) => c.path.endsWith(path));
}
