/**
 * An upstream that echoes its request back in an error (some proxies and self-hosted servers do)
 * must not hand the channel's key to the client (issue: secrets echoed back). A real HTTP server
 * on loopback answers every request with an error whose message and body carry the request's
 * URL and headers as sent, percent-encoded and base64-encoded; the gateway fronts it as each
 * channel type, and neither the client's answer (passed-back bodies, converted errors, in-stream
 * error frames), the log rows, the channel's auto-disable reason nor the daemon log may contain
 * any of the channel's key values in any of those encodings.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { startAnthropicSim, type AnthropicSim } from '../support/sim/anthropic-sim.js';
import type { ChannelInput, ChannelView, LogRow } from '../../src/shared/control-api.js';

const KEYS: Record<string, string[]> = {
  openai: ['sk-echo-openai-7Qh2LmN9pX4vB8kR1tZ6', 'sk-echo-openai-second-3Jd8WqE5yU2o'],
  anthropic: ['sk-ant-echo-Yt6Rk2Pq9Lm4Vb7Nx1Zc', 'sk-ant-echo-second-8Hf3Gd5Sa2Qw'],
  gemini: ['AIzaEchoGeminiKey-4Rt7Yu1Io3Pa6Sd9Fg'],
  azure: ['0f3c9a7e5b1d4c8a9e2f6b0d3c7a1e5f'],
  qwen: ['sk-echoqwen4f8d2c6b0a9e3d7c1b5a'],
  'openai-compatible': ['tok/echo+compat=slash/4Gh8Jk2Lm6'],
  bedrock: ['AKIAECHOEXAMPLE7Q2W:echoSecret/K7MDENG+bPxRfiCYEXAMPLEKEY:EchoSessionToken0123456789abcdef'],
};

/** Every form a key or key part can take in an echoed request. */
function forms(secret: string): string[] {
  const pieces = [secret, ...secret.split(':')].filter((p) => p.length >= 8);
  return pieces.flatMap((p) => [
    p,
    encodeURIComponent(p),
    Buffer.from(p).toString('base64'),
    Buffer.from(p).toString('base64').replace(/=+$/, ''),
  ]);
}

const ALL_FORMS = Object.values(KEYS).flat().flatMap(forms);

function leaks(text: string): string[] {
  return ALL_FORMS.filter((f) => text.includes(f));
}

interface EchoServer {
  url: string;
  status: number;
  close(): Promise<void>;
}

/** Answers every request with `status` and an error that repeats the request as sent. */
async function startEcho(): Promise<EchoServer> {
  const echo: EchoServer = { url: '', status: 400, close: async () => {} };
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const seen = `${req.method} ${req.url} ${JSON.stringify(req.headers)}`;
      const encoded = `${encodeURIComponent(seen)} ${Buffer.from(seen).toString('base64')}`;
      const message = `bad request; we got: ${seen}; encoded: ${encoded}`;
      // one body every provider's error parser can read (OpenAI/Anthropic/Gemini/Bedrock shapes)
      const body = {
        type: 'error',
        error: { message, type: 'invalid_request_error', code: echo.status, status: 'INVALID_ARGUMENT' },
        message,
      };
      res.writeHead(echo.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  echo.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  echo.close = () => new Promise<void>((r) => server.close(() => r()));
  return echo;
}

let echo: EchoServer;
let gw: TestGateway;
let key: string;
const daemonLog: string[] = [];

function channel(type: string): ChannelInput {
  const base: ChannelInput = {
    name: `echo-${type}`,
    type: type as ChannelInput['type'],
    keys: KEYS[type],
    models: [`m-${type}`],
    base_url: echo.url,
  };
  if (type === 'bedrock') return { ...base, region: 'us-east-1' };
  if (type === 'azure') return { ...base, api_version: '2024-10-21' };
  return base;
}

beforeAll(async () => {
  echo = await startEcho();
  gw = await startGateway({ log: (line) => daemonLog.push(line) });
  for (const type of Object.keys(KEYS)) await gw.addChannel(channel(type));
  key = await gw.createKey({ name: 'echo-client' });
});

afterAll(async () => {
  await gw?.close();
  await echo?.close();
});

async function post(
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  const res = await fetch(`${gw.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

const chat = (model: string, stream = false) => ({
  model,
  stream,
  messages: [{ role: 'user', content: 'hi' }],
});

describe('an upstream that echoes the request in a 400', () => {
  it.each(Object.keys(KEYS))(
    'OpenAI front -> %s channel: the answer names the echo, never a key',
    async (type) => {
      const r = await post('/v1/chat/completions', chat(`m-${type}`));
      expect(r.status).toBe(400);
      expect(r.text).toContain('bad request; we got');
      expect(r.text).toContain('[redacted]');
      expect(leaks(r.text)).toEqual([]);
    },
  );

  it('OpenAI front, stream -> openai channel: the passed-back body is redacted too', async () => {
    const r = await post('/v1/chat/completions', chat('m-openai', true));
    expect(r.status).toBe(400);
    expect(r.text).toContain('bad request; we got');
    expect(leaks(r.text)).toEqual([]);
  });

  it('Anthropic front -> anthropic channel (passthrough body)', async () => {
    const r = await post(
      '/v1/messages',
      { model: 'm-anthropic', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] },
      { 'anthropic-version': '2023-06-01' },
    );
    expect(r.status).toBe(400);
    expect(r.text).toContain('bad request; we got');
    expect(leaks(r.text)).toEqual([]);
  });

  it('Gemini front -> gemini channel (passthrough body)', async () => {
    const r = await post('/v1beta/models/m-gemini:generateContent', {
      contents: [{ role: 'user', parts: [{ text: 'hi' }] }],
    });
    expect(r.status).toBe(400);
    expect(r.text).toContain('bad request; we got');
    expect(leaks(r.text)).toEqual([]);
  });

  it('Anthropic front -> openai channel (converted error)', async () => {
    const r = await post(
      '/v1/messages',
      { model: 'm-openai', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] },
      { 'anthropic-version': '2023-06-01' },
    );
    expect(r.status).toBe(400);
    expect(leaks(r.text)).toEqual([]);
  });
});

describe('an upstream that echoes the request in a 401 (the key is auto-disabled)', () => {
  it('the disable reason shown in the channel list and every log row hold no key', async () => {
    echo.status = 401;
    try {
      for (const type of Object.keys(KEYS)) await post('/v1/chat/completions', chat(`m-${type}`));
    } finally {
      echo.status = 400;
    }
    const channels = await gw.call<ChannelView[]>('GET', '/v1/channels');
    const reasons = channels.map((c) => c.status_reason ?? '').join('\n');
    expect(reasons).toContain('[redacted]');
    expect(leaks(reasons)).toEqual([]);
    const rows = await gw.call<LogRow[]>('GET', '/v1/logs?limit=500');
    expect(rows.length).toBeGreaterThan(Object.keys(KEYS).length);
    expect(leaks(JSON.stringify(rows))).toEqual([]);
    const log = daemonLog.join('');
    expect(log).toContain('auto-disabled');
    expect(leaks(log)).toEqual([]);
  });
});

describe('an error event in mid-stream that echoes the key', () => {
  const simKey = 'sk-ant-midstream-Q7w2E9r4T6y1U3i8';
  const sims: AnthropicSim[] = [];

  /** a fresh channel per case, so one case's cooldown does not touch the next */
  async function midChannel(name: string): Promise<AnthropicSim> {
    const sim = await startAnthropicSim({ apiKey: simKey });
    sims.push(sim);
    await gw.addChannel({ name, type: 'anthropic', keys: [simKey], models: [name], base_url: sim.url });
    return sim;
  }
  afterAll(async () => {
    for (const s of sims) await s.close();
  });

  it('Anthropic front, passthrough stream: the relayed error event holds no key', async () => {
    const sim = await midChannel('mid-pass');
    // message_start, content_block_start, ping, one text delta, then the error event
    sim.fault({
      kind: 'streamError',
      afterFrames: 4,
      errorType: 'api_error',
      message: `proxy: x-api-key=${simKey}`,
    });
    const r = await post(
      '/v1/messages',
      { model: 'mid-pass', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'hi' }] },
      { 'anthropic-version': '2023-06-01' },
    );
    expect(r.status, r.text).toBe(200);
    expect(r.text).toContain('event: error');
    expect(r.text, r.text.slice(-600)).toContain('x-api-key=[redacted]');
    expect(r.text).not.toContain(simKey);
  });

  it('OpenAI front, converted stream: the in-stream error frame holds no key', async () => {
    // an Anthropic-shaped upstream that answers, pauses (so the answer has reached the client),
    // then fails with an error event that repeats its key
    const frames = [
      'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"mid-conv","content":[],"stop_reason":null,"usage":{"input_tokens":3,"output_tokens":1}}}\n\n',
      'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n',
      'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}\n\n',
    ];
    const server = http.createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(frames.join(''));
      setTimeout(() => {
        const error = { type: 'error', error: { type: 'api_error', message: `proxy: x-api-key=${simKey}` } };
        res.end(`event: error\ndata: ${JSON.stringify(error)}\n\n`);
      }, 100);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      await gw.addChannel({
        name: 'mid-conv',
        type: 'anthropic',
        keys: [simKey],
        models: ['mid-conv'],
        base_url: url,
      });
      const r = await post('/v1/chat/completions', chat('mid-conv', true));
      expect(r.status, r.text).toBe(200);
      expect(r.text).toContain('Hello');
      expect(r.text).toContain('x-api-key=[redacted]');
      expect(r.text).not.toContain(simKey);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
