/**
 * The Bedrock adapter against the Bedrock simulator over real HTTP (undici): SigV4 verified by
 * the simulator from the raw request (double-encoded model id), a wrong secret or unknown key id
 * refused, Bearer API keys, the ConverseStream wire shape decoded by the real event-stream
 * decoder, reasoning, a rejected model id, a modelStreamErrorException frame, stalls and pacing.
 * What every adapter does (answers, streams, tool calls and their follow-up, 429, bad key,
 * rejects, garbage, hang-ups) is the contract in test/contract/adapter-contract.test.ts.
 */
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bedrockAdapter } from '../../src/daemon/providers/bedrock/index.js';
import { signRequest } from '../../src/daemon/providers/bedrock/sigv4.js';
import { EventStreamDecoder } from '../../src/daemon/streams/eventstream.js';
import { UpstreamStreamError } from '../../src/daemon/providers/types.js';
import type { UpstreamRequest, UpstreamTarget, Usage } from '../../src/daemon/providers/types.js';
import type { OpenAIChatRequest } from '../../src/daemon/providers/openai/types.js';
import type { BedrockSim } from '../support/sim/bedrock-sim.js';
import {
  BEDROCK_SIM_CREDENTIALS,
  DEFAULT_BEDROCK_SIM_TEXT,
  startBedrockSim,
} from '../support/sim/bedrock-sim.js';
import { upstreamTarget } from '../support/upstream-target.js';

const MODEL = 'us.anthropic.claude-3-5-sonnet-20241022-v2:0';
const API_KEY = 'ABSKc2ltLWFwaS1rZXk=';
const { accessKeyId, secretAccessKey } = BEDROCK_SIM_CREDENTIALS;

let sim: BedrockSim;

function target(
  secret = `${accessKeyId}:${secretAccessKey}`,
  region: string | null = 'us-east-1',
): UpstreamTarget {
  return upstreamTarget(
    { id: 7, name: 'bedrock-sim', type: 'bedrock', baseUrl: sim.url, region, timeoutMs: 5000 },
    secret,
    MODEL,
  );
}

const HELLO: OpenAIChatRequest = { model: 'claude', messages: [{ role: 'user', content: 'Hello there' }] };

async function send(up: UpstreamRequest, extra: Record<string, string> = {}, signal?: AbortSignal) {
  const res = await request(up.url, {
    method: up.method,
    headers: { ...up.headers, ...extra },
    body: up.body,
    signal,
  });
  return res;
}

async function sendJson(up: UpstreamRequest, extra: Record<string, string> = {}) {
  const res = await send(up, extra);
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

async function stream(up: UpstreamRequest, t: UpstreamTarget, extra: Record<string, string> = {}) {
  const res = await send(up, extra);
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toBe('application/vnd.amazon.eventstream');
  const decoder = new EventStreamDecoder();
  const conv = bedrockAdapter.chatStream(t, { dropped: [] });
  const out = { content: '', reasoning: '', raw: '' };
  for await (const chunk of res.body) {
    out.raw += (chunk as Buffer).toString('latin1');
    for (const msg of decoder.push(chunk as Buffer)) {
      for (const c of conv.push(msg)) {
        const d = c.choices[0]?.delta;
        out.content += d?.content ?? '';
        out.reasoning += d?.reasoning_content ?? '';
      }
    }
  }
  decoder.end();
  return { ...out, usage: conv.usage() as Usage };
}

beforeAll(async () => {
  sim = await startBedrockSim({ apiKeys: [API_KEY] });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.clearFaults();
  sim.setDelay(0);
  sim.calls.length = 0;
});

describe('Bedrock adapter <-> simulator, authentication', () => {
  it('a SigV4-signed Converse call is verified and answered; the path carries %3A', async () => {
    const res = await sendJson(bedrockAdapter.chatRequest(HELLO, target(), { dropped: [] }));
    expect(res.status).toBe(200);
    expect(sim.calls[0]?.path).toBe('/model/us.anthropic.claude-3-5-sonnet-20241022-v2%3A0/converse');
    expect(sim.calls[0]?.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIASIMULATOR0EXAMPLE\/\d{8}\/us-east-1\/bedrock\/aws4_request/,
    );
    expect(sim.callCount('converse')).toBe(1);
  });

  it('a wrong secret is refused with 403 InvalidSignatureException, classified as disable', async () => {
    const up = bedrockAdapter.chatRequest(HELLO, target(`${accessKeyId}:not-the-secret`), { dropped: [] });
    const res = await sendJson(up);
    expect(res.status).toBe(403);
    expect(res.headers['x-amzn-errortype']).toMatch(/^InvalidSignatureException:/);
    const failure = bedrockAdapter.classifyError(res.status, res.headers, res.text);
    expect(failure.action).toBe('disable');
    expect(failure.message).toContain('InvalidSignatureException');
  });

  it('an unknown access key id is refused with UnrecognizedClientException', async () => {
    const res = await sendJson(
      bedrockAdapter.chatRequest(HELLO, target(`AKIAUNKNOWN:${secretAccessKey}`), { dropped: [] }),
    );
    expect(res.status).toBe(403);
    expect(JSON.parse(res.text)).toEqual({
      message: 'The security token included in the request is invalid.',
    });
    expect(res.headers['x-amzn-errortype']).toMatch(/^UnrecognizedClientException:/);
  });

  it('a signer that skips the second encoding of the model id is refused', async () => {
    const up = bedrockAdapter.chatRequest(HELLO, target(), { dropped: [] });
    // Sign the path with a raw ':' (canonical %3A), but send %3A on the wire (canonical %253A).
    const headers = { 'content-type': 'application/json', accept: 'application/json' };
    const wrong = signRequest(
      { method: 'POST', url: up.url.replace('%3A', ':'), headers, body: up.body },
      { accessKeyId, secretAccessKey },
      { region: 'us-east-1', service: 'bedrock' },
    );
    const res = await sendJson({ ...up, headers: { ...headers, ...wrong } });
    expect(res.status).toBe(403);
    expect(res.headers['x-amzn-errortype']).toMatch(/^InvalidSignatureException/);
  });

  it('a tampered body or a region mismatch breaks the signature', async () => {
    const up = bedrockAdapter.chatRequest(HELLO, target(), { dropped: [] });
    expect((await sendJson({ ...up, body: String(up.body).replace('Hello', 'Hallo') })).status).toBe(403);
    const otherRegion = await sendJson(
      bedrockAdapter.chatRequest(HELLO, target(undefined, 'eu-west-1'), { dropped: [] }),
    );
    expect(otherRegion.status).toBe(403);
    expect(otherRegion.text).toContain('us-east-1');
  });

  it('a Bedrock API key works as a Bearer token; a wrong one is refused', async () => {
    expect((await sendJson(bedrockAdapter.chatRequest(HELLO, target(API_KEY), { dropped: [] }))).status).toBe(
      200,
    );
    const bad = await sendJson(bedrockAdapter.chatRequest(HELLO, target('ABSKwrong'), { dropped: [] }));
    expect(bad.status).toBe(403);
    expect(bedrockAdapter.classifyError(bad.status, bad.headers, bad.text).action).toBe('disable');
  });
});

describe('Bedrock adapter <-> simulator, answers', () => {
  it('ConverseStream: binary frames with padding, no contentBlockStart for text, metadata after messageStop', async () => {
    const t = target();
    const out = await stream(bedrockAdapter.chatRequest({ ...HELLO, stream: true }, t, { dropped: [] }), t, {
      'x-sim-deltas': '3',
      'x-sim-text': encodeURIComponent('Grüße, 🚀 world'),
    });
    expect(out.content).toBe('Grüße, 🚀 world');
    expect(out.raw).toContain('"p":"');
    expect(out.raw).not.toContain('contentBlockStart');
    expect(out.raw.indexOf('metadata')).toBeGreaterThan(out.raw.indexOf('messageStop'));
    expect(sim.callCount('converse-stream')).toBe(1);
  });

  it('reasoning_effort on Claude streams reasoning_content before the text; cached tokens counted', async () => {
    const t = target();
    const out = await stream(
      bedrockAdapter.chatRequest({ ...HELLO, stream: true, reasoning_effort: 'low' }, t, { dropped: [] }),
      t,
      { 'x-sim-cached-tokens': '40' },
    );
    expect(out.reasoning).toBe('The user wants a short answer; a friendly greeting fits.');
    expect(out.content).toBe(DEFAULT_BEDROCK_SIM_TEXT);
    expect(out.usage.cachedTokens).toBe(40);
    expect(out.usage.inputTokens).toBeGreaterThan(40);
  });

  it('an invalid model id is a 400 ValidationException, rejected', async () => {
    const t = { ...target(), upstreamModel: 'us.does-not-exist-model-v1:0' };
    const res = await sendJson(bedrockAdapter.chatRequest(HELLO, t, { dropped: [] }));
    expect(res.status).toBe(400);
    expect(bedrockAdapter.classifyError(res.status, res.headers, res.text)).toMatchObject({
      action: 'reject',
      message: 'bedrock 400 ValidationException: The provided model identifier is invalid.',
    });
  });
});

describe('Bedrock simulator faults', () => {
  it('an exception frame after 2 frames throws UpstreamStreamError (throttling, retry)', async () => {
    sim.fault({
      kind: 'exception',
      afterFrames: 2,
      exceptionType: 'modelStreamErrorException',
      message: 'model broke',
    });
    const t = target();
    const err = await stream(
      bedrockAdapter.chatRequest({ ...HELLO, stream: true }, t, { dropped: [] }),
      t,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamStreamError);
    expect((err as UpstreamStreamError).failure).toMatchObject({ status: 424, action: 'retry' });
    expect((err as UpstreamStreamError).failure.message).toContain('model broke');
  });

  it('a stall is aborted by the client and recorded', async () => {
    sim.fault({ kind: 'stall' });
    const up = bedrockAdapter.chatRequest(HELLO, target(), { dropped: [] });
    await expect(send(up, {}, AbortSignal.timeout(150))).rejects.toThrow();
    await expect.poll(() => sim.calls[0]?.aborted).toBe(true);
    expect(sim.calls[0]?.closedAt).toBeGreaterThanOrEqual(sim.calls[0]?.at ?? Infinity);
  });

  it('x-sim-pace-ms paces the frames', async () => {
    const t = target();
    const started = Date.now();
    await stream(bedrockAdapter.chatRequest({ ...HELLO, stream: true }, t, { dropped: [] }), t, {
      'x-sim-deltas': '2',
      'x-sim-pace-ms': '40',
    });
    // 2 deltas + start/stop/messageStop/metadata = 6 frames, 5 pauses.
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });
});
