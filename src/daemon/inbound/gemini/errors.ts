/**
 * A gateway error -> Gemini's error shape `{"error":{"code","message","status"}}` (PROTOCOLS.md
 * 5.5), as a JSON body before the first byte and as a `data:` frame after it. The status name is
 * the google.rpc code for the HTTP status; a missing or unknown key is 401 UNAUTHENTICATED (SPEC).
 */
import type { GeminiErrorBody } from '../../providers/gemini/types.js';
import type { WireError } from '../types.js';

export function geminiStatusName(status: number): string {
  if (status === 401) return 'UNAUTHENTICATED';
  if (status === 403) return 'PERMISSION_DENIED';
  if (status === 404) return 'NOT_FOUND';
  if (status === 429) return 'RESOURCE_EXHAUSTED';
  if (status === 502 || status === 503 || status === 504) return 'UNAVAILABLE';
  if (status >= 400 && status < 500) return 'INVALID_ARGUMENT';
  return 'INTERNAL';
}

export function geminiErrorBody(err: WireError): GeminiErrorBody {
  return { error: { code: err.status, message: err.message, status: geminiStatusName(err.status) } };
}
