/**
 * The Anthropic error classification table (PROTOCOLS 4.5): which upstream answers disable the
 * key, which retry elsewhere (with the upstream's retry-after), and which go back to the client.
 */
import { describe, expect, it } from 'vitest';
import { classifyError, classifyStreamError } from '../../src/daemon/providers/anthropic/errors.js';

function body(type: string, message: string): string {
  return JSON.stringify({ type: 'error', error: { type, message }, request_id: 'req_1' });
}

describe('anthropic classifyError', () => {
  const cases: [number, string, string, 'retry' | 'reject' | 'disable'][] = [
    [401, 'authentication_error', 'invalid x-api-key', 'disable'],
    [403, 'permission_error', 'not allowed', 'disable'],
    [402, 'billing_error', 'payment required', 'disable'],
    [400, 'invalid_request_error', 'Your credit balance is too low to access the Anthropic API.', 'disable'],
    [429, 'rate_limit_error', 'slow down', 'retry'],
    [529, 'overloaded_error', 'Overloaded', 'retry'],
    [500, 'api_error', 'Internal server error', 'retry'],
    [503, 'api_error', 'unavailable', 'retry'],
    [400, 'invalid_request_error', 'messages: roles must alternate', 'reject'],
    [404, 'not_found_error', 'model: claude-nope', 'reject'],
    [413, 'request_too_large', 'too big', 'reject'],
    [422, 'invalid_request_error', 'unprocessable', 'reject'],
  ];
  it.each(cases)('%i %s -> %s', (status, type, message, action) => {
    const f = classifyError(status, {}, body(type, message));
    expect(f.action).toBe(action);
    expect(f.status).toBe(status);
    expect(f.message).toContain(message);
    expect(f.message).toContain(String(status));
    if (action === 'reject') expect(f.body).toBe(body(type, message));
    else expect(f.body).toBeUndefined();
  });

  it('reads retry-after on retryable failures only', () => {
    expect(classifyError(429, { 'retry-after': '12' }, body('rate_limit_error', 'x')).retryAfterMs).toBe(
      12_000,
    );
    expect(classifyError(529, {}, body('overloaded_error', 'Overloaded')).retryAfterMs).toBeUndefined();
    expect(
      classifyError(401, { 'retry-after': '12' }, body('authentication_error', 'x')).retryAfterMs,
    ).toBeUndefined();
  });

  it('survives a non-JSON body (a proxy page) and keeps it short', () => {
    const html = `<html>${'x'.repeat(1000)}</html>`;
    const f = classifyError(502, {}, html);
    expect(f.action).toBe('retry');
    expect(f.message.length).toBeLessThanOrEqual(300);
  });

  it('passes the recorded 400 body back unchanged', () => {
    // the response of fixtures/anthropic/error-400-invalid-request.cassette.yaml (stored there as parsed_body)
    const recorded = JSON.stringify({
      error: {
        message:
          "This model does not support effort level 'xhigh'. Supported levels: high, low, max, medium.",
        type: 'invalid_request_error',
      },
      request_id: 'req_011Ca7jT9AHpgXgdv8igm4z9',
      type: 'error',
    });
    const f = classifyError(400, {}, recorded);
    expect(f.action).toBe('reject');
    expect(f.body).toBe(recorded);
    expect(f.message).toBe(
      "anthropic 400 invalid_request_error: This model does not support effort level 'xhigh'. Supported levels: high, low, max, medium.",
    );
  });

  it('classifies in-stream error events by their type', () => {
    expect(classifyStreamError(body('overloaded_error', 'Overloaded'))).toMatchObject({
      action: 'retry',
      status: 529,
    });
    expect(classifyStreamError(body('api_error', 'boom'))).toMatchObject({ action: 'retry', status: 500 });
    expect(classifyStreamError(body('invalid_request_error', 'bad'))).toMatchObject({
      action: 'reject',
      status: 400,
    });
  });
});
