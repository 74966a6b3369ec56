/**
 * Bedrock error classification: the `x-amzn-ErrorType` header (or a body `__type`) decides,
 * the HTTP status is the fallback; messages come from `{"message"}`; Retry-After is read when
 * present; the recorded 400 body from the converse-error-400 cassette is rejected, not retried.
 */
import { describe, expect, it } from 'vitest';
import { bedrockAdapter } from '../../src/daemon/providers/bedrock/index.js';
import { normalizeErrorType } from '../../src/daemon/providers/bedrock/errors.js';
import type { FailureAction } from '../../src/daemon/providers/types.js';

const CORAL = 'http://internal.amazon.com/coral/com.amazon.bedrock/';

describe('bedrock classifyError', () => {
  it.each<[number, string | undefined, FailureAction]>([
    [429, 'ThrottlingException', 'retry'],
    [429, 'ServiceQuotaExceededException', 'retry'],
    [503, 'ServiceUnavailableException', 'retry'],
    [429, 'ModelNotReadyException', 'retry'],
    [500, 'InternalServerException', 'retry'],
    [408, 'ModelTimeoutException', 'retry'],
    [424, 'ModelErrorException', 'retry'],
    [404, 'ResourceNotFoundException', 'retry'],
    [403, 'UnrecognizedClientException', 'disable'],
    [403, 'AccessDeniedException', 'disable'],
    [403, 'ExpiredTokenException', 'disable'],
    [403, 'InvalidSignatureException', 'disable'],
    [400, 'ValidationException', 'reject'],
    // No type header: the status decides.
    [500, undefined, 'retry'],
    [502, undefined, 'retry'],
    [429, undefined, 'retry'],
    [401, undefined, 'disable'],
    [403, undefined, 'disable'],
    [400, undefined, 'reject'],
    [413, undefined, 'reject'],
    [404, undefined, 'retry'],
  ])('%i %s -> %s', (status, type, action) => {
    const headers = type ? { 'x-amzn-errortype': `${type}:${CORAL}`, 'x-amzn-requestid': 'r-1' } : {};
    const f = bedrockAdapter.classifyError(status, headers, JSON.stringify({ message: 'details here' }));
    expect(f.action).toBe(action);
    expect(f.status).toBe(status);
    expect(f.message).toContain('details here');
    if (type) expect(f.message).toContain(type);
    expect(f.message).not.toMatch(/\n/);
  });

  it('the type beats the status: a 400 ThrottlingException retries, a 500 ValidationException rejects', () => {
    expect(
      bedrockAdapter.classifyError(400, { 'x-amzn-ErrorType': 'ThrottlingException' }, '{}').action,
    ).toBe('retry');
    expect(
      bedrockAdapter.classifyError(500, { 'x-amzn-errortype': 'ValidationException:x' }, '{}').action,
    ).toBe('reject');
  });

  it('reads the type from a JSON-protocol `__type` when the header is missing', () => {
    const f = bedrockAdapter.classifyError(
      400,
      {},
      JSON.stringify({
        __type: 'com.amazon.coral.service#UnrecognizedClientException',
        Message: 'The security token is invalid.',
      }),
    );
    expect(f.action).toBe('disable');
    expect(f.message).toContain('UnrecognizedClientException');
    expect(f.message).toContain('The security token is invalid.');
  });

  it('the recorded invalid-model 400 is rejected and its body kept for passing back', () => {
    // converse-error-400.cassette.yaml response (parsed_body: message: ...), re-serialised.
    const body = '{"message": "The provided model identifier is invalid."}';
    const f = bedrockAdapter.classifyError(400, { 'content-type': 'application/json' }, body);
    expect(f).toMatchObject({ status: 400, action: 'reject', body });
    expect(f.message).toBe('bedrock 400: The provided model identifier is invalid.');
  });

  it('reads Retry-After, and survives non-JSON bodies', () => {
    const f = bedrockAdapter.classifyError(503, { 'retry-after': '7' }, '<html>Service Unavailable</html>');
    expect(f.retryAfterMs).toBe(7000);
    expect(f.action).toBe('retry');
    expect(f.message).toContain('<html>Service Unavailable</html>');
    expect(bedrockAdapter.classifyError(429, {}, '').retryAfterMs).toBeUndefined();
  });

  it('normalizes error type spellings', () => {
    expect(normalizeErrorType('ThrottlingException:http://internal.amazon.com/coral/x/')).toBe(
      'ThrottlingException',
    );
    expect(normalizeErrorType('com.amazon.coral.service#AccessDeniedException')).toBe(
      'AccessDeniedException',
    );
    expect(normalizeErrorType(undefined)).toBeUndefined();
  });
});
