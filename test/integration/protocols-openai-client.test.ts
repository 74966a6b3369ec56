/**
 * Issue 4, OpenAI side: the official `openai` client through the gateway to every channel type
 * (openai, anthropic, gemini, azure, bedrock, qwen), each behind its own wire-faithful simulator.
 * For each: text with and without streaming (the simulator's exact text arrives), usage equal in
 * the answer and in the log row, a tool call with id, name and JSON arguments (streamed too), a
 * follow-up turn carrying the tool result that the upstream receives in its own shape and answers
 * in text, and `reasoning_content` where the upstream thinks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import type {
  ChatCompletionChunk,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { readFixtureJson } from '../support/fixtures.js';
import { startOpenAISim } from '../support/sim/openai-sim.js';
import { DEFAULT_SIM_TEXT } from '../support/sim/openai-sim-chat.js';
import { startAnthropicSim } from '../support/sim/anthropic-sim.js';
import { startGeminiSim } from '../support/sim/gemini-sim.js';
import { startAzureSim } from '../support/sim/azure-sim.js';
import {
  BEDROCK_SIM_CREDENTIALS,
  DEFAULT_BEDROCK_SIM_TEXT,
  startBedrockSim,
} from '../support/sim/bedrock-sim.js';
import type { SimCall } from '../support/sim/sim-common.js';
import type { ChannelInput, ChannelType, LogRow } from '../../src/shared/control-api.js';

type Json = Record<string, unknown>;

const ANTHROPIC_TEXT = readFixtureJson<{ content: { text: string }[] }>(
  'anthropic/messages-nonstream-text.json',
).content[0]!.text;

interface Case {
  /** the channel type, also the channel's name */
  type: string;
  model: string;
  text: string;
  /** extra body fields that make this upstream think; absent when it cannot */
  reasoning?: Json;
  /** whether the upstream reports reasoning tokens on their own */
  countsReasoning?: boolean;
  calls: () => SimCall[];
  /** the upstream request of the follow-up turn carries the tool result for `id` */
  sawToolResult: (body: Json, id: string) => boolean;
}

const WEATHER: ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
  },
};

let gw: TestGateway;
let client: OpenAI;
const closers: (() => Promise<void>)[] = [];
const cases: Case[] = [];
const json = (c: SimCall): Json => JSON.parse(c.body.toString('utf8')) as Json;
const has = (body: Json, needle: string): boolean => JSON.stringify(body).includes(needle);

beforeAll(async () => {
  gw = await startGateway();
  const [oa, qw, an, ge, az, br] = await Promise.all([
    startOpenAISim(),
    startOpenAISim({ flavour: 'qwen' }),
    startAnthropicSim(),
    startGeminiSim(),
    startAzureSim(),
    startBedrockSim(),
  ]);
  closers.push(...[oa, qw, an, ge, az, br].map((sim) => () => sim.close()));
  const openaiResult = (b: Json, id: string): boolean =>
    (b.messages as Json[]).some((m) => m.role === 'tool' && m.tool_call_id === id);
  const effort = { reasoning_effort: 'low' };
  const add = async (c: Case, upstream: string, url: string, extra: ChannelInput = {}): Promise<void> => {
    const [type, keys] = [c.type as ChannelType, ['sk-upstream-0000000000']];
    await gw.addChannel({
      name: c.type,
      type,
      keys,
      models: [c.model],
      map: { [c.model]: upstream },
      base_url: url,
      ...extra,
    });
    cases.push(c);
  };
  const text = DEFAULT_SIM_TEXT;
  await add(
    { type: 'openai', model: 'oa-m', text, calls: () => oa.calls, sawToolResult: openaiResult },
    'gpt-4o-mini',
    oa.url,
  );
  const thinkQwen = { reasoning: { enable_thinking: true }, countsReasoning: true };
  await add(
    { type: 'qwen', model: 'qw-m', text, ...thinkQwen, calls: () => qw.calls, sawToolResult: openaiResult },
    'qwen-plus',
    qw.url,
  );
  await add(
    { type: 'azure', model: 'gpt-4o', text, calls: () => az.calls, sawToolResult: openaiResult },
    'dep-4o',
    az.url,
    { api_version: '2024-10-21' },
  );
  const toolResult = (b: Json, id: string): boolean =>
    has(b, '"type":"tool_result"') && has(b, `"tool_use_id":"${id}"`);
  await add(
    {
      type: 'anthropic',
      model: 'an-m',
      text: ANTHROPIC_TEXT,
      reasoning: effort,
      calls: () => an.calls,
      sawToolResult: toolResult,
    },
    'claude-sonnet-4-5',
    an.url,
  );
  const functionResponse = (b: Json): boolean => has(b, '"functionResponse":{"name":"get_weather"');
  await add(
    {
      type: 'gemini',
      model: 'ge-m',
      text,
      reasoning: effort,
      countsReasoning: true,
      calls: () => ge.calls,
      sawToolResult: functionResponse,
    },
    'gemini-2.5-flash',
    ge.url,
  );
  const converseResult = (b: Json, id: string): boolean => has(b, `"toolResult":{"toolUseId":"${id}"`);
  const bedrockKey = `${BEDROCK_SIM_CREDENTIALS.accessKeyId}:${BEDROCK_SIM_CREDENTIALS.secretAccessKey}`;
  await add(
    {
      type: 'bedrock',
      model: 'br-m',
      text: DEFAULT_BEDROCK_SIM_TEXT,
      reasoning: effort,
      calls: () => br.calls,
      sawToolResult: converseResult,
    },
    'anthropic.claude-3-7-sonnet-20250219-v1:0',
    br.url,
    {
      keys: [bedrockKey],
      region: br.region,
    },
  );
  client = new OpenAI({ apiKey: await gw.createKey(), baseURL: `${gw.url}/v1`, maxRetries: 0 });
});

afterAll(async () => {
  await gw?.close();
  await Promise.all(closers.map((c) => c()));
});

async function lastLog(): Promise<LogRow> {
  const rows = await gw.call<LogRow[]>('GET', '/v1/logs?limit=1');
  return rows[0]!;
}

interface Collected {
  text: string;
  reasoning: string;
  tools: { id: string; name: string; args: string }[];
  finish: string | null;
  usage: OpenAI.CompletionUsage | undefined;
}

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<Collected> {
  const out: Collected = { text: '', reasoning: '', tools: [], finish: null, usage: undefined };
  for await (const chunk of stream) {
    if (chunk.usage) out.usage = chunk.usage;
    const choice = chunk.choices[0];
    if (!choice) continue;
    const delta = choice.delta as ChatCompletionChunk.Choice.Delta & { reasoning_content?: string };
    out.text += delta.content ?? '';
    out.reasoning += delta.reasoning_content ?? '';
    for (const tc of delta.tool_calls ?? []) {
      const slot = (out.tools[tc.index] ??= { id: '', name: '', args: '' });
      slot.id += tc.id ?? '';
      slot.name += tc.function?.name ?? '';
      slot.args += tc.function?.arguments ?? '';
    }
    if (choice.finish_reason) out.finish = choice.finish_reason;
  }
  return out;
}

const ASK: ChatCompletionMessageParam[] = [{ role: 'user', content: 'What is the weather in Paris?' }];
const find = (type: string): Case => cases.find((c) => c.type === type)!;

describe.each(['openai', 'qwen', 'azure', 'anthropic', 'gemini', 'bedrock'])(
  'OpenAI client -> %s channel',
  (type) => {
    it('answers a chat with the upstream text and logs the usage it returned', async () => {
      const c = find(type);
      const res = await client.chat.completions.create({
        model: c.model,
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(res.choices[0]?.message.content).toBe(c.text);
      expect(res.choices[0]?.finish_reason).toBe('stop');
      expect(res.usage?.prompt_tokens).toBeGreaterThan(0);
      expect(res.usage?.completion_tokens).toBeGreaterThan(0);
      const row = await lastLog();
      expect(row).toMatchObject({
        channel: c.type,
        status: 200,
        stream: false,
      });
      expect(row.usage_estimated).toBe(false);
      expect(row.input_tokens).toBe(res.usage?.prompt_tokens);
      expect(row.output_tokens).toBe(res.usage?.completion_tokens);
    });

    it('streams the upstream text and the usage the client asked for, equal to the log row', async () => {
      const c = find(type);
      const got = await collect(
        await client.chat.completions.create({
          model: c.model,
          messages: [{ role: 'user', content: 'hi' }],
          stream: true,
          stream_options: { include_usage: true },
        }),
      );
      expect(got.text).toBe(c.text);
      expect(got.finish).toBe('stop');
      expect(got.usage?.completion_tokens).toBeGreaterThan(0);
      const row = await lastLog();
      expect(row).toMatchObject({ status: 200, stream: true, usage_estimated: false });
      expect(row.input_tokens).toBe(got.usage?.prompt_tokens);
      expect(row.output_tokens).toBe(got.usage?.completion_tokens);
    });

    it('returns a tool call, then answers the follow-up turn that carries its result', async () => {
      const c = find(type);
      const first = await client.chat.completions.create({ model: c.model, messages: ASK, tools: [WEATHER] });
      const msg = first.choices[0]!.message;
      expect(first.choices[0]?.finish_reason).toBe('tool_calls');
      const call = msg.tool_calls?.[0];
      expect(call?.type).toBe('function');
      if (call?.type !== 'function') throw new Error('no function call');
      expect(call.id).toMatch(/\S{6,}/);
      expect(call.function.name).toBe('get_weather');
      const args = JSON.parse(call.function.arguments) as Json;
      expect(typeof args.location).toBe('string');

      const second = await client.chat.completions.create({
        model: c.model,
        tools: [WEATHER],
        messages: [
          ...ASK,
          { role: 'assistant', content: msg.content, tool_calls: msg.tool_calls },
          { role: 'tool', tool_call_id: call.id, content: '{"temp_c":21,"sky":"clear"}' },
        ],
      });
      expect(second.choices[0]?.finish_reason).toBe('stop');
      expect(second.choices[0]?.message.content).toBe(c.text);
      expect(c.sawToolResult(json(c.calls().at(-1)!), call.id)).toBe(true);
      expect((await lastLog()).status).toBe(200);
    });

    it('streams a tool call with id, name and JSON arguments', async () => {
      const c = find(type);
      const got = await collect(
        await client.chat.completions.create({
          model: c.model,
          messages: ASK,
          tools: [WEATHER],
          stream: true,
        }),
      );
      expect(got.finish).toBe('tool_calls');
      expect(got.tools).toHaveLength(1);
      expect(got.tools[0]!.id).toMatch(/\S{6,}/);
      expect(got.tools[0]!.name).toBe('get_weather');
      expect(typeof (JSON.parse(got.tools[0]!.args) as Json).location).toBe('string');
      expect((await lastLog()).output_tokens).toBeGreaterThan(0);
    });

    it('carries the upstream thinking as reasoning_content, stream and not', async () => {
      const c = find(type);
      if (c.reasoning === undefined) {
        // this upstream does not think: no reasoning field may appear
        const res = await client.chat.completions.create({
          model: c.model,
          messages: [{ role: 'user', content: 'hi' }],
        });
        expect(
          (res.choices[0]?.message as { reasoning_content?: unknown }).reasoning_content ?? null,
        ).toBeNull();
        return;
      }
      const body = { model: c.model, messages: [{ role: 'user', content: 'hi' }], ...c.reasoning };
      const res = await client.chat.completions.create(body as ChatCompletionCreateParamsNonStreaming);
      const message = res.choices[0]?.message as { content: string | null; reasoning_content?: string };
      expect(message.reasoning_content?.length).toBeGreaterThan(0);
      expect(message.content).toBe(c.text);
      if (c.countsReasoning) expect((await lastLog()).reasoning_tokens).toBeGreaterThan(0);
      const got = await collect(
        await client.chat.completions.create({
          ...body,
          stream: true,
        } as OpenAI.ChatCompletionCreateParamsStreaming),
      );
      expect(got.reasoning).toBe(message.reasoning_content);
      expect(got.text).toBe(c.text);
    });
  },
);
