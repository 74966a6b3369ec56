/**
 * Gemini failures -> the relay's decision. Gemini reports a bad API key as 400 INVALID_ARGUMENT
 * with `reason: API_KEY_INVALID` in an ErrorInfo detail, so the decision reads the structured
 * status and reasons, never the message text. A 429 says how long to wait in a RetryInfo detail
 * (`"retryDelay":"34.4s"`), not in a header; the header is only the fallback.
 */
import { retryAfterMs } from '../retry-after.js';
import type { FailureAction, UpstreamFailure } from '../types.js';

type Headers = Record<string, string | string[] | undefined>;

export interface GeminiErrorObject {
  code?: unknown;
  message?: unknown;
  status?: unknown;
  details?: unknown;
}

/** ErrorInfo reasons meaning our key, project or billing is at fault, not the request. */
const CREDENTIAL_REASONS = new Set([
  'API_KEY_INVALID',
  'API_KEY_SERVICE_BLOCKED',
  'API_KEY_HTTP_REFERRER_BLOCKED',
  'API_KEY_IP_ADDRESS_BLOCKED',
  'CONSUMER_SUSPENDED',
  'SERVICE_DISABLED',
  'BILLING_DISABLED',
]);

const RETRY_STATUSES = new Set([
  'RESOURCE_EXHAUSTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DEADLINE_EXCEEDED',
  'ABORTED',
]);
/** FAILED_PRECONDITION is Gemini's "not available in your region / enable billing": the account's problem. */
const DISABLE_STATUSES = new Set(['UNAUTHENTICATED', 'PERMISSION_DENIED', 'FAILED_PRECONDITION']);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function parseGeminiError(body: string): GeminiErrorObject | undefined {
  try {
    const v: unknown = JSON.parse(body);
    // some proxies wrap the error in a one-element array
    const obj = Array.isArray(v) ? (v[0] as unknown) : v;
    return isRecord(obj) && isRecord(obj.error) ? obj.error : undefined;
  } catch {
    return undefined;
  }
}

function details(err: GeminiErrorObject | undefined): Record<string, unknown>[] {
  return Array.isArray(err?.details) ? err.details.filter(isRecord) : [];
}

/** google.protobuf.Duration in JSON is decimal seconds with an `s` suffix, e.g. "34.4s". */
export function retryDelayMs(err: GeminiErrorObject | undefined): number | undefined {
  for (const d of details(err)) {
    if (typeof d.retryDelay !== 'string') continue;
    const m = /^(\d+(?:\.\d+)?)s$/.exec(d.retryDelay.trim());
    if (m?.[1] !== undefined) return Math.ceil(Number(m[1]) * 1000);
  }
  return undefined;
}

function decide(status: number, err: GeminiErrorObject | undefined): FailureAction {
  const reasons = details(err).map((d) => d.reason);
  const grpc = typeof err?.status === 'string' ? err.status : '';
  if (reasons.some((r) => typeof r === 'string' && CREDENTIAL_REASONS.has(r))) return 'disable';
  if (status === 401 || status === 403 || DISABLE_STATUSES.has(grpc)) return 'disable';
  if (status === 408 || status === 429 || status >= 500 || RETRY_STATUSES.has(grpc)) return 'retry';
  return 'reject';
}

function summary(status: number, err: GeminiErrorObject | undefined): string {
  const grpc = typeof err?.status === 'string' ? ` ${err.status}` : '';
  const text = typeof err?.message === 'string' ? err.message : 'no error message';
  const reason = details(err).find((d) => typeof d.reason === 'string')?.reason;
  const why = typeof reason === 'string' ? ` (${reason})` : '';
  const line = `gemini ${status}${grpc}${why}: ${text}`.replace(/\s+/g, ' ');
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

export function failureFromGeminiError(
  status: number,
  err: GeminiErrorObject | undefined,
  headers: Headers = {},
  body?: string,
): UpstreamFailure {
  const action = decide(status, err);
  const failure: UpstreamFailure = { status, action, message: summary(status, err) };
  if (action === 'retry') {
    const wait = retryDelayMs(err) ?? retryAfterMs(headers);
    if (wait !== undefined) failure.retryAfterMs = wait;
  }
  if (action === 'reject' && body !== undefined) failure.body = body;
  return failure;
}

export function classifyGeminiError(status: number, headers: Headers, body: string): UpstreamFailure {
  return failureFromGeminiError(status, parseGeminiError(body), headers, body);
}

/** An `{"error":{...}}` frame inside a 200 stream: its `code` is the HTTP status it stands for. */
export function failureFromStreamError(err: GeminiErrorObject): UpstreamFailure {
  const status = typeof err.code === 'number' && err.code >= 400 && err.code < 600 ? err.code : 500;
  return failureFromGeminiError(status, err);
}
