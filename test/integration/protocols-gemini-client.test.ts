/**
 * Issue 4, Gemini side: the official `@google/genai` client on `generateContent` and
 * `generateContentStream` through the gateway. To an `openai` channel the request is converted:
 * text, usage equal in the answer and the log row, system instruction, function calls (ids made
 * up by the gateway carry the follow-up functionResponse to the right OpenAI tool call). To a
 * `gemini` channel it is passthrough: the simulator receives the SDK's bytes (the alias in the
 * path rewritten to the upstream model, our key instead of the client's) and the answer — thought
 * signatures and `\r\n\r\n` framing included — comes back as written. Errors have Gemini's shape.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { ApiError, GoogleGenAI, type Content, type FunctionDeclaration, Type } from '@google/genai';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import { DEFAULT_SIM_TEXT } from '../support/sim/openai-sim-chat.js';
import { SIM_THOUGHT_SIGNATURE, startGeminiSim, type GeminiSim } from '../support/sim/gemini-sim.js';
import { embeddingVector } from '../support/sim/sim-common.js';
import type { LogRow } from '../../src/shared/control-api.js';

type Json = Record<string, unknown>;

const WEATHER: FunctionDeclaration = {
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: { type: Type.OBJECT, properties: { location: { type: Type.STRING } }, required: ['location'] },
};
const ASK: Content[] = [{ role: 'user', parts: [{ text: 'What is the weather in Paris?' }] }];

let gw: TestGateway;
let oa: OpenAISim;
let ge: GeminiSim;
let secret: string;
let ai: GoogleGenAI;
/** request bodies the SDK sent to the gateway, as they went on the wire */
const sent: string[] = [];
const realFetch = globalThis.fetch;

beforeAll(async () => {
  gw = await startGateway();
  oa = await startOpenAISim();
  ge = await startGeminiSim({ keys: ['AIza-upstream'] });
  await gw.addChannel({
    name: 'openai',
    type: 'openai',
    keys: ['sk-oa'],
    models: ['gpt-4o-mini', 'text-embedding-3-small'],
    base_url: oa.url,
  });
  await gw.addChannel({
    name: 'gemini',
    type: 'gemini',
    keys: ['AIza-upstream'],
    models: ['gemini-2.5-flash', 'gemini-embedding-001'],
    map: { 'gem-alias': 'gemini-2.5-flash', 'embed-alias': 'gemini-embedding-001' },
    base_url: ge.url,
  });
  secret = await gw.createKey();
  ai = new GoogleGenAI({ apiKey: secret, httpOptions: { baseUrl: gw.url } });
  globalThis.fetch = async (input, init) => {
    if (
      String(input instanceof Request ? input.url : input).startsWith(gw.url) &&
      typeof init?.body === 'string'
    )
      sent.push(init.body);
    return realFetch(input, init);
  };
});

afterAll(async () => {
  globalThis.fetch = realFetch;
  await gw?.close();
  await oa?.close();
  await ge?.close();
});

async function lastLog(): Promise<LogRow> {
  return (await gw.call<LogRow[]>('GET', '/v1/logs?limit=1'))[0]!;
}

const lastOpenAIBody = (): Json => JSON.parse(oa.calls.at(-1)!.body.toString('utf8')) as Json;

describe('Gemini client -> openai channel (converted)', () => {
  it('generateContent: the upstream text, STOP, and the usage of the log row', async () => {
    const res = await ai.models.generateContent({
      model: 'gpt-4o-mini',
      contents: 'hi',
      config: { systemInstruction: 'Be brief.' },
    });
    expect(res.text).toBe(DEFAULT_SIM_TEXT);
    expect(res.candidates?.[0]?.finishReason).toBe('STOP');
    const usage = res.usageMetadata!;
    expect(usage.promptTokenCount).toBeGreaterThan(0);
    expect(usage.candidatesTokenCount).toBeGreaterThan(0);
    expect(usage.totalTokenCount).toBe(usage.promptTokenCount! + usage.candidatesTokenCount!);
    const row = await lastLog();
    expect(row).toMatchObject({ channel: 'openai', status: 200, stream: false, usage_estimated: false });
    expect(row.input_tokens).toBe(usage.promptTokenCount);
    expect(row.output_tokens).toBe(usage.candidatesTokenCount);
    const messages = lastOpenAIBody().messages as Json[];
    expect(messages[0]).toEqual({ role: 'system', content: 'Be brief.' });
    expect(messages.at(-1)).toMatchObject({ role: 'user' });
  });

  it('generateContentStream: the text in pieces, usage on the last chunk equal to the log row', async () => {
    let text = '';
    let chunks = 0;
    let last: { usage?: Json; finish?: string } = {};
    for await (const c of await ai.models.generateContentStream({ model: 'gpt-4o-mini', contents: 'hi' })) {
      chunks += 1;
      text += c.text ?? '';
      if (c.usageMetadata) last = { ...last, usage: c.usageMetadata as Json };
      if (c.candidates?.[0]?.finishReason) last = { ...last, finish: c.candidates[0].finishReason };
    }
    expect(text).toBe(DEFAULT_SIM_TEXT);
    expect(chunks).toBeGreaterThan(1);
    expect(last.finish).toBe('STOP');
    const row = await lastLog();
    expect(row).toMatchObject({ stream: true, status: 200, usage_estimated: false });
    expect(row.input_tokens).toBe(last.usage?.promptTokenCount);
    expect(row.output_tokens).toBe(last.usage?.candidatesTokenCount);
    expect(oa.calls.at(-1)!.path).toBe('/v1/chat/completions');
  });

  it('returns a function call and carries the functionResponse to the same OpenAI tool call', async () => {
    const config = { tools: [{ functionDeclarations: [WEATHER] }] };
    const first = await ai.models.generateContent({ model: 'gpt-4o-mini', contents: ASK, config });
    const call = first.functionCalls?.[0];
    expect(call?.name).toBe('get_weather');
    expect(typeof call?.args?.location).toBe('string');
    expect(first.candidates?.[0]?.finishReason).toBe('STOP');
    const second = await ai.models.generateContent({
      model: 'gpt-4o-mini',
      config,
      contents: [
        ...ASK,
        first.candidates![0]!.content!,
        { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { temp_c: 21 } } }] },
      ],
    });
    expect(second.text).toBe(DEFAULT_SIM_TEXT);
    const messages = lastOpenAIBody().messages as Json[];
    const assistant = messages.find((m) => m.role === 'assistant') as { tool_calls: Json[] };
    const tool = messages.find((m) => m.role === 'tool')!;
    expect(assistant.tool_calls[0]).toMatchObject({ type: 'function', function: { name: 'get_weather' } });
    expect(tool.tool_call_id).toBe(assistant.tool_calls[0]!.id);
    expect(String(tool.content)).toContain('21');
  });

  it('streams a function call whole', async () => {
    const calls: { name?: string; args?: Json }[] = [];
    const stream = await ai.models.generateContentStream({
      model: 'gpt-4o-mini',
      contents: ASK,
      config: { tools: [{ functionDeclarations: [WEATHER] }] },
    });
    for await (const c of stream) calls.push(...(c.functionCalls ?? []));
    expect(calls).toHaveLength(1);
    expect(calls[0]?.name).toBe('get_weather');
    expect(typeof calls[0]?.args?.location).toBe('string');
  });
});

describe('Gemini client -> gemini channel (passthrough)', () => {
  it('forwards the SDK bytes with the upstream model in the path and our key', async () => {
    sent.length = 0;
    const res = await ai.models.generateContent({ model: 'gem-alias', contents: 'hi' });
    expect(res.text).toBe(DEFAULT_SIM_TEXT);
    const call = ge.calls.at(-1)!;
    expect(call.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(call.headers['x-goog-api-key']).toBe('AIza-upstream');
    expect(sent).toHaveLength(1);
    expect(call.body.toString('utf8')).toBe(sent[0]);
    const row = await lastLog();
    expect(row).toMatchObject({ channel: 'gemini', model: 'gem-alias', upstream_model: 'gemini-2.5-flash' });
    expect(row.input_tokens).toBe(res.usageMetadata?.promptTokenCount);
  });

  it('streams the upstream frames as written, thought signatures included', async () => {
    const res = await realFetch(`${gw.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`, {
      method: 'POST',
      headers: { 'x-goog-api-key': secret, 'content-type': 'application/json' },
      body: JSON.stringify({ contents: ASK, tools: [{ functionDeclarations: [WEATHER] }] }),
    });
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).toContain('\r\n\r\n');
    expect(text).not.toContain('[DONE]');
    expect(text).toContain(`"thoughtSignature":"${SIM_THOUGHT_SIGNATURE}"`);
    expect(ge.calls.at(-1)!.query).toBe('alt=sse');
    let streamed = '';
    for await (const c of await ai.models.generateContentStream({
      model: 'gemini-2.5-flash',
      contents: 'hi',
    }))
      streamed += c.text ?? '';
    expect(streamed).toBe(DEFAULT_SIM_TEXT);
    expect((await lastLog()).output_tokens).toBeGreaterThan(0);
  });

  it('answers an unknown model with 404 and a bad key with 401, in Gemini shape', async () => {
    const missing = await ai.models
      .generateContent({ model: 'no-such-model', contents: 'x' })
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ApiError);
    expect((missing as ApiError).status).toBe(404);
    expect((missing as ApiError).message).toContain('NOT_FOUND');
    const bad = new GoogleGenAI({
      apiKey: 'sk-bc-wrong-0000000000000000000000000000',
      httpOptions: { baseUrl: gw.url },
    });
    const denied = await bad.models
      .generateContent({ model: 'gemini-2.5-flash', contents: 'x' })
      .catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(ApiError);
    expect((denied as ApiError).status).toBe(401);
    expect((denied as ApiError).message).toContain('UNAUTHENTICATED');
  });
});

describe('Gemini client: embeddings and countTokens', () => {
  const TEXTS = ['The quick brown fox', 'jumps over the lazy dog'];

  it('embedContent and batchEmbedContents pass through to a gemini channel, the batch renamed to the upstream model', async () => {
    const res = await ai.models.embedContent({ model: 'embed-alias', contents: TEXTS });
    expect(res.embeddings?.map((e) => e.values)).toEqual(TEXTS.map((t) => embeddingVector(t, 8)));
    const call = ge.calls.at(-1)!;
    expect(call.path).toBe('/v1beta/models/gemini-embedding-001:batchEmbedContents');
    const requests = (JSON.parse(call.body.toString('utf8')) as { requests: Json[] }).requests;
    expect(requests.map((r) => r.model)).toEqual(TEXTS.map(() => 'models/gemini-embedding-001'));
    const row = await lastLog();
    expect(row).toMatchObject({
      channel: 'gemini',
      endpoint: '/v1beta/models/{model}:batchEmbedContents',
      status: 200,
      usage_estimated: true,
    });
    expect(row.input_tokens).toBeGreaterThan(0);

    // the single form, as REST clients (and the Vercel AI SDK) send it
    const single = await fetch(`${gw.url}/v1beta/models/embed-alias:embedContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': secret, 'content-type': 'application/json' },
      body: JSON.stringify({ content: { parts: [{ text: TEXTS[0] }] }, outputDimensionality: 4 }),
    });
    expect(single.status).toBe(200);
    expect(await single.json()).toEqual({ embedding: { values: embeddingVector(TEXTS[0]!, 4) } });
    expect(ge.calls.at(-1)!.path).toBe('/v1beta/models/gemini-embedding-001:embedContent');
  });

  it('reach an openai channel through /v1/embeddings, answered in Gemini shape with its usage', async () => {
    const res = await ai.models.embedContent({
      model: 'text-embedding-3-small',
      contents: TEXTS,
      config: { outputDimensionality: 6 },
    });
    expect(res.embeddings?.map((e) => e.values)).toEqual(TEXTS.map((t) => embeddingVector(t, 6)));
    const body = lastOpenAIBody();
    expect(body).toMatchObject({ model: 'text-embedding-3-small', input: TEXTS, dimensions: 6 });
    const row = await lastLog();
    expect(row).toMatchObject({ channel: 'openai', status: 200, usage_estimated: false });
    expect(row.input_tokens).toBe(TEXTS.reduce((n, t) => n + Math.ceil(Buffer.byteLength(t) / 4), 0));

    const single = await fetch(`${gw.url}/v1beta/models/text-embedding-3-small:embedContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': secret, 'content-type': 'application/json' },
      body: JSON.stringify({ content: { parts: [{ text: 'hello' }] } }),
    });
    expect(await single.json()).toEqual({ embedding: { values: embeddingVector('hello', 8) } });
  });

  it('an OpenAI client embedding on a gemini channel sees the usage the log row bills', async () => {
    const client = new OpenAI({ apiKey: secret, baseURL: `${gw.url}/v1`, maxRetries: 0 });
    const res = await client.embeddings.create({
      model: 'embed-alias',
      input: TEXTS,
      encoding_format: 'float',
    });
    expect(res.data.map((d) => d.embedding)).toEqual(TEXTS.map((t) => embeddingVector(t, 8)));
    const row = await lastLog();
    expect(row).toMatchObject({ channel: 'gemini', endpoint: '/v1/embeddings', usage_estimated: true });
    expect(row.input_tokens).toBeGreaterThan(0);
    expect(res.usage).toEqual({ prompt_tokens: row.input_tokens, total_tokens: row.input_tokens });
  });

  it('refuses a content without text parts, naming the field, in Gemini shape', async () => {
    const res = await fetch(`${gw.url}/v1beta/models/embed-alias:embedContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': secret, 'content-type': 'application/json' },
      body: JSON.stringify({ content: { parts: [{ inlineData: { mimeType: 'image/png', data: 'AAAA' } }] } }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { status: string; message: string } };
    expect(body.error.status).toBe('INVALID_ARGUMENT');
    expect(body.error.message).toMatch(/content\.parts\[0\]\.text/);
  });

  it('countTokens is answered by the gateway for any channel, equal to its own count', async () => {
    const viaGemini = await ai.models.countTokens({
      model: 'gem-alias',
      contents: 'What is the weather in Paris?',
    });
    const viaOpenAI = await ai.models.countTokens({
      model: 'gpt-4o-mini',
      contents: 'What is the weather in Paris?',
    });
    expect(viaGemini.totalTokens).toBeGreaterThan(5);
    expect(viaOpenAI.totalTokens).toBe(viaGemini.totalTokens);
    const before = ge.calls.length;
    await ai.models.countTokens({ model: 'gem-alias', contents: 'hi' });
    expect(ge.calls.length).toBe(before);
    const row = await lastLog();
    expect(row).toMatchObject({ endpoint: '/v1beta/models/{model}:countTokens', status: 200 });
  });
});
