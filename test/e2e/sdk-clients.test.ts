/**
 * The gateway the way application code meets it: the Vercel AI SDK (`ai` with its OpenAI,
 * Anthropic and Google providers) and LangChain (`@langchain/openai`, `@langchain/anthropic`),
 * unmodified, pointed at the gateway by their base-URL options. Behind it, an OpenAI channel and an
 * Anthropic channel on their wire-faithful simulators, so every path is either passthrough or a
 * protocol conversion. Each case checks what the framework hands the application (the exact text,
 * a tool call it executes, the usage it reports) against what the simulator sent and against the
 * gateway's own log row, which is what billing reads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  embed,
  embedMany,
  generateObject,
  generateText,
  stepCountIs,
  streamObject,
  streamText,
  tool,
  type LanguageModel,
} from 'ai';
import { createOpenAI } from '@ai-sdk/openai';
import { createAnthropic } from '@ai-sdk/anthropic';
import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { ChatOpenAI, OpenAIEmbeddings } from '@langchain/openai';
import { ChatAnthropic } from '@langchain/anthropic';
import type { AIMessageChunk } from '@langchain/core/messages';
import { z } from 'zod';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { readFixtureJson } from '../support/fixtures.js';
import { startOpenAISim } from '../support/sim/openai-sim.js';
import { DEFAULT_SIM_TEXT } from '../support/sim/openai-sim-chat.js';
import { startAnthropicSim } from '../support/sim/anthropic-sim.js';
import { embeddingVector, type SimCall } from '../support/sim/sim-common.js';
import type { LogRow } from '../../src/shared/control-api.js';

type Json = Record<string, unknown>;

/**
 * The prompt of the text cases. Its size differs between the simulators' count (UTF-8 bytes / 4)
 * and the gateway's own tokenizer, so a test can tell which of the two a figure came from.
 */
const PROMPT = 'Say hello in three languages: English, French and Japanese.';

const ANTHROPIC_TEXT = readFixtureJson<{ content: { text: string }[] }>(
  'anthropic/messages-nonstream-text.json',
).content[0]!.text;

/** The models the key sees: `oa-m` on the OpenAI channel, `an-m` on the Anthropic channel. */
const UPSTREAM = {
  'oa-m': { text: DEFAULT_SIM_TEXT, calls: (): SimCall[] => oaCalls() },
  'an-m': { text: ANTHROPIC_TEXT, calls: (): SimCall[] => anCalls() },
} as const;
type Model = keyof typeof UPSTREAM;

let gw: TestGateway;
let key: string;
let oaCalls: () => SimCall[];
let anCalls: () => SimCall[];
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  gw = await startGateway();
  const [oa, an] = await Promise.all([startOpenAISim(), startAnthropicSim()]);
  closers.push(
    () => oa.close(),
    () => an.close(),
  );
  oaCalls = () => oa.calls;
  anCalls = () => an.calls;
  const keys = ['sk-upstream-0000000000'];
  await gw.addChannel({
    name: 'openai',
    type: 'openai',
    keys,
    models: ['oa-m', 'text-embedding-3-small'],
    map: { 'oa-m': 'gpt-4o-mini' },
    base_url: oa.url,
  });
  await gw.addChannel({
    name: 'anthropic',
    type: 'anthropic',
    keys,
    models: ['an-m'],
    map: { 'an-m': 'claude-sonnet-4-5' },
    base_url: an.url,
  });
  key = await gw.createKey();
});

afterAll(async () => {
  await gw?.close();
  await Promise.all(closers.map((c) => c()));
});

async function logsSince(id: number): Promise<LogRow[]> {
  const rows = await gw.call<LogRow[]>('GET', '/v1/logs?limit=20');
  return rows.filter((r) => r.id > id).sort((a, b) => a.id - b.id);
}

async function lastLogId(): Promise<number> {
  const rows = await gw.call<LogRow[]>('GET', '/v1/logs?limit=1');
  return rows[0]?.id ?? 0;
}

/** The one log row a call left, checked successful, on the expected channel and endpoint. */
async function onlyRow(since: number, model: Model, endpoint: string): Promise<LogRow> {
  const rows = await logsSince(since);
  expect(rows).toHaveLength(1);
  const row = rows[0]!;
  expect(row).toMatchObject({
    model,
    endpoint,
    status: 200,
    channel: model === 'oa-m' ? 'openai' : 'anthropic',
  });
  expect(row.input_tokens).toBeGreaterThan(0);
  expect(row.output_tokens).toBeGreaterThan(0);
  return row;
}

function lastUpstreamBody(model: Model): Json {
  const calls = UPSTREAM[model].calls();
  return JSON.parse(calls[calls.length - 1]!.body.toString('utf8')) as Json;
}

const weather = tool({
  description: 'Current weather for a city',
  inputSchema: z.object({ location: z.string() }),
  execute: ({ location }) => Promise.resolve({ location, forecast: 'sunny, 21 °C' }),
});

const ai = {
  openaiChat: (m: Model): LanguageModel => createOpenAI({ baseURL: `${gw.url}/v1`, apiKey: key }).chat(m),
  openaiResponses: (m: Model): LanguageModel =>
    createOpenAI({ baseURL: `${gw.url}/v1`, apiKey: key }).responses(m),
  anthropic: (m: Model): LanguageModel => createAnthropic({ baseURL: `${gw.url}/v1`, apiKey: key })(m),
  google: (m: Model): LanguageModel =>
    createGoogleGenerativeAI({ baseURL: `${gw.url}/v1beta`, apiKey: key })(m),
};

type Front = keyof typeof ai;
const ENDPOINT: Record<Front, string> = {
  openaiChat: '/v1/chat/completions',
  openaiResponses: '/v1/responses',
  anthropic: '/v1/messages',
  google: '/v1beta/models/{model}:generateContent',
};

/** The endpoint the log row names (Gemini's routes by their template). */
function endpointOf(front: Front, stream: boolean): string {
  return front === 'google' && stream ? '/v1beta/models/{model}:streamGenerateContent' : ENDPOINT[front];
}

const AI_CASES: [Front, Model][] = [
  ['openaiChat', 'oa-m'],
  ['openaiChat', 'an-m'],
  ['openaiResponses', 'oa-m'],
  ['openaiResponses', 'an-m'],
  ['anthropic', 'an-m'],
  ['anthropic', 'oa-m'],
  ['google', 'oa-m'],
  ['google', 'an-m'],
];

describe('Vercel AI SDK', () => {
  for (const [front, model] of AI_CASES) {
    const via = `${front} -> ${model === 'oa-m' ? 'OpenAI' : 'Anthropic'} channel`;

    it(`generateText: ${via}`, async () => {
      const since = await lastLogId();
      const res = await generateText({ model: ai[front](model), prompt: PROMPT, maxRetries: 0 });
      expect(res.text).toBe(UPSTREAM[model].text);
      expect(res.finishReason).toBe('stop');
      const row = await onlyRow(since, model, endpointOf(front, false));
      expect(res.usage.inputTokens).toBe(row.input_tokens);
      expect(res.usage.outputTokens).toBe(row.output_tokens);
    });

    it(`streamText: ${via}`, async () => {
      const since = await lastLogId();
      const res = streamText({ model: ai[front](model), prompt: PROMPT, maxRetries: 0 });
      const pieces: string[] = [];
      for await (const piece of res.textStream) pieces.push(piece);
      expect(pieces.join('')).toBe(UPSTREAM[model].text);
      expect(pieces.length).toBeGreaterThan(1);
      expect(await res.finishReason).toBe('stop');
      const usage = await res.usage;
      const row = await onlyRow(since, model, endpointOf(front, true));
      expect(row.stream).toBe(true);
      expect(usage.inputTokens).toBe(row.input_tokens);
      expect(usage.outputTokens).toBe(row.output_tokens);
    });

    it(`a tool the SDK executes, then the answer: ${via}`, async () => {
      const since = await lastLogId();
      const res = await generateText({
        model: ai[front](model),
        prompt: 'What is the weather in Paris?',
        tools: { get_weather: weather },
        stopWhen: stepCountIs(3),
        maxRetries: 0,
      });
      expect(res.steps).toHaveLength(2);
      const [call] = res.steps[0]!.toolCalls;
      expect(call?.toolName).toBe('get_weather');
      expect(res.steps[0]!.toolResults[0]?.output).toEqual({
        location: (call?.input as { location: string }).location,
        forecast: 'sunny, 21 °C',
      });
      expect(res.text).toBe(UPSTREAM[model].text);
      // The second turn reached the upstream in its own shape, carrying the tool's output.
      expect(JSON.stringify(lastUpstreamBody(model))).toContain('sunny, 21 °C');
      const rows = await logsSince(since);
      expect(rows.map((r) => r.status)).toEqual([200, 200]);
      expect(res.totalUsage.inputTokens).toBe(rows[0]!.input_tokens + rows[1]!.input_tokens);
      expect(res.totalUsage.outputTokens).toBe(rows[0]!.output_tokens + rows[1]!.output_tokens);
    });
  }

  // Structured output through the Anthropic channel from every front: the OpenAI, Responses and
  // Gemini fronts ask with a JSON schema, which the gateway turns into a forced tool; the Anthropic
  // front brings its own forced tool, passed through. The simulated model fills the tool's input
  // from its schema.
  const WEATHER_REPORT = z.object({ city: z.string(), temperature: z.number(), sunny: z.boolean() });
  const FILLED = { city: 'sim-city', temperature: 21, sunny: true };
  /** The input schema of the tool the upstream request forces (by name, or the only one with `any`). */
  const forcedSchema = (): Json => {
    const body = lastUpstreamBody('an-m');
    const choice = body.tool_choice as { type: string; name?: string };
    const tools = body.tools as Json[];
    expect(['tool', 'any']).toContain(choice.type);
    if (choice.type === 'any') expect(tools).toHaveLength(1);
    const forced = choice.type === 'tool' ? tools.find((t) => t.name === choice.name) : tools[0];
    return forced?.input_schema as Json;
  };
  for (const front of ['openaiChat', 'openaiResponses', 'anthropic', 'google'] as const) {
    it(`generateObject and streamObject: ${front} -> Anthropic channel`, async () => {
      const since = await lastLogId();
      const res = await generateObject({
        model: ai[front]('an-m'),
        schema: WEATHER_REPORT,
        prompt: 'Weather report for Paris',
        maxRetries: 0,
      });
      expect(res.object).toEqual(FILLED);
      expect(Object.keys((forcedSchema().properties as Json | undefined) ?? {})).toEqual(
        expect.arrayContaining(['city', 'temperature', 'sunny']),
      );
      const streamed = streamObject({
        model: ai[front]('an-m'),
        schema: WEATHER_REPORT,
        prompt: 'Weather report for Paris',
        maxRetries: 0,
      });
      let partials = 0;
      for await (const partial of streamed.partialObjectStream)
        if (Object.keys(partial).length > 0) partials++;
      expect(await streamed.object).toEqual(FILLED);
      expect(partials).toBeGreaterThan(0);
      const rows = await logsSince(since);
      expect(rows.map((r) => [r.status, r.stream])).toEqual([
        [200, false],
        [200, true],
      ]);
    });
  }

  it('embed and embedMany, through the OpenAI and the Google providers, to an OpenAI channel', async () => {
    const EMBED = 'text-embedding-3-small';
    const openaiEmbed = createOpenAI({ baseURL: `${gw.url}/v1`, apiKey: key }).embedding(EMBED);
    const googleEmbed = createGoogleGenerativeAI({ baseURL: `${gw.url}/v1beta`, apiKey: key }).embedding(
      EMBED,
    );
    const texts = ['sunny in Paris', 'rain in Lyon'];
    for (const model of [openaiEmbed, googleEmbed]) {
      const one = await embed({ model, value: texts[0]!, maxRetries: 0 });
      expect(one.embedding).toEqual(embeddingVector(texts[0]!, 8));
      const many = await embedMany({ model, values: texts, maxRetries: 0 });
      expect(many.embeddings).toEqual(texts.map((t) => embeddingVector(t, 8)));
    }
    const rows = (await gw.call<LogRow[]>('GET', '/v1/logs?limit=4')).reverse();
    expect(rows.map((r) => [r.endpoint, r.status, r.channel])).toEqual([
      ['/v1/embeddings', 200, 'openai'],
      ['/v1/embeddings', 200, 'openai'],
      ['/v1beta/models/{model}:embedContent', 200, 'openai'],
      ['/v1beta/models/{model}:batchEmbedContents', 200, 'openai'],
    ]);
    expect(rows.every((r) => r.input_tokens > 0 && !r.usage_estimated)).toBe(true);
  });

  it("a gateway error reaches the application as the provider's error, with the gateway's message", async () => {
    const bad = createOpenAI({ baseURL: `${gw.url}/v1`, apiKey: key }).chat('no-such-model');
    const err = await generateText({ model: bad, prompt: 'hi', maxRetries: 0 }).then(
      () => undefined,
      (e: unknown) => e as { statusCode?: number; message: string },
    );
    expect(err?.statusCode).toBe(404);
    expect(err?.message).toMatch(/no-such-model/);
  });
});

describe('LangChain', () => {
  const lc = {
    openai: (m: Model) =>
      new ChatOpenAI({ model: m, apiKey: key, configuration: { baseURL: `${gw.url}/v1` }, maxRetries: 0 }),
    anthropic: (m: Model) =>
      new ChatAnthropic({ model: m, apiKey: key, anthropicApiUrl: gw.url, maxRetries: 0 }),
  };
  const LC_CASES: [keyof typeof lc, Model][] = [
    ['openai', 'oa-m'],
    ['openai', 'an-m'],
    ['anthropic', 'an-m'],
    ['anthropic', 'oa-m'],
  ];
  /** The gateway's own count of LangChain's one-message prompt, asked through count_tokens. */
  const promptCount = async (model: Model): Promise<{ input: number; output: number }> => {
    const res = await fetch(`${gw.url}/v1/messages/count_tokens`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: PROMPT }] }),
    });
    expect(res.status).toBe(200);
    const { input_tokens } = (await res.json()) as { input_tokens: number };
    expect(input_tokens).toBeGreaterThan(0);
    return { input: input_tokens, output: 0 };
  };
  const endpoint = (front: keyof typeof lc): string =>
    front === 'openai' ? '/v1/chat/completions' : '/v1/messages';

  it('OpenAIEmbeddings: a query and documents', async () => {
    const emb = new OpenAIEmbeddings({
      model: 'text-embedding-3-small',
      apiKey: key,
      configuration: { baseURL: `${gw.url}/v1` },
      maxRetries: 0,
    });
    // LangChain asks for base64 (float32) vectors, as the OpenAI client does by default
    const f32 = (t: string): number[] => Array.from(new Float32Array(embeddingVector(t, 8)));
    expect(await emb.embedQuery('hello')).toEqual(f32('hello'));
    expect(await emb.embedDocuments(['a', 'b'])).toEqual([f32('a'), f32('b')]);
  });

  for (const [front, model] of LC_CASES) {
    const via = `Chat${front === 'openai' ? 'OpenAI' : 'Anthropic'} -> ${model === 'oa-m' ? 'OpenAI' : 'Anthropic'} channel`;

    it(`invoke: ${via}`, async () => {
      const since = await lastLogId();
      const msg = await lc[front](model).invoke(PROMPT);
      expect(msg.content).toBe(UPSTREAM[model].text);
      const row = await onlyRow(since, model, endpoint(front));
      expect(msg.usage_metadata?.input_tokens).toBe(row.input_tokens);
      expect(msg.usage_metadata?.output_tokens).toBe(row.output_tokens);
    });

    it(`stream: ${via}`, async () => {
      const since = await lastLogId();
      let whole: AIMessageChunk | undefined;
      let chunks = 0;
      for await (const chunk of await lc[front](model).stream(PROMPT)) {
        whole = whole ? whole.concat(chunk) : chunk;
        chunks++;
      }
      expect(chunks).toBeGreaterThan(1);
      const text =
        typeof whole?.content === 'string'
          ? whole.content
          : (whole?.content ?? []).map((b) => ('text' in b ? String(b.text) : '')).join('');
      expect(text).toBe(UPSTREAM[model].text);
      const row = await onlyRow(since, model, endpoint(front));
      expect(row.stream).toBe(true);
      if (front === 'openai') {
        expect(whole?.usage_metadata?.input_tokens).toBe(row.input_tokens);
        expect(whole?.usage_metadata?.output_tokens).toBe(row.output_tokens);
        return;
      }
      // ChatAnthropic reads input tokens from message_start only, and adds message_start's
      // output_tokens to message_delta's running total. From Anthropic itself (passthrough, bytes
      // as sent) message_start says 1 output token, as the real API does. Converted from an
      // OpenAI channel, which reports usage only at the end, message_start carries the gateway's
      // own prompt count, the figure count_tokens answers for the same request, and 0 output.
      const started = model === 'an-m' ? { input: row.input_tokens, output: 1 } : await promptCount(model);
      if (model === 'oa-m') expect(started.input).not.toBe(row.input_tokens);
      expect(whole?.usage_metadata?.input_tokens).toBe(started.input);
      expect(whole?.usage_metadata?.output_tokens).toBe(row.output_tokens + started.output);
    });

    it(`bindTools: a tool call with JSON arguments: ${via}`, async () => {
      const since = await lastLogId();
      const withTools = lc[front](model).bindTools([
        {
          name: 'get_weather',
          description: 'Current weather for a city',
          schema: z.object({ location: z.string() }),
        },
      ]);
      const msg = await withTools.invoke('What is the weather in Paris?');
      expect(msg.tool_calls).toHaveLength(1);
      expect(msg.tool_calls?.[0]?.name).toBe('get_weather');
      expect(typeof msg.tool_calls?.[0]?.args.location).toBe('string');
      expect(msg.tool_calls?.[0]?.id).toBeTruthy();
      await onlyRow(since, model, endpoint(front));
    });
  }
});
