/**
 * A gateway error -> Anthropic's error shape (PROTOCOLS 4.5), used before the first byte as a
 * JSON body and after it as an `event: error` frame. The type is chosen from the OpenAI-style code
 * first (it is the more specific), then from the HTTP status.
 */
import type { WireError } from '../types.js';
import type { AnthropicErrorBody } from '../../providers/anthropic/types.js';

const TYPE_BY_CODE: Record<string, string> = {
  invalid_api_key: 'authentication_error',
  rate_limit_exceeded: 'rate_limit_error',
  model_not_found: 'not_found_error',
  not_found: 'not_found_error',
};

function typeByStatus(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status === 529 || status === 503) return 'overloaded_error';
  if (status >= 500) return 'api_error';
  return 'invalid_request_error';
}

export function anthropicErrorType(err: WireError): string {
  return TYPE_BY_CODE[err.code] ?? typeByStatus(err.status);
}

export function anthropicErrorBody(err: WireError): AnthropicErrorBody {
  return { type: 'error', error: { type: anthropicErrorType(err), message: err.message } };
}
