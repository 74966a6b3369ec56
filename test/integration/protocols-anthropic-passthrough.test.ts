/**
 * Issue 4, Anthropic side continued: the official `@anthropic-ai/sdk` to an `anthropic` channel is
 * byte passthrough — the simulator receives exactly the bytes the SDK put on the wire (captured
 * with the SDK's own fetch hook), with our upstream key and the client's anthropic-beta, and the
 * answer's stream frames come back as the simulator wrote them. `/v1/messages/count_tokens`
 * answers a count without any upstream call, and errors come back in Anthropic's shape.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Anthropic, { APIError } from '@anthropic-ai/sdk';
import type { MessageParam, Tool } from '@anthropic-ai/sdk/resources/messages';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { readFixtureJson } from '../support/fixtures.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import { startAnthropicSim, type AnthropicSim } from '../support/sim/anthropic-sim.js';
import type { LogRow } from '../../src/shared/control-api.js';

const ANTHROPIC_TEXT = readFixtureJson<{ content: { text: string }[] }>(
  'anthropic/messages-nonstream-text.json',
).content[0]!.text;
const WEATHER: Tool = {
  name: 'get_weather',
  description: 'Current weather for a city',
  input_schema: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
};
const ASK: MessageParam[] = [{ role: 'user', content: 'What is the weather in Paris?' }];

let gw: TestGateway;
let an: AnthropicSim;
let oa: OpenAISim;
let secret: string;
let client: Anthropic;
/** request bodies exactly as the SDK put them on the wire */
const sent: string[] = [];
const capturingFetch: typeof fetch = async (input, init) => {
  if (typeof init?.body === 'string') sent.push(init.body);
  return fetch(input, init);
};

beforeAll(async () => {
  gw = await startGateway();
  an = await startAnthropicSim({ apiKey: 'sk-ant-upstream' });
  oa = await startOpenAISim();
  await gw.addChannel({
    name: 'anthropic',
    type: 'anthropic',
    keys: ['sk-ant-upstream'],
    models: ['claude-sonnet-4-5'],
    base_url: an.url,
  });
  await gw.addChannel({
    name: 'openai',
    type: 'openai',
    keys: ['sk-oa'],
    models: ['gpt-4o'],
    base_url: oa.url,
  });
  secret = await gw.createKey();
  client = new Anthropic({ apiKey: secret, baseURL: gw.url, maxRetries: 0, fetch: capturingFetch });
});

afterAll(async () => {
  await gw?.close();
  await an?.close();
  await oa?.close();
});

async function lastLog(): Promise<LogRow> {
  return (await gw.call<LogRow[]>('GET', '/v1/logs?limit=1'))[0]!;
}

function textOf(content: Anthropic.ContentBlock[]): string {
  return content.map((b) => (b.type === 'text' ? b.text : '')).join('');
}

function post(body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${gw.url}/v1/messages`, {
    method: 'POST',
    headers: {
      'x-api-key': secret,
      'anthropic-version': '2023-06-01',
      'content-type': 'application/json',
      ...headers,
    },
    body,
  });
}

describe('Anthropic client -> anthropic channel (passthrough)', () => {
  it('forwards the SDK request bytes unchanged, non-stream and stream, with tools and thinking', async () => {
    for (const stream of [false, true]) {
      sent.length = 0;
      const params = {
        model: 'claude-sonnet-4-5',
        max_tokens: 3000,
        system: [{ type: 'text' as const, text: 'Be brief.', cache_control: { type: 'ephemeral' as const } }],
        messages: ASK,
        tools: [WEATHER],
        metadata: { user_id: 'user-1' },
      };
      const msg = stream
        ? await client.messages.stream(params).finalMessage()
        : await client.messages.create(params);
      const use = msg.content.find((b) => b.type === 'tool_use');
      expect(use?.type === 'tool_use' ? use.name : '').toBe('get_weather');
      expect(sent).toHaveLength(1);
      const call = an.calls.at(-1)!;
      expect(call.body.toString('utf8')).toBe(sent[0]);
      expect(call.headers['x-api-key']).toBe('sk-ant-upstream');
      const row = await lastLog();
      expect(row).toMatchObject({ channel: 'anthropic', status: 200, stream, usage_estimated: false });
      expect(row.output_tokens).toBe(msg.usage.output_tokens);
    }
    sent.length = 0;
    const thinking = await client.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 2048,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(thinking.content[0]?.type).toBe('thinking');
    expect(an.calls.at(-1)!.body.toString('utf8')).toBe(sent[0]);
  });

  it('forwards unusual JSON byte for byte with the anthropic-beta header, and the upstream frames as written', async () => {
    const body =
      '{ "model" : "claude-sonnet-4-5",\n  "max_tokens":64, "stream": true, "messages":[{"role":"user","content":"caf\\u00e9"}] }';
    const res = await post(body, { 'anthropic-beta': 'context-1m-2025-08-07' });
    expect(res.status).toBe(200);
    const text = await res.text();
    const call = an.calls.at(-1)!;
    expect(call.body.toString('utf8')).toBe(body);
    expect(call.headers['anthropic-beta']).toBe('context-1m-2025-08-07');
    // the simulator's own spellings, which re-encoding would lose: spaced ping JSON and padded frames
    expect(text).toContain('event: ping\ndata: {"type": "ping"}\n\n');
    expect(text).toMatch(/"type":"message_stop" {4}}\n\n$/);
    expect(text.split('event: content_block_delta').length - 1).toBeGreaterThan(0);
  });

  it('answers a non-stream raw request with the upstream body and logs its usage', async () => {
    const res = await post(
      '{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}',
    );
    const msg = (await res.json()) as Anthropic.Message;
    expect(textOf(msg.content)).toBe(ANTHROPIC_TEXT);
    const row = await lastLog();
    expect(row.input_tokens).toBe(msg.usage.input_tokens);
    expect(row.output_tokens).toBe(msg.usage.output_tokens);
  });
});

describe('count_tokens and errors', () => {
  it('counts tokens locally, whatever channel type serves the model', async () => {
    const before = an.callCount() + oa.callCount();
    let small = 0;
    for (const model of ['claude-sonnet-4-5', 'gpt-4o']) {
      small = (await client.messages.countTokens({ model, messages: [{ role: 'user', content: 'hi' }] }))
        .input_tokens;
      const big = await client.messages.countTokens({
        model,
        messages: ASK,
        tools: [WEATHER],
        system: 'Be brief.',
      });
      expect(small).toBeGreaterThan(0);
      expect(big.input_tokens).toBeGreaterThan(small);
    }
    expect(an.callCount() + oa.callCount()).toBe(before);
  });

  it('answers an unknown model with 404 not_found_error', async () => {
    const err = await client.messages
      .create({ model: 'no-such-model', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIError);
    expect((err as APIError).status).toBe(404);
    expect((err as APIError).error).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
  });

  it('answers a bad key with 401 authentication_error', async () => {
    const bad = new Anthropic({
      apiKey: 'sk-bc-not-a-real-key-000000000000000000',
      baseURL: gw.url,
      maxRetries: 0,
    });
    const err = await bad.messages
      .create({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIError);
    expect((err as APIError).status).toBe(401);
    expect((err as APIError).error).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
  });

  it('answers a body without max_tokens with 400 invalid_request_error naming the field', async () => {
    const res = await post(JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }));
    expect(res.status).toBe(400);
    const body = (await res.json()) as { type: string; error: { type: string; message: string } };
    expect(body.type).toBe('error');
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.message).toContain('max_tokens');
    expect(oa.callCount()).toBe(0);
  });

  it('passes the upstream rejection of an anthropic channel back unchanged', async () => {
    const upstream = {
      type: 'error',
      error: { type: 'invalid_request_error', message: 'messages: roles must alternate' },
    };
    an.fault({ kind: 'status', status: 400, body: upstream });
    const before = an.callCount();
    const res = await post(
      '{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}',
    );
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual(upstream);
    expect(an.callCount()).toBe(before + 1);
  });
});
