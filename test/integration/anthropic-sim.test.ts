/**
 * The Anthropic simulator driven by the official `@anthropic-ai/sdk`: if the real client accepts
 * its answers (plain, streamed, tools, thinking) and raises the right errors for each injected
 * fault, the simulator is a faithful stand-in for the gateway's own tests. Then what only our
 * Anthropic adapter does against it (max_tokens named, thinking streamed back as reasoning); what
 * every adapter does is the contract in test/contract/adapter-contract.test.ts.
 */
import Anthropic from '@anthropic-ai/sdk';
import type { APIError } from '@anthropic-ai/sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readFixtureJson } from '../support/fixtures.js';
import type { AnthropicSim } from '../support/sim/anthropic-sim.js';
import { simInputTokens, startAnthropicSim } from '../support/sim/anthropic-sim.js';
import { anthropicAdapter } from '../../src/daemon/providers/anthropic/index.js';
import type { OpenAIChatRequest } from '../../src/daemon/providers/openai/types.js';
import type { StreamEvent, UpstreamTarget, Usage } from '../../src/daemon/providers/types.js';
import { SseDecoder } from '../../src/daemon/streams/sse.js';
import { upstreamTarget } from '../support/upstream-target.js';

const KEY = 'sk-ant-sim-key';
const FIXTURE_TEXT = readFixtureJson<{ content: { text: string }[] }>(
  'anthropic/messages-nonstream-text.json',
).content[0]?.text;
const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'Hello, how are you?' }];
const weatherTool: Anthropic.Tool = {
  name: 'get_weather',
  description: 'Weather for a place',
  input_schema: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
};

let sim: AnthropicSim;
let client: Anthropic;

beforeAll(async () => {
  sim = await startAnthropicSim({ apiKey: KEY });
  client = new Anthropic({ apiKey: KEY, baseURL: sim.url, maxRetries: 0, timeout: 5000 });
});
afterAll(async () => {
  await sim.close();
});
afterEach(() => {
  sim.clearFaults();
  sim.setDelay(0);
});

function lastBody(): Record<string, unknown> {
  const call = sim.calls[sim.calls.length - 1];
  return JSON.parse(call?.body.toString('utf8') ?? '{}') as Record<string, unknown>;
}

async function raw(path: string, headers: Record<string, string>, body: unknown): Promise<Response> {
  return fetch(`${sim.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
}

describe('anthropic simulator: answers', () => {
  it('answers a non-stream request with the recorded text, usage and rate-limit headers', async () => {
    const { data, response } = await client.messages
      .create({ model: 'claude-sonnet-4-5', max_tokens: 100, messages })
      .withResponse();
    expect(data.content).toEqual([{ type: 'text', text: FIXTURE_TEXT }]);
    expect(data.stop_reason).toBe('end_turn');
    expect(data.id).toMatch(/^msg_/);
    expect(data.usage.input_tokens).toBe(simInputTokens(lastBody()));
    expect(data.usage.output_tokens).toBe(3);
    expect(response.headers.get('anthropic-ratelimit-requests-reset')).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
    );
    expect(response.headers.get('request-id')).toMatch(/^req_/);
    const call = sim.calls[sim.calls.length - 1];
    // this SDK generation sends the key as a bearer token and its own dated version
    expect(call?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(call?.headers['anthropic-version']).toMatch(/^\d{4}-\d\d-\d\d$/);
  });

  it('streams text in x-sim-deltas pieces with usage split across message_start and message_delta', async () => {
    const stream = client.messages.stream(
      { model: 'claude-sonnet-4-5', max_tokens: 100, messages },
      { headers: { 'x-sim-deltas': '5', 'x-sim-text': 'one two three four five', 'x-sim-cache-read': '7' } },
    );
    const deltas: string[] = [];
    stream.on('text', (t) => deltas.push(t));
    const final = await stream.finalMessage();
    expect(deltas).toHaveLength(5);
    expect(deltas.join('')).toBe('one two three four five');
    expect(final.usage.output_tokens).toBe(5);
    expect(final.usage.cache_read_input_tokens).toBe(7);
    expect(final.usage.input_tokens).toBe(simInputTokens(lastBody()));
  });

  it('keeps the real wire details: named events, pings, padding spaces', async () => {
    const res = await raw(
      '/v1/messages',
      { 'x-api-key': KEY, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      { model: 'm', max_tokens: 10, stream: true, messages },
    );
    const text = await res.text();
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(text).toContain('event: ping\ndata: {"type": "ping"}\n\n');
    expect(text).toMatch(/"output_tokens":1,"service_tier":"standard"}} {12}}\n/);
    const frames = text.split('\n\n').filter((f) => f.length > 0);
    for (const f of frames) {
      const [ev, data] = f.split('\n');
      const type = (JSON.parse((data ?? '').slice('data: '.length)) as { type: string }).type;
      expect(ev).toBe(`event: ${type}`);
    }
    expect(frames[0]).toMatch(/^event: message_start/);
    expect(frames[frames.length - 1]).toMatch(/^event: message_stop/);
  });

  it('answers tool requests with a tool_use block, stream and not', async () => {
    const msg = await client.messages.create({ model: 'm', max_tokens: 100, messages, tools: [weatherTool] });
    expect(msg.stop_reason).toBe('tool_use');
    expect(msg.content).toHaveLength(1);
    expect(msg.content[0]).toMatchObject({
      type: 'tool_use',
      name: 'get_weather',
      input: { location: 'San Francisco' },
    });

    const final = await client.messages
      .stream({ model: 'm', max_tokens: 100, messages, tools: [weatherTool], tool_choice: { type: 'any' } })
      .finalMessage();
    expect(final.content[0]).toMatchObject({
      type: 'tool_use',
      name: 'get_weather',
      input: { location: 'San Francisco' },
    });
    expect(final.stop_reason).toBe('tool_use');
  });

  it('sends a signed thinking block before the text when thinking is enabled', async () => {
    const final = await client.messages
      .stream({ model: 'm', max_tokens: 2048, messages, thinking: { type: 'enabled', budget_tokens: 1024 } })
      .finalMessage();
    expect(final.content.map((b) => b.type)).toEqual(['thinking', 'text']);
    const thinking = final.content[0] as Anthropic.ThinkingBlock;
    expect(thinking.thinking).toContain('925 ÷ 5 = 185');
    expect(thinking.signature.length).toBeGreaterThan(20);
  });

  it('honours stop_sequences and max_tokens', async () => {
    const headers = { 'x-sim-text': 'alpha beta gamma', 'x-sim-deltas': '3' };
    const stopped = await client.messages.create(
      { model: 'm', max_tokens: 100, messages, stop_sequences: ['gamma'] },
      { headers },
    );
    expect(stopped.stop_reason).toBe('stop_sequence');
    expect(stopped.stop_sequence).toBe('gamma');
    expect((stopped.content[0] as Anthropic.TextBlock).text).toBe('alpha beta ');
    const cut = await client.messages.create({ model: 'm', max_tokens: 2, messages }, { headers });
    expect(cut.stop_reason).toBe('max_tokens');
    expect(cut.usage.output_tokens).toBe(2);
  });

  it('counts tokens', async () => {
    const counted = await client.messages.countTokens({ model: 'm', messages });
    expect(counted.input_tokens).toBe(simInputTokens({ messages }));
    expect(sim.callCount('/v1/messages/count_tokens')).toBeGreaterThanOrEqual(1);
  });
});

describe('anthropic simulator: request checks', () => {
  it('requires x-api-key (401) and anthropic-version (400), in Anthropic error shape', async () => {
    const body = { model: 'm', max_tokens: 10, messages };
    const noKey = await raw('/v1/messages', { 'anthropic-version': '2023-06-01' }, body);
    expect(noKey.status).toBe(401);
    expect(await noKey.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    const noVersion = await raw('/v1/messages', { 'x-api-key': KEY }, body);
    expect(noVersion.status).toBe(400);
    const viaHeader = await raw(
      '/v1/messages',
      { 'x-api-key': KEY, 'anthropic-version': '2023-06-01' },
      body,
    );
    expect(viaHeader.status).toBe(200);
    expect(await noVersion.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    const wrong = new Anthropic({ apiKey: 'nope', baseURL: sim.url, maxRetries: 0 });
    await expect(wrong.messages.create(body)).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
  });

  it('requires max_tokens', async () => {
    const bad = { model: 'm', messages } as unknown as Anthropic.MessageCreateParamsNonStreaming;
    const err = await client.messages.create(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect((err as APIError).apiMessage).toMatch(/^max_tokens:/);
  });
});

describe('anthropic simulator: faults', () => {
  const body = { model: 'm', max_tokens: 10, messages };

  it('529 overloaded, then recovers: the SDK retry is counted exactly', async () => {
    sim.fault({ kind: 'status', status: 529 });
    const err = await client.messages.create(body).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect((err as APIError).status).toBe(529);
    expect((err as APIError).type).toBe('overloaded_error');

    sim.fault({ kind: 'status', status: 529, headers: { 'retry-after': '0' } }, 1);
    const before = sim.callCount('/v1/messages');
    const retrying = new Anthropic({ apiKey: KEY, baseURL: sim.url, maxRetries: 1 });
    const ok = await retrying.messages.create(body);
    expect(ok.type).toBe('message');
    expect(sim.callCount('/v1/messages') - before).toBe(2);
  });

  it('429 carries retry-after; 401 is an authentication error', async () => {
    sim.fault({ kind: 'status', status: 429, headers: { 'retry-after': '7' } });
    const limited = await client.messages.create(body).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(Anthropic.RateLimitError);
    expect((limited as APIError).headers?.get('retry-after')).toBe('7');
    sim.fault({ kind: 'status', status: 401 });
    await expect(client.messages.create(body)).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
  });

  it('reset is a connection error', async () => {
    sim.fault({ kind: 'reset' });
    await expect(client.messages.create(body)).rejects.toBeInstanceOf(Anthropic.APIConnectionError);
  });

  it('stall holds the request until the client gives up, and records the abort', async () => {
    sim.fault({ kind: 'stall' });
    const impatient = new Anthropic({ apiKey: KEY, baseURL: sim.url, maxRetries: 0, timeout: 200 });
    await expect(impatient.messages.create(body)).rejects.toBeInstanceOf(Anthropic.APIConnectionTimeoutError);
    const call = sim.calls[sim.calls.length - 1];
    await expect.poll(() => call?.aborted, { timeout: 2000 }).toBe(true);
    expect(call?.closedAt).toBeGreaterThanOrEqual(call?.at ?? Infinity);
  });

  it('hangup cuts a stream after N frames, and a plain body halfway', async () => {
    sim.fault({ kind: 'hangup', afterFrames: 3 });
    const events: string[] = [];
    const stream = await client.messages.create({ ...body, stream: true });
    const consumed = (async () => {
      for await (const ev of stream) events.push(ev.type);
    })();
    await expect(consumed).rejects.toThrow();
    expect(events).toEqual(['message_start', 'content_block_start']);
    sim.fault({ kind: 'hangup', afterFrames: 0 });
    await expect(client.messages.create(body)).rejects.toThrow();
  });

  it('garbage is not a Message', async () => {
    sim.fault({ kind: 'garbage' });
    await expect(client.messages.create(body)).rejects.toThrow();
    sim.fault({ kind: 'garbage' });
    await expect(client.messages.stream(body).finalMessage()).rejects.toThrow();
  });

  it('streamError sends event: error after HTTP 200, which the SDK raises', async () => {
    sim.fault({ kind: 'streamError', afterFrames: 4 });
    const stream = client.messages.stream(body);
    const err = await stream.finalMessage().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect((err as APIError).type).toBe('overloaded_error');
    expect(sim.calls[sim.calls.length - 1]?.aborted).toBe(false);
  });

  it('setDelay and x-sim-pace-ms slow the answer down', async () => {
    sim.setDelay(150);
    let t0 = Date.now();
    await client.messages.create(body);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    sim.setDelay(0);
    t0 = Date.now();
    await client.messages
      .stream(body, { headers: { 'x-sim-pace-ms': '20', 'x-sim-deltas': '2' } })
      .finalMessage();
    // 2 deltas give 10 frames and at least 8 paced gaps of 20 ms; an unpaced stream takes a few ms
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
  });
});

describe('anthropic adapter against the simulator', () => {
  const target = (): UpstreamTarget =>
    upstreamTarget({ name: 'sim', type: 'anthropic', baseUrl: sim.url, timeoutMs: 5000 }, KEY, 'claude-sim');

  async function send(req: OpenAIChatRequest): Promise<{ status: number; headers: Headers; body: Buffer }> {
    const up = anthropicAdapter.chatRequest(req, target(), { dropped: [] });
    const res = await fetch(up.url, { method: up.method, headers: up.headers, body: up.body });
    return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
  }

  // answers, streams, tool calls and failures are in the adapter contract
  // (test/contract/adapter-contract.test.ts); here what only the Anthropic conversion does
  it('names max_tokens, which Anthropic requires, when the client named none', async () => {
    const res = await send({ model: 'a', messages: [{ role: 'user', content: 'q' }] });
    expect(res.status).toBe(200);
    expect(lastBody().max_tokens).toBe(4096);
  });

  it('stream with thinking: reasoning, text and usage (cache included) through the SSE decoder', async () => {
    const res = await simStream({
      model: 'a',
      messages: [{ role: 'user', content: 'q' }],
      reasoning_effort: 'low',
      stream: true,
    });
    expect(res.reasoning).toContain('925 ÷ 5 = 185');
    expect(res.content).toBe(FIXTURE_TEXT);
    expect(res.finish).toBe('stop');
    expect(res.usage).toMatchObject({ cachedTokens: 4, outputTokens: 3 + 10 });
    expect(res.usage?.inputTokens).toBe(simInputTokens(lastBody()) + 4);
    expect(lastBody().thinking).toEqual({ type: 'enabled', budget_tokens: 2048 });
  });

  async function simStream(req: OpenAIChatRequest) {
    const up = anthropicAdapter.chatRequest(req, target(), { dropped: [] });
    const res = await fetch(up.url, {
      method: up.method,
      headers: { ...up.headers, 'x-sim-cache-read': '4' },
      body: up.body,
    });
    const conv = anthropicAdapter.chatStream(target(), { dropped: [] });
    const dec = new SseDecoder();
    const out = { content: '', reasoning: '', finish: null as string | null, usage: null as Usage | null };
    const take = (events: StreamEvent[]): void => {
      for (const ev of events) {
        for (const c of conv.push(ev)) {
          out.content += c.choices[0]?.delta.content ?? '';
          out.reasoning += c.choices[0]?.delta.reasoning_content ?? '';
          out.finish = c.choices[0]?.finish_reason ?? out.finish;
        }
      }
    };
    for await (const piece of res.body ?? []) take(dec.push(Buffer.from(piece as Uint8Array)));
    take(dec.end());
    conv.end();
    out.usage = conv.usage();
    return out;
  }
});
