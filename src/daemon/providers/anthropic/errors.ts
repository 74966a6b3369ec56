/**
 * Anthropic failures -> the relay's decision (PROTOCOLS 4.5). The decision is made here, where
 * the upstream's error shape is known: credential and billing failures disable the key, capacity
 * and server failures (429, 529 overloaded, 5xx) retry elsewhere after the upstream's
 * retry-after, and a request Anthropic rejects on its merits goes back to the client unchanged.
 */
import type { UpstreamFailure } from '../types.js';
import { retryAfterMs } from '../retry-after.js';
import { isRecord, str } from './types.js';

type Headers = Record<string, string | string[] | undefined>;

interface ParsedError {
  type: string | undefined;
  message: string | undefined;
}

function parseErrorBody(body: string): ParsedError {
  try {
    const v: unknown = JSON.parse(body);
    const err = isRecord(v) && isRecord(v.error) ? v.error : undefined;
    return { type: str(err?.type), message: str(err?.message) };
  } catch {
    return { type: undefined, message: undefined };
  }
}

/**
 * Anthropic reports an empty prepaid balance as a plain 400 invalid_request_error; its message is
 * the only signal, so this is the one place a message is read to take a decision.
 */
function isBillingMessage(message: string | undefined): boolean {
  return message !== undefined && /credit balance is too low/i.test(message);
}

function summary(status: number, e: ParsedError, body: string): string {
  const text = e.message ?? body.replace(/\s+/g, ' ').trim();
  const line = `anthropic ${status}${e.type ? ` ${e.type}` : ''}: ${text}`;
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

function action(status: number, e: ParsedError): UpstreamFailure['action'] {
  if (status === 401 || status === 403 || status === 402) return 'disable';
  if (e.type === 'authentication_error' || e.type === 'permission_error' || e.type === 'billing_error')
    return 'disable';
  if (status === 400 && isBillingMessage(e.message)) return 'disable';
  if (status === 408 || status === 409 || status === 429 || status >= 500) return 'retry';
  if (e.type === 'overloaded_error' || e.type === 'rate_limit_error' || e.type === 'api_error')
    return 'retry';
  return 'reject';
}

export function classifyError(status: number, headers: Headers, body: string): UpstreamFailure {
  const e = parseErrorBody(body);
  const decided = action(status, e);
  const failure: UpstreamFailure = { status, action: decided, message: summary(status, e, body) };
  if (decided === 'retry') failure.retryAfterMs = retryAfterMs(headers);
  if (decided === 'reject') failure.body = body;
  return failure;
}

/** The HTTP status Anthropic uses for each error type, for errors that arrive inside a 200 stream. */
const STATUS_OF_TYPE: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  overloaded_error: 529,
};

/** An `event: error` payload after HTTP 200 -> the same decision as the equivalent status. */
export function classifyStreamError(data: string): UpstreamFailure {
  const e = parseErrorBody(data);
  const status = (e.type && STATUS_OF_TYPE[e.type]) || 500;
  return classifyError(status, {}, data);
}
