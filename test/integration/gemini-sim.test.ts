/**
 * The Gemini simulator driven by the official `@google/genai` client (text, stream, function
 * calls, thoughts, embeddings, errors) and by raw undici requests for what the SDK hides: `?key=`
 * auth, `\r\n\r\n` framing without [DONE], usageMetadata on every chunk, and every injected fault.
 * Then what only our Gemini adapter does against it: the tool result sent back with the call's
 * thought signature and the function's name, thoughts streamed as reasoning over the real SSE
 * decoder, the passthrough URL. What every adapter does (answers, streams, tool calls, 429,
 * bad key, rejects, stream faults) is the contract in test/contract/adapter-contract.test.ts.
 */
import { ApiError, GoogleGenAI, Type } from '@google/genai';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { geminiAdapter } from '../../src/daemon/providers/gemini/index.js';
import type { OpenAIChatChunk, OpenAIChatRequest } from '../../src/daemon/providers/openai/types.js';
import type { UpstreamRequest, UpstreamTarget } from '../../src/daemon/providers/types.js';
import { SseDecoder } from '../../src/daemon/streams/sse.js';
import { DEFAULT_SIM_TEXT } from '../support/sim/openai-sim-chat.js';
import type { GeminiSim } from '../support/sim/gemini-sim.js';
import { SIM_THOUGHT_SIGNATURE, startGeminiSim, THOUGHT_TEXT } from '../support/sim/gemini-sim.js';
import { sendUpstream, upstreamTarget } from '../support/upstream-target.js';

const KEY = 'AIza-sim-key';
const MODEL = 'gemini-2.5-flash';
const weather = {
  name: 'get_weather',
  description: 'Weather for a city',
  parameters: {
    type: Type.OBJECT,
    properties: { location: { type: Type.STRING }, days: { type: Type.INTEGER } },
    required: ['location', 'days'],
  },
};

let sim: GeminiSim;
let ai: GoogleGenAI;

beforeAll(async () => {
  sim = await startGeminiSim({ keys: [KEY] });
  ai = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: sim.url } });
});
afterAll(async () => {
  await sim.close();
});
afterEach(() => {
  sim.clearFaults();
  sim.setDelay(0);
});

async function raw(path: string, body: unknown, headers: Record<string, string> = { 'x-goog-api-key': KEY }) {
  const res = await request(`${sim.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.statusCode, text: await res.body.text() };
}

const hello = { contents: [{ role: 'user', parts: [{ text: 'Hello' }] }] };

describe('the simulator through @google/genai', () => {
  it('generateContent: text, usage, key in x-goog-api-key', async () => {
    const res = await ai.models.generateContent({ model: MODEL, contents: 'Hello' });
    expect(res.text).toBe(DEFAULT_SIM_TEXT);
    expect(res.candidates?.[0]?.finishReason).toBe('STOP');
    const sent = sim.calls.at(-1);
    expect(sent?.path).toBe(`/v1beta/models/${MODEL}:generateContent`);
    expect(sent?.headers['x-goog-api-key']).toBe(KEY);
    const prompt = Math.ceil(
      Buffer.byteLength(
        JSON.stringify([null, (JSON.parse(String(sent?.body)) as { contents: unknown }).contents]),
      ) / 4,
    );
    expect(res.usageMetadata).toMatchObject({
      promptTokenCount: prompt,
      candidatesTokenCount: 5,
      totalTokenCount: prompt + 5,
    });
  });

  it('generateContentStream: pieces in order, usage on every chunk, finish on the last', async () => {
    const chunks = [];
    for await (const c of await ai.models.generateContentStream({
      model: MODEL,
      contents: 'Hello',
      config: { httpOptions: { headers: { 'x-sim-deltas': '3' } } },
    })) {
      chunks.push(c);
    }
    expect(chunks).toHaveLength(3);
    expect(chunks.map((c) => c.text).join('')).toBe(DEFAULT_SIM_TEXT);
    expect(chunks.every((c) => c.usageMetadata?.promptTokenCount !== undefined)).toBe(true);
    expect(chunks.map((c) => c.candidates?.[0]?.finishReason)).toEqual([undefined, undefined, 'STOP']);
    expect(chunks.at(-1)?.usageMetadata?.candidatesTokenCount).toBe(3);
    expect(sim.callCount(':streamGenerateContent')).toBeGreaterThanOrEqual(1);
    expect(sim.calls.at(-1)?.query).toBe('alt=sse');
  });

  it('function calls come without ids, with finishReason STOP and a thought signature', async () => {
    const res = await ai.models.generateContent({
      model: MODEL,
      contents: 'Weather in Paris?',
      config: { tools: [{ functionDeclarations: [weather] }] },
    });
    expect(res.functionCalls).toEqual([
      { name: 'get_weather', args: { location: 'San Francisco', days: 1 } },
    ]);
    expect(res.candidates?.[0]?.finishReason).toBe('STOP');
    expect(res.candidates?.[0]?.content?.parts?.[0]?.thoughtSignature).toBe(SIM_THOUGHT_SIGNATURE);
  });

  it('thought parts when includeThoughts is set; maxOutputTokens cuts with MAX_TOKENS', async () => {
    const res = await ai.models.generateContent({
      model: MODEL,
      contents: 'Hi',
      config: { thinkingConfig: { includeThoughts: true, thinkingBudget: 512 }, maxOutputTokens: 2 },
    });
    const parts = res.candidates?.[0]?.content?.parts ?? [];
    expect(parts[0]).toEqual({ text: THOUGHT_TEXT, thought: true });
    expect(res.candidates?.[0]?.finishReason).toBe('MAX_TOKENS');
    expect(res.usageMetadata).toMatchObject({ thoughtsTokenCount: 3, candidatesTokenCount: 2 });
  });

  it('embedContent uses batchEmbedContents', async () => {
    const res = await ai.models.embedContent({
      model: 'text-embedding-004',
      contents: ['alpha', 'beta', 'alpha'],
    });
    expect(res.embeddings).toHaveLength(3);
    expect(res.embeddings?.[0]?.values).toHaveLength(8);
    expect(res.embeddings?.[0]?.values).toEqual(res.embeddings?.[2]?.values);
    expect(res.embeddings?.[0]?.values).not.toEqual(res.embeddings?.[1]?.values);
    expect(sim.callCount(':batchEmbedContents')).toBe(1);
  });

  it('errors reach the client as ApiError: wrong key (400), injected 429', async () => {
    const wrong = new GoogleGenAI({ apiKey: 'AIza-wrong', httpOptions: { baseUrl: sim.url } });
    await expect(wrong.models.generateContent({ model: MODEL, contents: 'x' })).rejects.toMatchObject({
      status: 400,
    });
    sim.fault({ kind: 'status', status: 429 });
    const err: unknown = await ai.models
      .generateContent({ model: MODEL, contents: 'x' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(429);
    expect((err as ApiError).message).toContain('RESOURCE_EXHAUSTED');
    sim.fault({ kind: 'midStreamError', afterFrames: 1 });
    const consume = async () => {
      for await (const _c of await ai.models.generateContentStream({ model: MODEL, contents: 'x' })) {
        // drain
      }
    };
    await expect(consume()).rejects.toMatchObject({ status: 500 });
  });
});

describe('the simulator on the wire', () => {
  it('accepts ?key=, frames with \\r\\n\\r\\n, sends no [DONE]', async () => {
    const { status, text } = await raw(
      `/v1beta/models/${MODEL}:streamGenerateContent?alt=sse&key=${KEY}`,
      hello,
      {},
    );
    expect(status).toBe(200);
    const frames = text.split('\r\n\r\n');
    expect(frames.at(-1)).toBe('');
    expect(frames.slice(0, -1).every((f) => f.startsWith('data: {'))).toBe(true);
    expect(text).not.toContain('[DONE]');
    expect(text).not.toMatch(/[^\r]\n\n/);
  });

  it('a missing key, an unknown field and a wrong role are 400s with Gemini bodies', async () => {
    const noKey = await raw(`/v1beta/models/${MODEL}:generateContent`, hello, {});
    expect(noKey.status).toBe(400);
    expect(noKey.text).toContain('API_KEY_INVALID');
    const unknown = await raw(`/v1beta/models/${MODEL}:generateContent`, { ...hello, messages: [] });
    expect(unknown.status).toBe(400);
    expect(JSON.parse(unknown.text)).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT' } });
    const role = await raw(`/v1beta/models/${MODEL}:generateContent`, {
      contents: [{ role: 'assistant', parts: [{ text: 'x' }] }],
    });
    expect(role.status).toBe(400);
    expect(role.text).toContain('valid role');
  });

  it('records a client that gives up on a stalled request', async () => {
    sim.fault({ kind: 'stall' });
    const before = sim.calls.length;
    await expect(
      request(`${sim.url}/v1beta/models/${MODEL}:generateContent`, {
        method: 'POST',
        headers: { 'x-goog-api-key': KEY, 'content-type': 'application/json' },
        body: JSON.stringify(hello),
        signal: AbortSignal.timeout(150),
      }),
    ).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 50));
    expect(sim.calls.length).toBe(before + 1);
    expect(sim.calls.at(-1)?.aborted).toBe(true);
  });
});

const target = (): UpstreamTarget =>
  upstreamTarget({ id: 9, name: 'sim', type: 'gemini', baseUrl: sim.url, timeoutMs: 5000 }, KEY, MODEL);

function streamThrough(body: Buffer): { chunks: OpenAIChatChunk[]; error: unknown; usage: unknown } {
  const dec = new SseDecoder();
  const conv = geminiAdapter.chatStream(target(), { dropped: [] });
  const chunks: OpenAIChatChunk[] = [];
  try {
    for (const e of [...dec.push(body), ...dec.end()]) chunks.push(...conv.push(e));
    chunks.push(...conv.end());
  } catch (error) {
    return { chunks, error, usage: conv.usage() };
  }
  return { chunks, error: undefined, usage: conv.usage() };
}

describe('our Gemini adapter against the simulator', () => {
  const tools: OpenAIChatRequest['tools'] = [
    {
      type: 'function',
      function: {
        name: 'get_weather',
        parameters: {
          type: 'object',
          additionalProperties: false,
          properties: { location: { type: 'string' } },
          required: ['location'],
        },
      },
    },
  ];

  // the round trip's call, answer, usage and the failures are in the adapter contract
  // (test/contract/adapter-contract.test.ts); here what only Gemini's conversion does
  it('a tool result goes back as the model turn with its thought signature, then a functionResponse by name', async () => {
    const first: OpenAIChatRequest = {
      model: 'alias',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Weather?' },
      ],
      tools,
    };
    const r1 = await sendUpstream(geminiAdapter.chatRequest(first, target(), { dropped: [] }));
    const { completion } = geminiAdapter.chatResponse(JSON.parse(r1.body.toString()), target(), {
      dropped: [],
    });
    const call = completion.choices[0]?.message.tool_calls?.[0];
    const second: OpenAIChatRequest = {
      ...first,
      messages: [
        ...first.messages,
        { role: 'assistant', content: null, tool_calls: completion.choices[0]?.message.tool_calls ?? [] },
        { role: 'tool', tool_call_id: call?.id ?? '', content: 'Sunny, 21C' },
      ],
    };
    const r2 = await sendUpstream(geminiAdapter.chatRequest(second, target(), { dropped: [] }));
    expect(r2.status).toBe(200);
    const sent = JSON.parse(String(sim.calls.at(-1)?.body)) as {
      contents: { role: string; parts: Record<string, unknown>[] }[];
    };
    expect(sent.contents.map((c) => c.role)).toEqual(['user', 'model', 'user']);
    expect(sent.contents[1]?.parts[0]?.thoughtSignature).toBe(SIM_THOUGHT_SIGNATURE);
    expect(sent.contents[2]?.parts[0]).toEqual({
      functionResponse: { name: 'get_weather', response: { content: 'Sunny, 21C' } },
    });
  });

  it('thoughts stream as reasoning through the real SSE decoder, split UTF-8 and all', async () => {
    const up = geminiAdapter.chatRequest(
      { model: 'alias', messages: [{ role: 'user', content: 'Hi' }], stream: true, reasoning_effort: 'low' },
      target(),
      { dropped: [] },
    );
    const res = await sendUpstream(up, { 'x-sim-split-utf8': '1', 'x-sim-deltas': '4' });
    const { chunks, error, usage } = streamThrough(res.body);
    expect(error).toBeUndefined();
    expect(chunks.map((c) => c.choices[0]?.delta.reasoning_content ?? '').join('')).toBe(THOUGHT_TEXT);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(DEFAULT_SIM_TEXT);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    expect(usage).toMatchObject({ outputTokens: 7, reasoningTokens: 3 });
  });

  it('passthrough: the client path, our key in the header, the client key gone', async () => {
    const up = geminiAdapter.passthroughRequest?.(
      `/v1beta/models/${MODEL}:generateContent?key=sk-bc-client`,
      Buffer.from(JSON.stringify(hello)),
      target(),
      'application/json',
    );
    const res = await sendUpstream(up as UpstreamRequest);
    expect(res.status).toBe(200);
    expect(sim.calls.at(-1)?.query).toBe('');
    expect(geminiAdapter.usageFromBody?.(JSON.parse(res.body.toString()))?.outputTokens).toBe(5);
  });
});
