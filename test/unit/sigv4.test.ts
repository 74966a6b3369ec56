/**
 * The SigV4 signer against the AWS test-suite vectors copied from awslabs/aws-c-auth (every step:
 * canonical request, string to sign, signature, the final Authorization header), the classic
 * post-x-www-form-urlencoded variant, and the Bedrock-specific double encoding of `:` in model ids.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  canonicalRequest,
  canonicalUri,
  credentialScope,
  parseAuthorization,
  sha256Hex,
  signRequest,
  signRequestDetailed,
  signature,
  signingKey,
  stringToSign,
} from '../../src/daemon/providers/bedrock/sigv4.js';
import { fixturePath, readFixtureJson } from '../support/fixtures.js';

const CASES = [
  'get-vanilla',
  'post-vanilla',
  'get-vanilla-query-order-key-case',
  'get-vanilla-with-session-token',
  'post-x-www-form-urlencoded',
];

interface VectorContext {
  credentials: { access_key_id: string; secret_access_key: string; token?: string };
  region: string;
  service: string;
  sign_body: boolean;
  timestamp: string;
}

interface ParsedRequest {
  method: string;
  target: string;
  headers: Record<string, string>;
  body: string;
}

/** request.txt: `METHOD target HTTP/1.1`, `Name:value` lines, a blank line, then the body. */
function parseRequestTxt(text: string): ParsedRequest {
  const [head = '', body = ''] = text.split(/\n\n/);
  const [requestLine = '', ...headerLines] = head.split('\n');
  const [method = '', target = ''] = requestLine.split(' ');
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    headers[line.slice(0, colon)] = line.slice(colon + 1);
  }
  return { method, target, headers, body };
}

function loadCase(name: string) {
  const dir = `bedrock/sigv4/${name}`;
  const read = (f: string) => fs.readFileSync(fixturePath(`${dir}/${f}`), 'utf8');
  const ctx = readFixtureJson<VectorContext>(`${dir}/context.json`);
  const req = parseRequestTxt(read('request.txt'));
  const signedRequest = read('header-signed-request.txt');
  const authorization = /^Authorization:(.*)$/m.exec(signedRequest)?.[1];
  return {
    ctx,
    req,
    canonical: read('header-canonical-request.txt'),
    sts: read('header-string-to-sign.txt'),
    signature: read('header-signature.txt').trim(),
    authorization,
  };
}

describe('SigV4 against the aws-c-auth vectors', () => {
  for (const name of CASES) {
    it(`${name}: canonical request, string to sign, signature and header`, () => {
      const v = loadCase(name);
      const host = v.req.headers.Host ?? '';
      const result = signRequestDetailed(
        {
          method: v.req.method,
          url: `https://${host}${v.req.target}`,
          headers: v.req.headers,
          body: v.req.body,
        },
        {
          accessKeyId: v.ctx.credentials.access_key_id,
          secretAccessKey: v.ctx.credentials.secret_access_key,
          sessionToken: v.ctx.credentials.token,
        },
        {
          region: v.ctx.region,
          service: v.ctx.service,
          date: new Date(v.ctx.timestamp),
          signBody: v.ctx.sign_body,
        },
      );
      expect(result.canonicalRequest).toBe(v.canonical);
      expect(result.stringToSign).toBe(v.sts);
      expect(result.signature).toBe(v.signature);
      expect(result.headers.authorization).toBe(v.authorization);
      expect(result.headers['x-amz-date']).toBe('20150830T123600Z');
      expect(result.headers['x-amz-security-token']).toBe(v.ctx.credentials.token);
    });

    it(`${name}: each exported step on its own`, () => {
      const v = loadCase(name);
      const sts = stringToSign(
        '20150830T123600Z',
        credentialScope('20150830', v.ctx.region, v.ctx.service),
        v.canonical,
      );
      expect(sts).toBe(v.sts);
      const key = signingKey(v.ctx.credentials.secret_access_key, '20150830', v.ctx.region, v.ctx.service);
      expect(signature(key, v.sts)).toBe(v.signature);
    });
  }

  it('signing key matches the AWS documentation example', () => {
    // docs.aws.amazon.com "Examples of how to derive a signing key": 20120215 / us-east-1 / iam.
    const key = signingKey('wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', '20120215', 'us-east-1', 'iam');
    expect(key.toString('hex')).toBe('f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d');
  });

  it('classic post-x-www-form-urlencoded (signs only content-type;host;x-amz-date)', () => {
    const headers = signRequest(
      {
        method: 'POST',
        url: 'https://example.amazonaws.com/',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'Param1=value1',
      },
      { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
      { region: 'us-east-1', service: 'service', date: new Date('2015-08-30T12:36:00Z') },
    );
    expect(headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ' +
        'SignedHeaders=content-type;host;x-amz-date, ' +
        'Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a',
    );
    expect(headers['x-amz-content-sha256']).toBeUndefined();
  });
});

describe('SigV4 for Bedrock paths', () => {
  const MODEL_URL =
    'https://bedrock-runtime.us-east-1.amazonaws.com/model/us.anthropic.claude-3-5-sonnet-20241022-v2%3A0/converse';
  const creds = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
  const date = new Date('2024-11-05T10:20:30Z');

  it('double-encodes the model id: %3A on the wire is %253A in the canonical path', () => {
    const result = signRequestDetailed(
      { method: 'POST', url: MODEL_URL, headers: { 'content-type': 'application/json' }, body: '{}' },
      creds,
      { region: 'us-east-1', service: 'bedrock', date },
    );
    const lines = result.canonicalRequest.split('\n');
    expect(lines[0]).toBe('POST');
    expect(lines[1]).toBe('/model/us.anthropic.claude-3-5-sonnet-20241022-v2%253A0/converse');
    expect(lines[2]).toBe('');
    expect(result.canonicalRequest).toContain('host:bedrock-runtime.us-east-1.amazonaws.com\n');
    expect(lines[lines.length - 1]).toBe(sha256Hex('{}'));
    expect(result.headers.authorization).toContain(
      '/20241105/us-east-1/bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-date,',
    );
  });

  it('signing the singly-encoded path would give a different signature', () => {
    const sign = (url: string) =>
      signRequestDetailed({ method: 'POST', url, headers: {}, body: '{}' }, creds, {
        region: 'us-east-1',
        service: 'bedrock',
        date,
      }).signature;
    expect(sign(MODEL_URL)).not.toBe(sign(MODEL_URL.replace('%3A', '%253A')));
  });

  it('canonicalUri encodes each segment, normalises dot segments and empty segments', () => {
    expect(canonicalUri('/model/arn%3Aaws%3Abedrock%2Fx/converse')).toBe(
      '/model/arn%253Aaws%253Abedrock%252Fx/converse',
    );
    expect(canonicalUri('/a/./b/../c//d/')).toBe('/a/c/d/');
    expect(canonicalUri('/')).toBe('/');
    expect(canonicalUri('/ü space')).toBe('/%C3%BC%20space');
  });

  it('canonicalRequest lower-cases, trims and collapses header values and sorts query pairs', () => {
    const { text, signedHeaders } = canonicalRequest({
      method: 'get',
      path: '/',
      query: 'b=2&a=%7e x&a=1',
      headers: { 'X-Custom': '  a   b  ', Host: 'h' },
      payloadHash: 'HASH',
    });
    expect(text).toBe('GET\n/\na=1&a=~%20x&b=2\nhost:h\nx-custom:a b\n\nhost;x-custom\nHASH');
    expect(signedHeaders).toBe('host;x-custom');
  });

  it('adds the session token header and signs it; x-amz-content-sha256 only when asked', () => {
    const withToken = signRequest(
      { method: 'POST', url: MODEL_URL, headers: {}, body: 'x' },
      { ...creds, sessionToken: 'TOKEN' },
      { region: 'eu-west-1', service: 'bedrock', date, signBody: true },
    );
    expect(withToken['x-amz-security-token']).toBe('TOKEN');
    expect(withToken['x-amz-content-sha256']).toBe(sha256Hex('x'));
    expect(withToken.authorization).toContain(
      'SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,',
    );
  });

  it('parseAuthorization reads back what signRequest wrote', () => {
    const headers = signRequest({ method: 'POST', url: MODEL_URL, headers: {}, body: '' }, creds, {
      region: 'us-west-2',
      service: 'bedrock',
      date,
    });
    const parsed = parseAuthorization(headers.authorization ?? '');
    expect(parsed).toMatchObject({
      accessKeyId: 'AKIDEXAMPLE',
      date: '20241105',
      region: 'us-west-2',
      service: 'bedrock',
      signedHeaders: ['host', 'x-amz-date'],
    });
    expect(parsed?.signature).toMatch(/^[0-9a-f]{64}$/);
    expect(parseAuthorization('Bearer abc')).toBeNull();
    expect(parseAuthorization('AWS4-HMAC-SHA256 Credential=a/b, SignedHeaders=host, Signature=x')).toBeNull();
  });

  it("signs with the key of each request's own secret, day, region and service, also interleaved", () => {
    // the signing key is cached per (secret, day, region, service); every signature must still be
    // the one the key derived afresh gives
    const secrets = [creds.secretAccessKey, 'another-secret-key-0000000000000000000000'];
    const days = [date, new Date('2024-11-06T00:00:01Z'), new Date('2024-11-05T23:59:59Z')];
    const regions = ['us-east-1', 'eu-west-3'];
    for (let round = 0; round < 2; round++)
      for (const secret of secrets)
        for (const day of days)
          for (const region of regions) {
            const r = signRequestDetailed(
              { method: 'POST', url: MODEL_URL, headers: {}, body: '{}' },
              { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: secret },
              { region, service: 'bedrock', date: day },
            );
            const key = signingKey(secret, r.headers['x-amz-date']!.slice(0, 8), region, 'bedrock');
            expect(r.signature).toBe(signature(key, r.stringToSign));
          }
  });
});
