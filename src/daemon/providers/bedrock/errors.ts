/**
 * Bedrock failures -> the relay's decision. Bedrock names the error in the `x-amzn-ErrorType`
 * header (`ThrottlingException:http://internal.amazon.com/coral/...`), sometimes also as `__type`
 * in the body, and explains it in `{"message"}`; the type decides, the status is the fallback.
 * The same table serves `:message-type: exception` frames inside a ConverseStream.
 */
import { retryAfterMs } from '../retry-after.js';
import type { FailureAction, UpstreamFailure } from '../types.js';

type Headers = Record<string, string | string[] | undefined>;

/** Error type (without namespace or URL suffix, lower-cased) -> action. */
const ACTIONS: Record<string, FailureAction> = {
  throttlingexception: 'retry',
  servicequotaexceededexception: 'retry',
  serviceunavailableexception: 'retry',
  serviceunavailable: 'retry',
  modelnotreadyexception: 'retry',
  internalserverexception: 'retry',
  internalfailure: 'retry',
  modeltimeoutexception: 'retry',
  modelerrorexception: 'retry',
  modelstreamerrorexception: 'retry',
  resourcenotfoundexception: 'retry',
  unrecognizedclientexception: 'disable',
  accessdeniedexception: 'disable',
  expiredtokenexception: 'disable',
  invalidsignatureexception: 'disable',
  incompletesignatureexception: 'disable',
  missingauthenticationtokenexception: 'disable',
  invalidclienttokenid: 'disable',
  validationexception: 'reject',
};

/** Stream exception type -> the HTTP status AWS documents for it. */
const STREAM_STATUS: Record<string, number> = {
  throttlingexception: 429,
  modelstreamerrorexception: 424,
  validationexception: 400,
  internalserverexception: 500,
  serviceunavailableexception: 503,
  modeltimeoutexception: 408,
};

function headerValue(headers: Headers, name: string): string | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  const v = key === undefined ? undefined : headers[key];
  return Array.isArray(v) ? v[0] : v;
}

/** `com.amazon.coral.service#ThrottlingException:http://...` -> `ThrottlingException`. */
export function normalizeErrorType(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  const name = raw.split(':')[0]?.split('#').pop()?.trim();
  return name === '' ? undefined : name;
}

function parseBody(body: string): { message?: string; type?: string } {
  try {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    const message = parsed.message ?? parsed.Message;
    const type = parsed.__type ?? parsed.code;
    return {
      ...(typeof message === 'string' ? { message } : {}),
      ...(typeof type === 'string' ? { type } : {}),
    };
  } catch {
    return {};
  }
}

function actionForStatus(status: number): FailureAction {
  if (status === 401 || status === 403) return 'disable';
  if (status === 404 || status === 408 || status === 424 || status === 429 || status >= 500) return 'retry';
  return 'reject';
}

function oneLine(s: string, max = 300): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

export function classifyBedrockError(status: number, headers: Headers, body: string): UpstreamFailure {
  const parsed = parseBody(body);
  const type =
    normalizeErrorType(headerValue(headers, 'x-amzn-errortype')) ?? normalizeErrorType(parsed.type);
  const action = (type === undefined ? undefined : ACTIONS[type.toLowerCase()]) ?? actionForStatus(status);
  const detail = parsed.message ?? (body.trim() === '' ? 'no body' : body);
  return {
    status,
    action,
    message: oneLine(`bedrock ${status}${type ? ` ${type}` : ''}: ${detail}`),
    retryAfterMs: retryAfterMs(headers),
    body,
  };
}

/** An in-stream `:message-type: exception` (or `error`) frame -> the same decision as an HTTP error. */
export function streamExceptionFailure(exceptionType: string, payload: string): UpstreamFailure {
  const type = normalizeErrorType(exceptionType) ?? 'UnknownException';
  const status = STREAM_STATUS[type.toLowerCase()] ?? 500;
  const message = parseBody(payload).message ?? (payload.trim() === '' ? 'no message' : payload);
  return {
    status,
    action: ACTIONS[type.toLowerCase()] ?? actionForStatus(status),
    message: oneLine(`bedrock stream ${type}: ${message}`),
    body: payload,
  };
}
