/**
 * Issue 4, Anthropic side: the official `@anthropic-ai/sdk` on `/v1/messages` through the gateway.
 * To `openai`, `gemini` and `bedrock` channels the request is converted: text (stream and not)
 * with usage equal in the answer and the log row, tool_use with a follow-up tool_result turn that
 * the upstream receives in its own shape, thinking, and thinking with tools (the loop Claude
 * Code runs). Passthrough to `anthropic` channels, count_tokens and errors are in
 * protocols-anthropic-passthrough.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Anthropic from '@anthropic-ai/sdk';
import type { MessageParam, Tool } from '@anthropic-ai/sdk/resources/messages';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { startOpenAISim } from '../support/sim/openai-sim.js';
import { DEFAULT_SIM_TEXT } from '../support/sim/openai-sim-chat.js';
import { startGeminiSim } from '../support/sim/gemini-sim.js';
import {
  BEDROCK_SIM_CREDENTIALS,
  DEFAULT_BEDROCK_SIM_TEXT,
  startBedrockSim,
} from '../support/sim/bedrock-sim.js';
import type { SimCall } from '../support/sim/sim-common.js';
import type { LogRow } from '../../src/shared/control-api.js';

type Json = Record<string, unknown>;

interface Case {
  type: 'openai' | 'gemini' | 'bedrock';
  model: string;
  text: string;
  /** the upstream thinks when asked (its thinking comes back as a thinking block) */
  thinks: boolean;
  calls: () => SimCall[];
  sawToolResult: (body: Json, id: string) => boolean;
}

const WEATHER: Tool = {
  name: 'get_weather',
  description: 'Current weather for a city',
  input_schema: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
};
const ASK: MessageParam[] = [{ role: 'user', content: 'What is the weather in Paris?' }];
const THINKING = { type: 'enabled', budget_tokens: 1024 } as const;
/** what Claude Code 2.x puts in metadata.user_id: a JSON string of about 150 characters */
const CLAUDE_CODE_USER_ID = JSON.stringify({
  device_id: 'd1c7d3d97f2ef2f0e70c2b67fe84212ec542216a37fe758339884558843f54c5',
  account_uuid: '',
  session_id: '91612cd9-8ee6-44c8-b2f1-1dc329b954a6',
});

let gw: TestGateway;
let client: Anthropic;
const closers: (() => Promise<void>)[] = [];
const cases: Case[] = [];
const has = (body: Json, needle: string): boolean => JSON.stringify(body).includes(needle);
const lastBody = (c: Case): Json => JSON.parse(c.calls().at(-1)!.body.toString('utf8')) as Json;

beforeAll(async () => {
  gw = await startGateway();
  const [oa, ge, br] = await Promise.all([startOpenAISim(), startGeminiSim(), startBedrockSim()]);
  closers.push(...[oa, ge, br].map((s) => () => s.close()));
  const keys = ['sk-upstream-0000000000'];
  await gw.addChannel({
    name: 'openai',
    type: 'openai',
    keys,
    models: ['oa-m'],
    map: { 'oa-m': 'gpt-4o' },
    base_url: oa.url,
  });
  await gw.addChannel({
    name: 'gemini',
    type: 'gemini',
    keys,
    models: ['ge-m'],
    map: { 'ge-m': 'gemini-2.5-flash' },
    base_url: ge.url,
  });
  await gw.addChannel({
    name: 'bedrock',
    type: 'bedrock',
    keys: [`${BEDROCK_SIM_CREDENTIALS.accessKeyId}:${BEDROCK_SIM_CREDENTIALS.secretAccessKey}`],
    models: ['br-m'],
    map: { 'br-m': 'anthropic.claude-3-7-sonnet-20250219-v1:0' },
    region: br.region,
    base_url: br.url,
  });
  cases.push(
    {
      type: 'openai',
      model: 'oa-m',
      text: DEFAULT_SIM_TEXT,
      thinks: false,
      calls: () => oa.calls,
      sawToolResult: (b, id) =>
        (b.messages as Json[]).some((m) => m.role === 'tool' && m.tool_call_id === id),
    },
    {
      type: 'gemini',
      model: 'ge-m',
      text: DEFAULT_SIM_TEXT,
      thinks: true,
      calls: () => ge.calls,
      sawToolResult: (b) => has(b, '"functionResponse":{"name":"get_weather"'),
    },
    {
      type: 'bedrock',
      model: 'br-m',
      text: DEFAULT_BEDROCK_SIM_TEXT,
      thinks: true,
      calls: () => br.calls,
      sawToolResult: (b, id) => has(b, `"toolResult":{"toolUseId":"${id}"`),
    },
  );
  client = new Anthropic({ apiKey: await gw.createKey(), baseURL: gw.url, maxRetries: 0 });
});

afterAll(async () => {
  await gw?.close();
  await Promise.all(closers.map((c) => c()));
});

async function lastLog(): Promise<LogRow> {
  return (await gw.call<LogRow[]>('GET', '/v1/logs?limit=1'))[0]!;
}

function textOf(content: Anthropic.ContentBlock[]): string {
  return content.map((b) => (b.type === 'text' ? b.text : '')).join('');
}

describe.each(['openai', 'gemini', 'bedrock'] as const)('Anthropic client -> %s channel', (type) => {
  const c = (): Case => cases.find((x) => x.type === type)!;

  it('answers a message with the upstream text and logs its usage', async () => {
    const msg = await client.messages.create({
      model: c().model,
      max_tokens: 256,
      messages: [{ role: 'user', content: 'hi' }],
      metadata: { user_id: CLAUDE_CODE_USER_ID },
    });
    expect(msg.type).toBe('message');
    expect(msg.model).toBe(c().model);
    expect(msg.id).toMatch(/^msg_/);
    expect(textOf(msg.content)).toBe(c().text);
    expect(msg.stop_reason).toBe('end_turn');
    expect(msg.usage.input_tokens).toBeGreaterThan(0);
    expect(msg.usage.output_tokens).toBeGreaterThan(0);
    const row = await lastLog();
    expect(row).toMatchObject({
      channel: type,
      endpoint: '/v1/messages',
      status: 200,
      stream: false,
      usage_estimated: false,
    });
    expect(row.input_tokens).toBe(msg.usage.input_tokens);
    expect(row.output_tokens).toBe(msg.usage.output_tokens);
    // OpenAI refuses a `user` over 64 characters; Claude Code's user_id is longer
    if (type === 'openai') expect(lastBody(c()).user).toMatch(/^[0-9a-f]{64}$/);
  });

  it('streams the upstream text as Anthropic events with the usage of the log row', async () => {
    const stream = client.messages.stream({
      model: c().model,
      max_tokens: 256,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const events: string[] = [];
    stream.on('streamEvent', (e) => events.push(e.type));
    const msg = await stream.finalMessage();
    expect(textOf(msg.content)).toBe(c().text);
    expect(events[0]).toBe('message_start');
    expect(events.at(-1)).toBe('message_stop');
    expect(events).toContain('content_block_delta');
    expect(msg.stop_reason).toBe('end_turn');
    const row = await lastLog();
    expect(row).toMatchObject({ status: 200, stream: true, usage_estimated: false });
    expect(row.output_tokens).toBe(msg.usage.output_tokens);
    expect(row.output_tokens).toBeGreaterThan(0);
  });

  it('returns tool_use, then answers the follow-up turn that carries the tool_result', async () => {
    const first = await client.messages.create({
      model: c().model,
      max_tokens: 256,
      messages: ASK,
      tools: [WEATHER],
    });
    expect(first.stop_reason).toBe('tool_use');
    const use = first.content.find((b) => b.type === 'tool_use');
    if (use?.type !== 'tool_use') throw new Error('no tool_use block');
    expect(use.id).toMatch(/^\S{6,}$/);
    expect(use.name).toBe('get_weather');
    expect(typeof (use.input as Json).location).toBe('string');
    const second = await client.messages.create({
      model: c().model,
      max_tokens: 256,
      tools: [WEATHER],
      messages: [
        ...ASK,
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '21 C, clear' }] },
      ],
    });
    expect(second.stop_reason).toBe('end_turn');
    expect(textOf(second.content)).toBe(c().text);
    expect(c().sawToolResult(lastBody(c()), use.id)).toBe(true);
  });

  it('streams tool_use with its input', async () => {
    const msg = await client.messages
      .stream({ model: c().model, max_tokens: 256, messages: ASK, tools: [WEATHER] })
      .finalMessage();
    const use = msg.content.find((b) => b.type === 'tool_use');
    if (use?.type !== 'tool_use') throw new Error('no tool_use block');
    expect(use.name).toBe('get_weather');
    expect(typeof (use.input as Json).location).toBe('string');
    expect(msg.stop_reason).toBe('tool_use');
  });

  it('asks the upstream to think and returns its thinking first, stream and not', async () => {
    const params = {
      model: c().model,
      max_tokens: 2048,
      thinking: THINKING,
      messages: [{ role: 'user' as const, content: 'hi' }],
    };
    const msg = await client.messages.create(params);
    const streamed = await client.messages.stream(params).finalMessage();
    for (const m of [msg, streamed]) {
      expect(textOf(m.content)).toBe(c().text);
      const first = m.content[0];
      if (c().thinks) {
        expect(first?.type).toBe('thinking');
        expect(first?.type === 'thinking' ? first.thinking.length : 0).toBeGreaterThan(0);
      } else {
        expect(m.content.some((b) => b.type === 'thinking')).toBe(false);
      }
    }
    if (type === 'openai') expect(lastBody(c()).reasoning_effort).toBeTypeOf('string');
  });

  it('keeps a thinking conversation with tools going (the Claude Code loop)', async () => {
    const first = await client.messages.create({
      model: c().model,
      max_tokens: 2048,
      thinking: THINKING,
      messages: ASK,
      tools: [WEATHER],
    });
    const use = first.content.find((b) => b.type === 'tool_use');
    if (use?.type !== 'tool_use') throw new Error('no tool_use block');
    const second = await client.messages.create({
      model: c().model,
      max_tokens: 2048,
      thinking: THINKING,
      tools: [WEATHER],
      messages: [
        ...ASK,
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '21 C, clear' }] },
      ],
    });
    expect(textOf(second.content)).toBe(c().text);
    expect(c().sawToolResult(lastBody(c()), use.id)).toBe(true);
    // Claude on Bedrock needs its signed reasoning echoed before a tool turn; that turn goes without thinking
    if (type === 'bedrock') expect((await lastLog()).dropped_fields).toContain('reasoning_effort');
  });
});
