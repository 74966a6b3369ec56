/**
 * The OpenAI simulator driven by the official `openai` client (chat plain, streamed and with
 * tools; embeddings and the other endpoints) and by raw undici requests for the wire details the
 * SDK hides: frame shapes with and without include_usage, every injected fault, the x-sim knobs
 * (1 MB events, UTF-8 split across writes, pacing) and abort recording. If the real client and
 * our own SSE decoder and stream normaliser accept its answers, it is a faithful stand-in. How
 * our adapter reads its answers and faults is the contract in test/contract/adapter-contract.test.ts.
 */
import OpenAI, { toFile } from 'openai';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createOpenAIStreamConverter } from '../../src/daemon/providers/openai/stream.js';
import type { OpenAIChatChunk } from '../../src/daemon/providers/openai/types.js';
import type { SseEvent, UpstreamTarget } from '../../src/daemon/providers/types.js';
import { SseDecoder } from '../../src/daemon/streams/sse.js';
import { DEFAULT_SIM_TEXT, simPromptTokens } from '../support/sim/openai-sim-chat.js';
import type { OpenAISim } from '../support/sim/openai-sim.js';
import { startOpenAISim } from '../support/sim/openai-sim.js';
import { upstreamTarget } from '../support/upstream-target.js';

const KEY = 'sk-sim-test';
const messages = [{ role: 'user' as const, content: 'Hello there' }];
const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    parameters: {
      type: 'object',
      properties: { location: { type: 'string' }, unit: { enum: ['c', 'f'] } },
      required: ['location', 'unit'],
    },
  },
};

let sim: OpenAISim;
let client: OpenAI;

beforeAll(async () => {
  sim = await startOpenAISim({ keys: [KEY] });
  client = new OpenAI({ apiKey: KEY, baseURL: sim.url, maxRetries: 0, timeout: 5000 });
});
afterAll(async () => {
  await sim.close();
});
afterEach(() => {
  sim.clearFaults();
  sim.setDelay(0);
});

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  chunks: Buffer[];
  error: unknown;
}

async function raw(
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<Raw> {
  const res = await request(`${sim.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
  const out: Raw = { status: res.statusCode, headers: res.headers, chunks: [], error: undefined };
  try {
    for await (const c of res.body) out.chunks.push(c as Buffer);
  } catch (e) {
    out.error = e;
  }
  return out;
}

function events(r: Raw): SseEvent[] {
  const d = new SseDecoder();
  return [...r.chunks.flatMap((c) => d.push(c)), ...d.end()];
}

const target: UpstreamTarget = upstreamTarget(
  { name: 's', type: 'qwen', baseUrl: '', timeoutMs: 1 },
  KEY,
  'm',
);

function normalise(evs: SseEvent[]): OpenAIChatChunk[] {
  const conv = createOpenAIStreamConverter(target, { dropped: [] });
  return [...evs.flatMap((e) => conv.push(e)), ...conv.end()];
}

const streamBody = (extra: object = {}) => ({ model: 'gpt-4o-mini', messages, stream: true, ...extra });

describe('openai simulator with the official client', () => {
  it('answers chat non-stream with echoed model, usage and rate-limit headers', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'gpt-4.1-nano', messages })
      .withResponse();
    expect(data.model).toBe('gpt-4.1-nano');
    expect(data.choices[0]?.message.content).toBe(DEFAULT_SIM_TEXT);
    expect(data.choices[0]?.finish_reason).toBe('stop');
    expect(data.usage).toMatchObject({ prompt_tokens: simPromptTokens({ messages }), completion_tokens: 5 });
    expect(response.headers.get('x-ratelimit-remaining-requests')).toBe('499');
    expect(response.headers.get('x-ratelimit-reset-requests')).toBe('120ms');
    expect(sim.calls.at(-1)?.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it('streams chat with usage at the end when asked', async () => {
    const stream = await client.chat.completions.create({
      ...streamBody(),
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    const usages: unknown[] = [];
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usages.push(chunk.usage);
    }
    expect(text).toBe(DEFAULT_SIM_TEXT);
    expect(usages).toEqual([expect.objectContaining({ completion_tokens: 5 })]);
  });

  it('answers tool calls, plain and streamed, that the SDK aggregates', async () => {
    const plain = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      tools: [weatherTool],
    });
    const call = plain.choices[0]?.message.tool_calls?.[0];
    expect(plain.choices[0]?.finish_reason).toBe('tool_calls');
    expect(call?.type === 'function' && JSON.parse(call.function.arguments)).toEqual({
      location: 'Boston, MA',
      unit: 'c',
    });
    const final = await client.chat.completions
      .stream(
        { model: 'gpt-4o-mini', messages, tools: [weatherTool] },
        { headers: { 'x-sim-tool-calls': '2' } },
      )
      .finalChatCompletion();
    const calls = final.choices[0]?.message.tool_calls ?? [];
    expect(calls).toHaveLength(2);
    for (const c of calls) expect(c.type === 'function' && c.function.name).toBe('get_weather');
    expect(new Set(calls.map((c) => c.id)).size).toBe(2);
  });

  it('serves embeddings (base64 by default in the SDK) and the other endpoints', async () => {
    const emb = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'] });
    expect(emb.data.map((d) => d.embedding.length)).toEqual([8, 8]);
    expect(emb.data[0]?.embedding).not.toEqual(emb.data[1]?.embedding);
    expect(emb.usage.prompt_tokens).toBe(2);
    expect((await client.models.list()).data.map((m) => m.id)).toContain('gpt-4o-mini');
    expect(
      (await client.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'x' })).choices[0]?.text,
    ).toBe(DEFAULT_SIM_TEXT);
    expect((await client.moderations.create({ input: 'I will kill it' })).results[0]?.flagged).toBe(true);
    expect(
      (await client.images.generate({ model: 'gpt-image-1', prompt: 'cat' })).data?.[0]?.b64_json,
    ).toBeTruthy();
    const speech = Buffer.from(
      await (await client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'hi' })).arrayBuffer(),
    );
    expect(speech.subarray(0, 3).toString()).toBe('ID3');
    const file = await toFile(Buffer.alloc(1234, 7), 'a.wav');
    const tr = await client.audio.transcriptions.create({ model: 'whisper-1', file });
    expect(tr.text).toBe('simulated transcription of a.wav (1234 bytes)');
    const resp = await client.responses.create({ model: 'gpt-4o-mini', input: 'hi' });
    expect(resp.output_text).toBe(DEFAULT_SIM_TEXT);
    const types: string[] = [];
    for await (const ev of await client.responses.create({ model: 'gpt-4o-mini', input: 'hi', stream: true }))
      types.push(ev.type);
    expect(types.at(0)).toBe('response.created');
    expect(types.at(-1)).toBe('response.completed');
    const rr = await raw('/rerank', {
      model: 'r',
      query: 'red apple',
      documents: ['green pear', 'red apple pie'],
    });
    const ranked = JSON.parse(Buffer.concat(rr.chunks).toString()) as {
      results: { index: number; relevance_score: number }[];
    };
    expect(ranked.results.map((x) => [x.index, x.relevance_score])).toEqual([
      [1, 1],
      [0, 0],
    ]);
  });

  it('rejects a wrong key with OpenAI’s invalid_api_key shape', async () => {
    const bad = new OpenAI({ apiKey: 'sk-wrong-key', baseURL: sim.url, maxRetries: 0 });
    await expect(bad.chat.completions.create({ model: 'm', messages })).rejects.toMatchObject({
      status: 401,
      code: 'invalid_api_key',
    });
    const none = await request(`${sim.url}/models`);
    expect(none.statusCode).toBe(401);
    expect(await none.body.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
  });
});

describe('openai simulator wire format', () => {
  it('puts "usage":null on every chunk and a choices:[] usage chunk only with include_usage', async () => {
    const withUsage = events(
      await raw('/chat/completions', streamBody({ stream_options: { include_usage: true } })),
    );
    expect(withUsage.at(-1)?.data).toBe('[DONE]');
    const parsed = withUsage
      .slice(0, -1)
      .map((e) => JSON.parse(e.data) as { choices: unknown[]; usage: unknown });
    expect(parsed.slice(0, -1).every((c) => c.usage === null && c.choices.length === 1)).toBe(true);
    expect(parsed.at(-1)).toMatchObject({
      choices: [],
      usage: { prompt_tokens: simPromptTokens({ messages }) },
    });
    expect(parsed[0]).toMatchObject({ choices: [{ delta: { role: 'assistant', content: '' } }] });
    expect(parsed.at(-2)).toMatchObject({ choices: [{ delta: {}, finish_reason: 'stop' }] });
    const without = events(await raw('/chat/completions', streamBody(), { 'x-sim-deltas': '3' }));
    expect(without).toHaveLength(1 + 3 + 1 + 1);
    expect(without.some((e) => e.data.includes('"usage"'))).toBe(false);
  });

  it('qwen flavour streams DashScope quirks and reasoning that the normaliser cleans up', async () => {
    const qwen = await startOpenAISim({ flavour: 'qwen' });
    try {
      const res = await request(`${qwen.url}/chat/completions`, {
        method: 'POST',
        headers: { authorization: 'Bearer any', 'content-type': 'application/json' },
        body: JSON.stringify(streamBody({ tools: [weatherTool], stream_options: { include_usage: true } })),
      });
      const text = await res.body.text();
      expect(text).toContain('"id":"","type":"function"');
      const agg = normalise(
        events({ status: 200, headers: {}, chunks: [Buffer.from(text)], error: undefined }),
      );
      const starts = agg
        .flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])
        .filter((t) => t.id !== undefined);
      expect(starts).toHaveLength(1);
      const thinking = await request(`${qwen.url}/chat/completions`, {
        method: 'POST',
        headers: { authorization: 'Bearer any', 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'qwen3-max', messages, enable_thinking: true }),
      });
      const body = (await thinking.body.json()) as {
        choices: { message: { reasoning_content: string } }[];
        usage: object;
      };
      expect(body.choices[0]?.message.reasoning_content).toBeTruthy();
      expect(body.usage).toMatchObject({ completion_tokens_details: { reasoning_tokens: 3 } });
    } finally {
      await qwen.close();
    }
  });

  it('sends a 1 MB delta as one event and splits UTF-8 characters across writes', async () => {
    const big = await raw('/chat/completions', streamBody(), {
      'x-sim-deltas': '1',
      'x-sim-delta-bytes': '1048576',
    });
    const content = events(big)
      .filter((e) => e.data !== '[DONE]')
      .map((e) => (JSON.parse(e.data) as OpenAIChatChunk).choices[0]?.delta.content ?? '');
    expect(content.map((c) => Buffer.byteLength(c))).toEqual([0, 1_048_576, 0]);

    const split = await raw('/chat/completions', streamBody(), {
      'x-sim-split-utf8': '1',
      'x-sim-text': encodeURIComponent('€🚀€🚀'),
    });
    const cutInside = split.chunks.filter((c) => !Buffer.from(c.toString('utf8')).equals(c));
    expect(cutInside.length).toBeGreaterThan(0);
    const text = normalise(events(split))
      .map((c) => c.choices[0]?.delta.content ?? '')
      .join('');
    expect(text).toBe('€🚀€🚀');
  });

  it('paces deltas and delays answers', async () => {
    let t = Date.now();
    await raw('/chat/completions', streamBody(), { 'x-sim-deltas': '4', 'x-sim-pace-ms': '40' });
    expect(Date.now() - t).toBeGreaterThanOrEqual(4 * 40);
    sim.setDelay(150);
    t = Date.now();
    await client.chat.completions.create({ model: 'm', messages });
    expect(Date.now() - t).toBeGreaterThanOrEqual(145);
  });
});

describe('openai simulator faults', () => {
  it('status faults: queued counts, Infinity, retry-after on 429, custom bodies', async () => {
    sim.fault({ kind: 'status', status: 429 }, 2);
    const before = sim.callCount('/chat/completions');
    const first = await raw('/chat/completions', { model: 'm', messages });
    expect(first.status).toBe(429);
    expect(first.headers['retry-after']).toBe('1');
    expect(first.headers['x-ratelimit-limit-requests']).toBe('500');
    expect(JSON.parse(Buffer.concat(first.chunks).toString())).toMatchObject({
      error: { code: 'rate_limit_exceeded' },
    });
    expect((await raw('/chat/completions', { model: 'm', messages })).status).toBe(429);
    expect((await raw('/chat/completions', { model: 'm', messages })).status).toBe(200);
    expect(sim.callCount('/chat/completions') - before).toBe(3);

    sim.fault(
      {
        kind: 'status',
        status: 503,
        body: { error: { message: 'custom' } },
        headers: { 'retry-after-ms': '20' },
      },
      Infinity,
    );
    for (let i = 0; i < 3; i++) {
      const r = await raw('/chat/completions', { model: 'm', messages });
      expect([r.status, r.headers['retry-after-ms'], Buffer.concat(r.chunks).toString()]).toEqual([
        503,
        '20',
        '{"error":{"message":"custom"}}',
      ]);
    }
    sim.clearFaults();
    await expect(client.chat.completions.create({ model: 'm', messages })).resolves.toBeTruthy();
    sim.fault({ kind: 'status', status: 401 });
    await expect(client.chat.completions.create({ model: 'm', messages })).rejects.toMatchObject({
      status: 401,
      code: 'invalid_api_key',
    });
  });

  it('reset destroys the connection before any header', async () => {
    sim.fault({ kind: 'reset' });
    await expect(raw('/chat/completions', { model: 'm', messages })).rejects.toThrow();
    expect(sim.calls.at(-1)?.aborted).toBe(false);
  });

  it('stall never answers and records when the client gave up', async () => {
    sim.fault({ kind: 'stall' });
    const ac = new AbortController();
    const pending = raw('/chat/completions', { model: 'm', messages }, {}, ac.signal);
    await new Promise((r) => setTimeout(r, 100));
    const abortedAt = Date.now();
    ac.abort();
    await expect(pending).rejects.toThrow();
    const call = sim.calls.at(-1);
    await expect.poll(() => call?.aborted, { timeout: 2000 }).toBe(true);
    // measured 11-50 ms on a 2-core machine running two mutation jobs (load 7-14); 500 ms still
    // tells a close the simulator saw from one it never saw (closedAt unset: the check above fails)
    expect(call?.closedAt).toBeDefined();
    expect(call!.closedAt! - abortedAt).toBeLessThan(500);
  });

  it('hangup cuts the stream after N frames', async () => {
    sim.fault({ kind: 'hangup', afterFrames: 2 });
    const r = await raw('/chat/completions', streamBody());
    expect(r.status).toBe(200);
    expect(r.error).toBeTruthy();
    expect(events(r)).toHaveLength(2);
  });

  it('stallAfter sends N frames then goes quiet until the client leaves', async () => {
    sim.fault({ kind: 'stallAfter', afterFrames: 3 });
    const ac = new AbortController();
    const res = await request(`${sim.url}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(streamBody()),
      signal: ac.signal,
    });
    const d = new SseDecoder();
    const got: SseEvent[] = [];
    const reading = (async () => {
      for await (const c of res.body) got.push(...d.push(c as Buffer));
    })();
    await new Promise((r) => setTimeout(r, 250));
    expect(got).toHaveLength(3);
    ac.abort();
    await expect(reading).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 50));
    expect(sim.calls.at(-1)?.aborted).toBe(true);
  });

  it('midStreamError sends an error payload after N frames', async () => {
    sim.fault({ kind: 'midStreamError', afterFrames: 2 });
    const evs = events(await raw('/chat/completions', streamBody()));
    expect(evs).toHaveLength(3);
    expect(JSON.parse(evs[2]?.data ?? '')).toMatchObject({ error: { type: 'server_error' } });
    sim.fault({ kind: 'midStreamError', afterFrames: 1 });
    const stream = await client.chat.completions.create({ ...streamBody(), stream: true });
    await expect(
      (async () => {
        for await (const _ of stream) {
          /* drain */
        }
      })(),
    ).rejects.toThrow(/server had an error/);
  });

  it('garbage answers 200 with a body that is neither JSON nor SSE', async () => {
    sim.fault({ kind: 'garbage' });
    const plain = await raw('/chat/completions', { model: 'm', messages });
    expect(plain.status).toBe(200);
    expect(() => JSON.parse(Buffer.concat(plain.chunks).toString()) as unknown).toThrow();
    sim.fault({ kind: 'garbage' });
    const garbage = events(await raw('/chat/completions', streamBody()));
    expect(garbage).toHaveLength(1);
    expect(() => JSON.parse(garbage[0]?.data ?? '') as unknown).toThrow();
  });

  it('records every call with path, query and body', async () => {
    await request(`${sim.url}/embeddings?trace=1`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: '{"model":"e","input":"x"}',
    }).then((r) => r.body.text());
    expect(sim.calls.at(-1)).toMatchObject({
      method: 'POST',
      path: '/v1/embeddings',
      query: 'trace=1',
      aborted: false,
    });
    expect(sim.calls.at(-1)?.body.toString()).toBe('{"model":"e","input":"x"}');
  });
});
