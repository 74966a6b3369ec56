/**
 * The OpenAI-family error table: which upstream answers disable a key, which are retried
 * elsewhere (with the wait the upstream asked for) and which are the client's own fault and go
 * back unchanged; the one-line message; and Retry-After parsing in all its spellings.
 */
import { describe, expect, it } from 'vitest';
import { classifyOpenAIError, parseOpenAIErrorMessage } from '../../src/daemon/providers/openai/errors.js';
import { retryAfterMs } from '../../src/daemon/providers/retry-after.js';
import { cassetteResponseBodies } from '../support/fixtures.js';

const err = (code: string | null, message = 'boom', type = 'invalid_request_error'): string =>
  JSON.stringify({ error: { message, type, param: null, code } });

describe('classifyOpenAIError', () => {
  const table: [string, number, string, 'retry' | 'reject' | 'disable'][] = [
    ['invalid key', 401, err('invalid_api_key', 'Incorrect API key provided: sk-abc***xyz.'), 'disable'],
    ['deactivated account', 403, err('account_deactivated'), 'disable'],
    ['unsupported region', 403, err('unsupported_country_region_territory'), 'disable'],
    ['payment required', 402, '', 'disable'],
    [
      'quota exhausted',
      429,
      err('insufficient_quota', 'You exceeded your current quota', 'insufficient_quota'),
      'disable',
    ],
    ['billing limit', 429, err('billing_hard_limit_reached'), 'disable'],
    [
      'Qwen arrears on 400',
      400,
      JSON.stringify({ code: 'Arrearage', message: 'Access denied', request_id: 'r' }),
      'disable',
    ],
    ['rate limit', 429, err('rate_limit_exceeded', 'Rate limit reached', 'requests'), 'retry'],
    [
      'Azure 429 with a numeric-string code',
      429,
      JSON.stringify({ error: { code: '429', message: 'retry later' } }),
      'retry',
    ],
    ['timeout', 408, '', 'retry'],
    ['conflict', 409, '', 'retry'],
    ['server error', 500, err(null, 'The server had an error', 'server_error'), 'retry'],
    ['bad gateway html', 502, '<html><body>502 Bad Gateway</body></html>', 'retry'],
    ['overloaded', 503, err(null, 'overloaded'), 'retry'],
    ['model not served', 404, err('model_not_found'), 'retry'],
    ['bad request', 400, err('unsupported_parameter'), 'reject'],
    ['too large', 413, err(null, 'Request too large'), 'reject'],
    ['unprocessable', 422, JSON.stringify({ detail: [{ msg: 'field required' }] }), 'reject'],
    ['Azure content filter', 400, err('content_filter', 'The response was filtered'), 'reject'],
  ];

  for (const [name, status, body, action] of table) {
    it(`${status} ${name} -> ${action}`, () => {
      const f = classifyOpenAIError(status, {}, body);
      expect(f.action).toBe(action);
      expect(f.status).toBe(status);
      expect(f.message.startsWith(`upstream ${status}: `)).toBe(true);
      expect(f.message).not.toMatch(/\n/);
      if (action === 'reject') expect(f.body).toBe(body);
      else expect(f.body).toBeUndefined();
    });
  }

  it('reads the wait from the headers', () => {
    expect(classifyOpenAIError(429, { 'retry-after': '7' }, err('rate_limit_exceeded')).retryAfterMs).toBe(
      7000,
    );
    expect(classifyOpenAIError(429, { 'retry-after-ms': '250', 'retry-after': '7' }, '').retryAfterMs).toBe(
      250,
    );
    expect(classifyOpenAIError(500, {}, '').retryAfterMs).toBeUndefined();
  });

  it('classifies the recorded 400 and 404 answers', () => {
    const bad = cassetteResponseBodies('openai/error-400-max_tokens-unsupported.cassette.yaml')[0] ?? '';
    const f400 = classifyOpenAIError(400, {}, bad);
    expect(f400).toMatchObject({ action: 'reject', body: bad });
    expect(f400.message).toBe(
      "upstream 400: Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
    );
    const missing = cassetteResponseBodies('openai/error-404-model-not-found.cassette.yaml')[0] ?? '';
    expect(classifyOpenAIError(404, {}, missing)).toMatchObject({
      action: 'retry',
      message: 'upstream 404: The model `gpt-4.1-nano-wrong` does not exist or you do not have access to it.',
    });
  });

  it('keeps the message to one short line without credentials', () => {
    const long = err('server_error', `line one\nline two ${'x'.repeat(1000)}`);
    const f = classifyOpenAIError(500, {}, long);
    expect(f.message.length).toBeLessThanOrEqual(300);
    expect(f.message).toMatch(/^upstream 500: line one line two x+…$/);
    const leaky = classifyOpenAIError(
      401,
      {},
      err('invalid_api_key', 'Incorrect API key provided: sk-proj-ABCDEF123456789'),
    );
    expect(leaky.message).not.toContain('ABCDEF123456789');
    expect(classifyOpenAIError(401, {}, 'Authorization: Bearer sk-live-secretvalue1').message).not.toContain(
      'secretvalue1',
    );
  });
});

describe('parseOpenAIErrorMessage', () => {
  it('finds the message in the shapes upstreams use', () => {
    expect(parseOpenAIErrorMessage(err('x', 'nested message'))).toBe('nested message');
    expect(parseOpenAIErrorMessage(JSON.stringify({ error: 'plain string error' }))).toBe(
      'plain string error',
    );
    expect(
      parseOpenAIErrorMessage(
        JSON.stringify({ code: 'InvalidApiKey', message: 'Invalid API-key provided.' }),
      ),
    ).toBe('Invalid API-key provided.');
    expect(parseOpenAIErrorMessage(JSON.stringify({ detail: 'Not Found' }))).toBe('Not Found');
    expect(parseOpenAIErrorMessage('<html>\n<b>oops</b></html>')).toBe('<html> <b>oops</b></html>');
    expect(parseOpenAIErrorMessage('')).toBe('no error body');
  });
});

describe('retryAfterMs', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it('prefers retry-after-ms, then seconds, then an HTTP date', () => {
    expect(retryAfterMs({ 'retry-after-ms': '1500' })).toBe(1500);
    expect(retryAfterMs({ 'retry-after-ms': '12.4' })).toBe(13);
    expect(retryAfterMs({ 'retry-after': '2' })).toBe(2000);
    expect(retryAfterMs({ 'retry-after': '0.5' })).toBe(500);
    expect(retryAfterMs({ 'retry-after': 'Thu, 01 Jan 2026 00:00:30 GMT' }, now)).toBe(30_000);
    expect(retryAfterMs({ 'retry-after': 'Wed, 31 Dec 2025 23:00:00 GMT' }, now)).toBe(0);
  });

  it('skips unusable values and reads arrays and odd casing', () => {
    expect(retryAfterMs({ 'retry-after-ms': 'soon', 'retry-after': '3' })).toBe(3000);
    expect(retryAfterMs({ 'retry-after': '-5' })).toBeUndefined();
    expect(retryAfterMs({ 'retry-after': 'whenever' })).toBeUndefined();
    expect(retryAfterMs({ 'retry-after': ['4', '9'] })).toBe(4000);
    expect(retryAfterMs({ 'Retry-After': '6' })).toBe(6000);
    expect(retryAfterMs({})).toBeUndefined();
    expect(retryAfterMs({ 'retry-after': undefined })).toBeUndefined();
  });
});
