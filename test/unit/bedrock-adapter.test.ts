/**
 * The Bedrock adapter's HTTP request: the regional URL or the channel's base URL, the model id
 * encoded once in the path, SigV4 signing that a server can verify (double-encoded canonical
 * path), session tokens, Bearer API keys, and the adapter's static description.
 */
import { describe, expect, it } from 'vitest';
import { bedrockAdapter, parseBedrockSecret } from '../../src/daemon/providers/bedrock/index.js';
import {
  canonicalRequest,
  credentialScope,
  parseAuthorization,
  sha256Hex,
  signature,
  signingKey,
  stringToSign,
} from '../../src/daemon/providers/bedrock/sigv4.js';
import type { OpenAIChatRequest } from '../../src/daemon/providers/openai/types.js';
import type { UpstreamTarget } from '../../src/daemon/providers/types.js';
import { upstreamTarget } from '../support/upstream-target.js';

describe('bedrockAdapter.chatRequest', () => {
  const base: UpstreamTarget = upstreamTarget(
    { name: 'b', type: 'bedrock', baseUrl: '', region: 'eu-west-3', timeoutMs: 1000 },
    'AKIDEXAMPLE:wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
    'us.anthropic.claude-3-5-sonnet-20241022-v2:0',
  );
  const req: OpenAIChatRequest = { model: 'claude', messages: [{ role: 'user', content: 'hi' }] };

  it('builds the regional URL with the model id encoded once, and a verifiable SigV4 signature', () => {
    const up = bedrockAdapter.chatRequest(req, base, { dropped: [] });
    expect(up.method).toBe('POST');
    expect(up.url).toBe(
      'https://bedrock-runtime.eu-west-3.amazonaws.com/model/us.anthropic.claude-3-5-sonnet-20241022-v2%3A0/converse',
    );
    expect(up.headers.accept).toBe('application/json');
    expect(JSON.parse(String(up.body))).toEqual({ messages: [{ role: 'user', content: [{ text: 'hi' }] }] });
    const auth = parseAuthorization(up.headers.authorization ?? '');
    expect(auth).toMatchObject({ accessKeyId: 'AKIDEXAMPLE', region: 'eu-west-3', service: 'bedrock' });
    // Recompute as a server would, from what goes on the wire.
    const headers: Record<string, string> = {};
    for (const h of auth?.signedHeaders ?? [])
      headers[h] = h === 'host' ? 'bedrock-runtime.eu-west-3.amazonaws.com' : (up.headers[h] ?? '');
    const path = new URL(up.url).pathname;
    const canonical = canonicalRequest({
      method: 'POST',
      path,
      query: '',
      headers,
      payloadHash: sha256Hex(up.body),
    });
    expect(canonical.text.split('\n')[1]).toBe(
      '/model/us.anthropic.claude-3-5-sonnet-20241022-v2%253A0/converse',
    );
    const amzDate = up.headers['x-amz-date'] ?? '';
    const sts = stringToSign(
      amzDate,
      credentialScope(amzDate.slice(0, 8), 'eu-west-3', 'bedrock'),
      canonical.text,
    );
    expect(
      signature(
        signingKey('wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', amzDate.slice(0, 8), 'eu-west-3', 'bedrock'),
        sts,
      ),
    ).toBe(auth?.signature);
  });

  it('streams to converse-stream, honours a base URL, defaults the region, sends a session token', () => {
    const target = {
      ...base,
      secret: 'AK:SK:TOKEN',
      channel: { ...base.channel, region: null, baseUrl: 'http://127.0.0.1:9999/' },
    };
    const up = bedrockAdapter.chatRequest({ ...req, stream: true }, target, { dropped: [] });
    expect(up.url).toBe(
      'http://127.0.0.1:9999/model/us.anthropic.claude-3-5-sonnet-20241022-v2%3A0/converse-stream',
    );
    expect(up.headers.accept).toBe('application/vnd.amazon.eventstream');
    expect(up.headers['x-amz-security-token']).toBe('TOKEN');
    expect(up.headers.authorization).toContain('/us-east-1/bedrock/aws4_request');
    expect(up.headers.authorization).toContain('x-amz-security-token');
  });

  it('sends a Bedrock API key as a Bearer token, unsigned', () => {
    const up = bedrockAdapter.chatRequest(
      req,
      { ...base, secret: 'ABSKQmVkcm9ja0FQSUtleQ==' },
      { dropped: [] },
    );
    expect(up.headers.authorization).toBe('Bearer ABSKQmVkcm9ja0FQSUtleQ==');
    expect(up.headers['x-amz-date']).toBeUndefined();
  });

  it('parses secrets and describes the adapter', () => {
    expect(parseBedrockSecret('A:B')).toEqual({ accessKeyId: 'A', secretAccessKey: 'B' });
    expect(parseBedrockSecret('A:B:C')).toEqual({
      accessKeyId: 'A',
      secretAccessKey: 'B',
      sessionToken: 'C',
    });
    expect(parseBedrockSecret('apikey')).toBeNull();
    expect(bedrockAdapter.defaultBaseUrl('bedrock')).toBeNull();
    expect(bedrockAdapter.passthrough).toBeNull();
    expect(bedrockAdapter.streamFraming).toBe('aws-eventstream');
    expect(bedrockAdapter.types).toEqual(['bedrock']);
  });
});
