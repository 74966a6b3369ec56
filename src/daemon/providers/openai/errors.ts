/**
 * Turns an OpenAI-family error answer into the relay's decision. The decision is made here, from
 * the status and the error's machine-readable `code`/`type` (never its message text): our
 * credentials or billing failed -> disable the key and move on; the upstream is busy, broken or
 * does not really serve the model -> retry elsewhere after Retry-After; the request itself is bad
 * -> reject, keeping the upstream body so a same-protocol client gets it back unchanged.
 */
import type { FailureAction, UpstreamFailure } from '../types.js';
import { retryAfterMs } from '../retry-after.js';

type Headers = Record<string, string | string[] | undefined>;

const MAX_MESSAGE = 300;

/** codes meaning "this key or account cannot pay / is not allowed", whatever the status */
const DISABLE_CODES = new Set([
  'invalid_api_key',
  'insufficient_quota',
  'billing_hard_limit_reached',
  'billing_not_active',
  'account_deactivated',
  'access_terminated',
  // DashScope (Qwen): account in arrears / key invalid, sent with status 400
  'Arrearage',
  'InvalidApiKey',
]);

interface ParsedError {
  message: string | undefined;
  code: string | undefined;
  type: string | undefined;
}

function str(v: unknown): string | undefined {
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number') return String(v);
  return undefined;
}

function parseError(body: string): ParsedError {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { message: undefined, code: undefined, type: undefined };
  }
  if (typeof json !== 'object' || json === null)
    return { message: undefined, code: undefined, type: undefined };
  const top = json as Record<string, unknown>;
  const inner = top.error;
  if (typeof inner === 'string') return { message: inner, code: str(top.code), type: str(top.type) };
  if (typeof inner === 'object' && inner !== null) {
    const e = inner as Record<string, unknown>;
    return { message: str(e.message), code: str(e.code), type: str(e.type) };
  }
  // DashScope native `{code,message}`, FastAPI-style servers (vLLM) `{detail}`, others `{message}`
  const detail = typeof top.detail === 'string' ? top.detail : undefined;
  return { message: str(top.message) ?? detail, code: str(top.code), type: str(top.type) };
}

/** Masks anything shaped like a credential, in case an upstream echoes one back. */
function redact(text: string): string {
  return text
    .replace(/\b(sk|rk|pk)-[\w*.-]{6,}/g, '$1-***')
    .replace(/\bAIza[\w-]{10,}/g, 'AIza***')
    .replace(/\bBearer\s+\S+/gi, 'Bearer ***');
}

function oneLine(text: string): string {
  const flat = redact(text.replace(/\s+/g, ' ').trim());
  return flat.length > MAX_MESSAGE ? `${flat.slice(0, MAX_MESSAGE - 1)}…` : flat;
}

/** The upstream's own error message, or a short excerpt of a body that has none. */
export function parseOpenAIErrorMessage(body: string): string {
  const parsed = parseError(body);
  if (parsed.message !== undefined) return oneLine(parsed.message);
  const excerpt = oneLine(body);
  return excerpt === '' ? 'no error body' : excerpt;
}

function decide(status: number, code: string | undefined, type: string | undefined): FailureAction {
  if ((code !== undefined && DISABLE_CODES.has(code)) || (type !== undefined && DISABLE_CODES.has(type))) {
    return 'disable';
  }
  if (status === 401 || status === 402 || status === 403) return 'disable';
  if (status === 400 || status === 413 || status === 422) return 'reject';
  if (status === 404 || status === 408 || status === 409 || status === 429 || status >= 500) return 'retry';
  // Other 4xx (405, 415, ...) describe the request, not the channel: trying elsewhere will not help.
  if (status >= 400 && status < 500) return 'reject';
  return 'retry';
}

export function classifyOpenAIError(status: number, headers: Headers, body: string): UpstreamFailure {
  const parsed = parseError(body);
  const action = decide(status, parsed.code, parsed.type);
  const detail = parsed.message !== undefined ? oneLine(parsed.message) : parseOpenAIErrorMessage(body);
  const failure: UpstreamFailure = {
    status,
    action,
    message: oneLine(`upstream ${status}: ${detail}`),
  };
  const wait = retryAfterMs(headers);
  if (wait !== undefined) failure.retryAfterMs = wait;
  if (action === 'reject') failure.body = body;
  return failure;
}
