/**
 * The OpenAI Responses API (`POST /v1/responses`) with the official `openai` client, to an OpenAI
 * channel (passthrough) and converted to Anthropic and Gemini channels, each behind its simulator.
 * The client's own stream helper (`responses.stream`) accumulates the events and refuses an event
 * for an item or part it was not told about, so a converted stream out of order fails here. For
 * each channel: text, streamed text, a function call and the follow-up turn carrying its output,
 * a streamed function call, and reasoning (a summary when asked); usage equals the log row.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import type { FunctionTool, ResponseInputItem } from 'openai/resources/responses/responses';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { readFixtureJson } from '../support/fixtures.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import { DEFAULT_SIM_TEXT } from '../support/sim/openai-sim-chat.js';
import { startAnthropicSim, type AnthropicSim } from '../support/sim/anthropic-sim.js';
import { startGeminiSim } from '../support/sim/gemini-sim.js';
import type { SimCall } from '../support/sim/sim-common.js';
import type { LogRow } from '../../src/shared/control-api.js';

type Json = Record<string, unknown>;

const ANTHROPIC_TEXT = readFixtureJson<{ content: { text: string }[] }>(
  'anthropic/messages-nonstream-text.json',
).content[0]!.text;

interface Case {
  type: 'openai' | 'anthropic' | 'gemini';
  model: string;
  text: string;
  calls: () => SimCall[];
  /** the upstream request of the follow-up turn carries the output of call `id` */
  sawToolOutput: (body: Json, id: string) => boolean;
}

const WEATHER: FunctionTool = {
  type: 'function',
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: {
    type: 'object',
    properties: { location: { type: 'string' } },
    required: ['location'],
    additionalProperties: false,
  },
  strict: true,
};
const ASK: ResponseInputItem[] = [{ role: 'user', content: 'What is the weather in Paris?' }];

let gw: TestGateway;
let client: OpenAI;
let anthropicSim: AnthropicSim;
let openaiSim: OpenAISim;
const cases: Case[] = [];
const closers: (() => Promise<void>)[] = [];
const has = (body: Json, needle: string): boolean => JSON.stringify(body).includes(needle);
const lastBody = (c: Case): Json => JSON.parse(c.calls().at(-1)!.body.toString('utf8')) as Json;

beforeAll(async () => {
  gw = await startGateway();
  const [oa, an, ge] = await Promise.all([startOpenAISim(), startAnthropicSim(), startGeminiSim()]);
  anthropicSim = an;
  openaiSim = oa;
  closers.push(
    () => oa.close(),
    () => an.close(),
    () => ge.close(),
  );
  const keys = ['sk-upstream-0000000000'];
  const add = async (c: Case, upstream: string, url: string): Promise<void> => {
    await gw.addChannel({
      name: c.type,
      type: c.type,
      keys,
      models: [c.model],
      map: { [c.model]: upstream },
      base_url: url,
    });
    cases.push(c);
  };
  await add(
    {
      type: 'openai',
      model: 'oa-m',
      text: DEFAULT_SIM_TEXT,
      calls: () => oa.calls,
      sawToolOutput: (b, id) => has(b, `"type":"function_call_output","call_id":"${id}"`),
    },
    'gpt-4o-mini',
    oa.url,
  );
  await add(
    {
      type: 'anthropic',
      model: 'an-m',
      text: ANTHROPIC_TEXT,
      calls: () => an.calls,
      sawToolOutput: (b, id) => has(b, '"type":"tool_result"') && has(b, `"tool_use_id":"${id}"`),
    },
    'claude-sonnet-4-5',
    an.url,
  );
  await add(
    {
      type: 'gemini',
      model: 'ge-m',
      text: DEFAULT_SIM_TEXT,
      calls: () => ge.calls,
      sawToolOutput: (b) => has(b, '"functionResponse":{"name":"get_weather"'),
    },
    'gemini-2.5-flash',
    ge.url,
  );
  // `fo-m`: an Anthropic channel first, an OpenAI channel behind it
  const failover = { keys, models: ['fo-m'], base_url: '' };
  await gw.addChannel({
    ...failover,
    name: 'an-first',
    type: 'anthropic',
    base_url: an.url,
    priority: 10,
    map: { 'fo-m': 'claude-sonnet-4-5' },
  });
  await gw.addChannel({
    ...failover,
    name: 'oa-behind',
    type: 'openai',
    base_url: oa.url,
    map: { 'fo-m': 'gpt-4o-mini' },
  });
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

const find = (type: string): Case => cases.find((c) => c.type === type)!;

describe.each(['openai', 'anthropic', 'gemini'])('Responses API -> %s channel', (type) => {
  it('answers with the upstream text, usage equal to the log row', async () => {
    const c = find(type);
    const res = await client.responses.create({ model: c.model, input: 'hi' });
    expect(res.object).toBe('response');
    expect(res.status).toBe('completed');
    expect(res.output_text).toBe(c.text);
    expect(res.id).toMatch(/^resp_/);
    const row = await lastLog();
    expect(row).toMatchObject({ endpoint: '/v1/responses', channel: c.type, status: 200, stream: false });
    expect(row.usage_estimated).toBe(false);
    expect(res.usage?.input_tokens).toBe(row.input_tokens);
    expect(res.usage?.output_tokens).toBe(row.output_tokens);
  });

  it('streams events the client helper accepts, ending in the whole response', async () => {
    const c = find(type);
    const stream = client.responses.stream({ model: c.model, input: 'hi' });
    const types: string[] = [];
    let deltas = '';
    for await (const ev of stream) {
      types.push(ev.type);
      if (ev.type === 'response.output_text.delta') deltas += ev.delta;
    }
    const final = await stream.finalResponse();
    expect(deltas).toBe(c.text);
    expect(final.output_text).toBe(c.text);
    expect(types[0]).toBe('response.created');
    expect(types.at(-1)).toBe('response.completed');
    expect(types).toContain('response.output_item.done');
    const row = await lastLog();
    expect(row).toMatchObject({ endpoint: '/v1/responses', channel: c.type, status: 200, stream: true });
    expect(final.usage?.input_tokens).toBe(row.input_tokens);
    expect(final.usage?.output_tokens).toBe(row.output_tokens);
  });

  it('returns a function call, then answers the turn that carries its output', async () => {
    const c = find(type);
    const first = await client.responses.create({ model: c.model, input: ASK, tools: [WEATHER] });
    const call = first.output.find((o) => o.type === 'function_call');
    if (call?.type !== 'function_call')
      throw new Error(`no function call in ${JSON.stringify(first.output)}`);
    expect(call.name).toBe('get_weather');
    expect(call.call_id).toMatch(/\S{6,}/);
    expect(typeof (JSON.parse(call.arguments) as Json).location).toBe('string');

    const second = await client.responses.create({
      model: c.model,
      tools: [WEATHER],
      input: [...ASK, call, { type: 'function_call_output', call_id: call.call_id, output: '{"temp_c":21}' }],
    });
    expect(second.output_text).toBe(c.text);
    expect(c.sawToolOutput(lastBody(c), call.call_id)).toBe(true);
    expect((await lastLog()).status).toBe(200);
  });

  it('streams a function call with its arguments', async () => {
    const c = find(type);
    const stream = client.responses.stream({ model: c.model, input: ASK, tools: [WEATHER] });
    let args = '';
    for await (const ev of stream) if (ev.type === 'response.function_call_arguments.delta') args += ev.delta;
    const final = await stream.finalResponse();
    const call = final.output.find((o) => o.type === 'function_call');
    if (call?.type !== 'function_call') throw new Error('no function call');
    expect(call.arguments).toBe(args);
    expect(call.name).toBe('get_weather');
    expect(typeof (JSON.parse(args) as Json).location).toBe('string');
  });

  it('gives the upstream thinking as a reasoning item, stream and not', async () => {
    const c = find(type);
    const reasoningAsk = { effort: 'low', summary: 'auto' } as const;
    const res = await client.responses.create({ model: c.model, input: 'hi', reasoning: reasoningAsk });
    const reasoning = res.output.find((o) => o.type === 'reasoning');
    if (reasoning?.type !== 'reasoning') throw new Error('no reasoning item');
    const thought = reasoning.summary.map((s) => s.text).join('');
    expect(thought.length).toBeGreaterThan(0);
    expect(res.output_text).toBe(c.text);
    const stream = client.responses.stream({ model: c.model, input: 'hi', reasoning: reasoningAsk });
    let streamed = '';
    for await (const ev of stream)
      if (ev.type === 'response.reasoning_summary_text.delta') streamed += ev.delta;
    expect(streamed).toBe(thought);
    expect((await stream.finalResponse()).output_text).toBe(c.text);
  });
});

describe('Responses API conversion: what cannot cross', () => {
  it('refuses previous_response_id for a converted channel, naming the field, and passes it to OpenAI', async () => {
    const err = await client.responses
      .create({ model: 'an-m', input: 'hi', previous_response_id: 'resp_abc' })
      .then(
        () => undefined,
        (e: unknown) => e as InstanceType<typeof OpenAI.APIError>,
      );
    expect(err?.status).toBe(400);
    expect(err?.message).toMatch(/previous_response_id/);
    expect(err?.param).toBe('previous_response_id');
    const ok = await client.responses.create({
      model: 'oa-m',
      input: 'hi',
      previous_response_id: 'resp_abc',
    });
    expect(ok.output_text).toBe(DEFAULT_SIM_TEXT);
    expect(has(lastBody(find('openai')), '"previous_response_id":"resp_abc"')).toBe(true);
  });

  it('drops hosted tools and names them in the log row', async () => {
    const res = await client.responses.create({
      model: 'an-m',
      input: 'hi',
      tools: [{ type: 'web_search_preview' }],
    });
    expect(res.output_text).toBe(ANTHROPIC_TEXT);
    expect(has(lastBody(find('anthropic')), 'web_search')).toBe(false);
    expect((await lastLog()).dropped_fields).toContain('tools.web_search_preview');
  });

  it('reports a max_output_tokens cut as an incomplete response', async () => {
    const res = await client.responses.create({ model: 'an-m', input: 'hi', max_output_tokens: 2 });
    expect(res.status).toBe('incomplete');
    expect(res.incomplete_details?.reason).toBe('max_output_tokens');
    expect(lastBody(find('anthropic')).max_tokens).toBe(2);
    expect(res.usage?.output_tokens).toBe(2);
  });
});

describe('Responses API conversion: upstream failures', () => {
  it('an upstream that fails before the answer begins is retried on the next channel, unseen by the client', async () => {
    anthropicSim.fault({
      kind: 'streamError',
      afterFrames: 1,
      errorType: 'overloaded_error',
      message: 'Overloaded',
    });
    const stream = client.responses.stream({ model: 'fo-m', input: 'hi' });
    const types: string[] = [];
    for await (const ev of stream) types.push(ev.type);
    expect((await stream.finalResponse()).output_text).toBe(DEFAULT_SIM_TEXT);
    expect(types.filter((t) => t === 'response.created')).toHaveLength(1);
    const row = await lastLog();
    expect(row).toMatchObject({ channel: 'oa-behind', status: 200, retries: 1 });
  });

  it('a hang-up after the answer began ends the stream with an error event and a 502 log row', async () => {
    anthropicSim.fault({ kind: 'hangup', afterFrames: 5 });
    const stream = client.responses.stream({ model: 'an-m', input: 'hi' });
    let text = '';
    const failure = await (async () => {
      for await (const ev of stream) if (ev.type === 'response.output_text.delta') text += ev.delta;
    })().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(failure?.message).toMatch(/upstream/);
    expect(text.length).toBeGreaterThan(0);
    expect(ANTHROPIC_TEXT.startsWith(text)).toBe(true);
    const row = await lastLog();
    expect(row).toMatchObject({ channel: 'anthropic', status: 502, stream: true });
  });

  it('a passthrough stream that breaks ends in Responses events (error, response.failed), not a chat-completions frame', async () => {
    openaiSim.fault({ kind: 'hangup', afterFrames: 5 });
    const res = await fetch(`${gw.url}/v1/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${client.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'oa-m', input: 'hi', stream: true }),
    });
    const text = await res.text();
    expect(text).toContain('event: response.output_text.delta');
    const tail = text.slice(text.lastIndexOf('response.output_text.delta'));
    expect(tail).toMatch(/event: error\ndata: \{"type":"error","code":"upstream_error"/);
    expect(tail).toMatch(/event: response\.failed\ndata: \{"type":"response\.failed"/);
    expect(await lastLog()).toMatchObject({ channel: 'openai', status: 502, stream: true });
  });
});
