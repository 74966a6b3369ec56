/**
 * The Azure OpenAI simulator driven by openai's `AzureOpenAI` client (chat, stream with and
 * without include_usage, tools, embeddings, Azure's errors) and by raw requests for the wire
 * details: the empty-choices first chunk, filter annotations, `retry-after-ms`. Then what only
 * our Azure adapter does against it: max_tokens sent as max_completion_tokens, the output filter
 * read from a stream, passthrough paths, DeploymentNotFound. What every adapter does (answers,
 * streams, tool calls, 429, bad key, rejects) is the contract in test/contract/adapter-contract.test.ts.
 */
import { AzureOpenAI } from 'openai';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { azureAdapter } from '../../src/daemon/providers/azure/index.js';
import type { OpenAIChatChunk, OpenAIChatRequest } from '../../src/daemon/providers/openai/types.js';
import type { UpstreamRequest, UpstreamTarget } from '../../src/daemon/providers/types.js';
import { SseDecoder } from '../../src/daemon/streams/sse.js';
import { DEFAULT_SIM_TEXT } from '../support/sim/openai-sim-chat.js';
import type { AzureSim } from '../support/sim/azure-sim.js';
import { startAzureSim } from '../support/sim/azure-sim.js';
import { sendUpstream, upstreamTarget } from '../support/upstream-target.js';

const KEY = 'azure-sim-key';
const API_VERSION = '2024-10-21';
const DEPLOYMENT = 'prod-4o-mini';
const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
  },
};

let sim: AzureSim;
let client: AzureOpenAI;

beforeAll(async () => {
  sim = await startAzureSim({ keys: [KEY], deployments: [DEPLOYMENT, 'embed'] });
  client = new AzureOpenAI({
    endpoint: sim.url,
    apiKey: KEY,
    apiVersion: API_VERSION,
    deployment: DEPLOYMENT,
    maxRetries: 0,
    timeout: 5000,
  });
});
afterAll(async () => {
  await sim.close();
});
afterEach(() => {
  sim.clearFaults();
  sim.setDelay(0);
});

function frames(text: string): Record<string, unknown>[] {
  const dec = new SseDecoder();
  return [...dec.push(Buffer.from(text)), ...dec.end()]
    .map((e) => (e.kind === 'sse' ? e.data : ''))
    .filter((d) => d !== '[DONE]')
    .map((d) => JSON.parse(d) as Record<string, unknown>);
}

describe('the simulator through AzureOpenAI', () => {
  it('chat: deployment in the path, api-version and api-key sent, filter annotations back', async () => {
    const res = await client.chat.completions.create({
      model: 'ignored',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(res.choices[0]?.message.content).toBe(DEFAULT_SIM_TEXT);
    expect(res.usage?.completion_tokens).toBe(5);
    expect((res as unknown as { prompt_filter_results: unknown[] }).prompt_filter_results).toHaveLength(1);
    const call = sim.calls.at(-1);
    expect(call?.path).toBe(`/openai/deployments/${DEPLOYMENT}/chat/completions`);
    expect(call?.query).toBe(`api-version=${API_VERSION}`);
    expect(call?.headers['api-key']).toBe(KEY);
  });

  it('stream: the client skips the empty first chunk; usage only when asked', async () => {
    let text = '';
    let usage: unknown;
    const stream = await client.chat.completions.create({
      model: 'x',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    for await (const c of stream) {
      text += c.choices[0]?.delta.content ?? '';
      usage = c.usage ?? usage;
    }
    expect(text).toBe(DEFAULT_SIM_TEXT);
    expect(usage).toMatchObject({ completion_tokens: 5 });
    let sawUsage = false;
    for await (const c of await client.chat.completions.create({
      model: 'x',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
    })) {
      sawUsage ||= c.usage != null;
    }
    expect(sawUsage).toBe(false);
  });

  it('tools: a tool call, finish tool_calls', async () => {
    const res = await client.chat.completions.create({
      model: 'x',
      messages: [{ role: 'user', content: 'Weather?' }],
      tools: [weatherTool],
    });
    const call = res.choices[0]?.message.tool_calls?.[0];
    expect(res.choices[0]?.finish_reason).toBe('tool_calls');
    expect(call?.type === 'function' ? call.function : undefined).toEqual({
      name: 'get_weather',
      arguments: '{"location":"Boston, MA"}',
    });
  });

  it('embeddings on another deployment (the client asks for base64 by default)', async () => {
    const embedClient = new AzureOpenAI({
      endpoint: sim.url,
      apiKey: KEY,
      apiVersion: API_VERSION,
      deployment: 'embed',
      maxRetries: 0,
    });
    const res = await embedClient.embeddings.create({ model: 'x', input: ['a', 'b'] });
    expect(res.data).toHaveLength(2);
    expect(res.data[0]?.embedding).toHaveLength(8);
    expect(sim.calls.at(-1)?.path).toBe('/openai/deployments/embed/embeddings');
  });

  it("Azure's errors: wrong key 401, unknown deployment 404, 429 with retry-after-ms, content filter 400", async () => {
    const bad = new AzureOpenAI({
      endpoint: sim.url,
      apiKey: 'nope',
      apiVersion: API_VERSION,
      deployment: DEPLOYMENT,
      maxRetries: 0,
    });
    await expect(
      bad.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({ status: 401 });
    const lost = new AzureOpenAI({
      endpoint: sim.url,
      apiKey: KEY,
      apiVersion: API_VERSION,
      deployment: 'gone',
      maxRetries: 0,
    });
    await expect(
      lost.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({
      status: 404,
      code: 'DeploymentNotFound',
    });
    sim.fault({ kind: 'status', status: 429 });
    const limited: unknown = await client.chat.completions
      .create({ model: 'x', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(limited).toMatchObject({ status: 429, code: '429' });
    expect((limited as { headers: Headers }).headers.get('retry-after-ms')).toBe('1000');
    sim.fault({ kind: 'status', status: 400 });
    await expect(
      client.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({
      status: 400,
      code: 'content_filter',
    });
    expect(sim.callCount('/chat/completions')).toBeGreaterThanOrEqual(4);
  });
});

describe('the simulator on the wire', () => {
  it('first chunk: empty choices, id and model with prompt_filter_results; content chunks carry filters', async () => {
    const res = await request(
      `${sim.url}/openai/deployments/${DEPLOYMENT}/chat/completions?api-version=${API_VERSION}`,
      {
        method: 'POST',
        headers: { 'api-key': KEY, 'content-type': 'application/json', 'x-sim-deltas': '2' },
        body: JSON.stringify({ messages: [{ role: 'user', content: 'Hi' }], stream: true }),
      },
    );
    const text = await res.body.text();
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    const parsed = frames(text);
    expect(parsed[0]).toMatchObject({ choices: [], id: '', model: '', object: '', created: 0 });
    expect(parsed[0]?.prompt_filter_results).toBeDefined();
    const content = parsed.filter(
      (p) =>
        typeof (p.choices as { delta?: { content?: unknown } }[])[0]?.delta?.content === 'string' &&
        (p.choices as { delta: { content: string } }[])[0]?.delta.content !== '',
    );
    expect(content).toHaveLength(2);
    expect(
      content.every(
        (p) => (p.choices as { content_filter_results: { hate: unknown } }[])[0]?.content_filter_results.hate,
      ),
    ).toBe(true);
    expect(parsed.some((p) => 'usage' in p)).toBe(false);
  });

  it('refuses a request without api-version or api-key', async () => {
    const noVersion = await request(`${sim.url}/openai/deployments/${DEPLOYMENT}/chat/completions`, {
      method: 'POST',
      headers: { 'api-key': KEY, 'content-type': 'application/json' },
      body: '{"messages":[]}',
    });
    expect(noVersion.statusCode).toBe(404);
    await noVersion.body.dump();
    const noKey = await request(
      `${sim.url}/openai/deployments/${DEPLOYMENT}/chat/completions?api-version=${API_VERSION}`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"messages":[]}',
      },
    );
    expect(noKey.statusCode).toBe(401);
    await noKey.body.dump();
  });
});

const target = (deployment = DEPLOYMENT): UpstreamTarget =>
  upstreamTarget({ id: 4, name: 'az', type: 'azure', baseUrl: sim.url, timeoutMs: 5000 }, KEY, deployment);

describe('our Azure adapter against the simulator', () => {
  const req: OpenAIChatRequest = {
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Hi' }],
    max_tokens: 3,
  };

  it('non-stream: max_tokens becomes max_completion_tokens and the answer is read', async () => {
    const res = await sendUpstream(azureAdapter.chatRequest(req, target(), { dropped: [] }));
    expect(res.status).toBe(200);
    const sent = JSON.parse(String(sim.calls.at(-1)?.body)) as Record<string, unknown>;
    expect(sent.max_completion_tokens).toBe(3);
    expect(sim.calls.at(-1)?.query).toBe('api-version=2024-10-21');
    const { completion, usage } = azureAdapter.chatResponse(JSON.parse(res.body.toString()), target(), {
      dropped: [],
    });
    expect(completion.choices[0]?.finish_reason).toBe('length');
    expect(usage?.outputTokens).toBe(3);
  });

  it('stream: the output filter cuts the answer, finish content_filter, usage still read', async () => {
    const res = await sendUpstream(
      azureAdapter.chatRequest({ ...req, max_tokens: null, stream: true }, target(), { dropped: [] }),
      { 'x-sim-filter': 'output' },
    );
    const dec = new SseDecoder();
    const conv = azureAdapter.chatStream(target(), { dropped: [] });
    const chunks: OpenAIChatChunk[] = [];
    for (const e of [...dec.push(res.body), ...dec.end()]) chunks.push(...conv.push(e));
    chunks.push(...conv.end());
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('').length).toBeGreaterThan(0);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('content_filter');
    expect(conv.usage()).toMatchObject({ outputTokens: 3 });
  });

  it('passthrough maps the OpenAI path onto the deployment', async () => {
    const body = Buffer.from(JSON.stringify({ model: 'alias', messages: [{ role: 'user', content: 'Hi' }] }));
    const res = await sendUpstream(
      azureAdapter.passthroughRequest?.(
        '/v1/chat/completions',
        body,
        target(),
        'application/json',
      ) as UpstreamRequest,
    );
    expect(res.status).toBe(200);
    expect(azureAdapter.usageFromBody?.(JSON.parse(res.body.toString()))?.outputTokens).toBe(5);
  });

  // 429, the content-filter 400 and a bad key are in the adapter contract (test/contract/adapter-contract.test.ts)
  it('an unknown deployment is the channel’s misconfiguration: retry elsewhere', async () => {
    const res = await sendUpstream(azureAdapter.chatRequest(req, target('missing'), { dropped: [] }));
    expect(res.status).toBe(404);
    expect(azureAdapter.classifyError(res.status, res.headers, res.body.toString()).action).toBe('retry');
  });
});
