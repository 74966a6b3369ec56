/**
 * The Gemini error table: which upstream answers disable a key (bad key reported as 400
 * API_KEY_INVALID, 401, 403, billing/region preconditions), which are retried elsewhere (429 with
 * RetryInfo or Retry-After, 5xx) and which go back to the client with the upstream body.
 */
import { describe, expect, it } from 'vitest';
import { geminiAdapter } from '../../src/daemon/providers/gemini/index.js';
import { API_KEY_INVALID_BODY } from '../support/sim/gemini-sim-answers.js';

function body(code: number, status: string, message: string, details?: unknown[]): string {
  return JSON.stringify({ error: { code, message, status, ...(details ? { details } : {}) } });
}

const cases: [
  string,
  number,
  string,
  Record<string, string>,
  'disable' | 'retry' | 'reject',
  number | undefined,
][] = [
  ['bad key (400 API_KEY_INVALID)', 400, JSON.stringify(API_KEY_INVALID_BODY), {}, 'disable', undefined],
  [
    '401 UNAUTHENTICATED',
    401,
    body(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.'),
    {},
    'disable',
    undefined,
  ],
  [
    '403 PERMISSION_DENIED',
    403,
    body(403, 'PERMISSION_DENIED', 'Consumer has been suspended.'),
    {},
    'disable',
    undefined,
  ],
  [
    '400 FAILED_PRECONDITION (region/billing)',
    400,
    body(400, 'FAILED_PRECONDITION', 'User location is not supported for the API use.'),
    {},
    'disable',
    undefined,
  ],
  [
    '400 INVALID_ARGUMENT',
    400,
    body(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.'),
    {},
    'reject',
    undefined,
  ],
  [
    '404 NOT_FOUND',
    404,
    body(404, 'NOT_FOUND', 'models/nope is not found for API version v1beta'),
    {},
    'reject',
    undefined,
  ],
  [
    '429 with RetryInfo',
    429,
    body(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded', [
      { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '7s' },
    ]),
    { 'retry-after': '99' },
    'retry',
    7000,
  ],
  [
    '429 with only Retry-After',
    429,
    body(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded'),
    { 'retry-after': '2' },
    'retry',
    2000,
  ],
  ['500 INTERNAL', 500, body(500, 'INTERNAL', 'An internal error has occurred.'), {}, 'retry', undefined],
  ['503 UNAVAILABLE', 503, body(503, 'UNAVAILABLE', 'The model is overloaded.'), {}, 'retry', undefined],
  ['504 DEADLINE_EXCEEDED', 504, body(504, 'DEADLINE_EXCEEDED', 'Deadline expired.'), {}, 'retry', undefined],
  ['502 from a proxy, HTML body', 502, '<html>Bad Gateway</html>', {}, 'retry', undefined],
];

describe('gemini classifyError', () => {
  it.each(cases)('%s', (_name, status, text, headers, action, wait) => {
    const f = geminiAdapter.classifyError(status, headers, text);
    expect(f.status).toBe(status);
    expect(f.action).toBe(action);
    expect(f.retryAfterMs).toBe(wait);
    // the upstream body only travels back when the client is to see it
    expect(f.body).toBe(action === 'reject' ? text : undefined);
    expect(f.message).toMatch(new RegExp(`^gemini ${status}`));
    expect(f.message.length).toBeLessThanOrEqual(300);
  });

  it('names the reason and the status in the summary', () => {
    const f = geminiAdapter.classifyError(400, {}, JSON.stringify(API_KEY_INVALID_BODY));
    expect(f.message).toBe(
      'gemini 400 INVALID_ARGUMENT (API_KEY_INVALID): API key not valid. Please pass a valid API key.',
    );
  });

  it('fractional delays round up', () => {
    const text = body(429, 'RESOURCE_EXHAUSTED', 'q', [
      { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '0.0015s' },
    ]);
    expect(geminiAdapter.classifyError(429, {}, text).retryAfterMs).toBe(2);
  });
});
