/**
 * One contract for every provider adapter, run over each provider's simulator (in the style of
 * Hono's one router suite run over every router): the same requests, converted by the adapter,
 * sent over real HTTP to a simulator that refuses what the real provider refuses, and read back
 * through the real decoder and the adapter's converter and classifier. Each harness
 * (test/support/adapter-harnesses.ts) says how to reach its simulator, how to make it fail and
 * what it answers; the cases assert those exact values and never branch on a provider.
 * Provider-only behaviour (SigV4, Azure's filters, Gemini's thought signatures and `?key=`,
 * Anthropic's thinking, passthrough) stays in test/integration/<provider>-sim.test.ts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { OpenAIChatRequest } from '../../src/daemon/providers/openai/types.js';
import type { UpstreamFailure, Usage } from '../../src/daemon/providers/types.js';
import { UpstreamStreamError } from '../../src/daemon/providers/types.js';
import type { AdapterHarness, ContractSim } from '../support/adapter-harness.js';
import { bodyText, convertStream, exchange } from '../support/adapter-harness.js';
import { ADAPTER_HARNESSES } from '../support/adapter-harnesses.js';

/** Every simulator sends its answer text in this many pieces, and bills one token per piece. */
const DELTAS = 3;
const KNOBS = { 'x-sim-deltas': String(DELTAS) };

const HELLO: OpenAIChatRequest = {
  model: 'alias',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Hello there' },
  ],
};
const WEATHER: NonNullable<OpenAIChatRequest['tools']>[number] = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather for a place',
    parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
  },
};

const ctx = () => ({ dropped: [] as string[] });

function usage(inputTokens: number, outputTokens: number): Usage {
  return { inputTokens, cachedTokens: 0, cacheWriteTokens: 0, outputTokens, reasoningTokens: 0 };
}

/** The parts of a failure the relay acts on. */
function decision(f: UpstreamFailure) {
  return { status: f.status, action: f.action, retryAfterMs: f.retryAfterMs };
}

describe.each(ADAPTER_HARNESSES)('$name adapter against its simulator', (h: AdapterHarness) => {
  let sim: ContractSim;

  beforeAll(async () => {
    sim = await h.start();
  });
  afterAll(async () => {
    await sim.close();
  });
  afterEach(() => {
    sim.clearFaults();
  });

  async function classified(req: OpenAIChatRequest, target = sim.target()) {
    const x = await exchange(h.adapter.chatRequest(req, target, ctx()), KNOBS);
    return { x, failure: h.adapter.classifyError(x.status, x.headers, bodyText(x)) };
  }

  it('answers a plain request: the text, finish stop, usage as billed, nothing dropped', async () => {
    const t = sim.target();
    const c = ctx();
    const x = await exchange(h.adapter.chatRequest(HELLO, t, c), KNOBS);
    expect(x.status, bodyText(x)).toBe(200);
    expect(c.dropped).toEqual([]);
    const { completion, usage: billed } = h.adapter.chatResponse(JSON.parse(bodyText(x)), t, ctx());
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices).toHaveLength(1);
    expect(completion.choices[0]?.message.content).toBe(h.expect.text);
    expect(completion.choices[0]?.message.tool_calls).toBeUndefined();
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(billed).toEqual(usage(h.expect.promptTokens(sim.lastBody()), DELTAS));
  });

  it('streams through the real decoder: the text piece by piece, one id, one finish, usage', async () => {
    const t = sim.target();
    const x = await exchange(h.adapter.chatRequest({ ...HELLO, stream: true }, t, ctx()), {
      ...KNOBS,
      ...h.streamKnobs,
    });
    expect(x.status).toBe(200);
    const s = convertStream(h, t, x);
    expect(s.error).toBeUndefined();
    expect(s.text).toBe(h.expect.text);
    expect(s.chunks.filter((c) => (c.choices[0]?.delta.content ?? '') !== '')).toHaveLength(DELTAS);
    expect(s.finishes).toEqual(['stop']);
    expect(s.chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    expect(new Set(s.chunks.map((c) => c.id)).size).toBe(1);
    expect(s.chunks[0]?.id).not.toBe('');
    expect(s.usage).toEqual(usage(h.expect.promptTokens(sim.lastBody()), DELTAS));
  });

  it('round-trips a tool call: the call, then the converted result the simulator accepts and answers', async () => {
    const t = sim.target();
    const first: OpenAIChatRequest = { ...HELLO, tools: [WEATHER] };
    const x1 = await exchange(h.adapter.chatRequest(first, t, ctx()), KNOBS);
    expect(x1.status, bodyText(x1)).toBe(200);
    const asked = h.adapter.chatResponse(JSON.parse(bodyText(x1)), t, ctx());
    expect(asked.completion.choices[0]?.finish_reason).toBe('tool_calls');
    const calls = asked.completion.choices[0]?.message.tool_calls ?? [];
    expect(calls).toHaveLength(1);
    const call = calls[0]!;
    expect(call.id).toMatch(h.expect.tool.id);
    expect(call.type).toBe('function');
    expect(call.function).toEqual({ name: 'get_weather', arguments: h.expect.tool.arguments });
    expect(asked.usage).toEqual(usage(h.expect.promptTokens(sim.lastBody()), h.expect.tool.outputTokens));

    const second: OpenAIChatRequest = {
      ...first,
      messages: [
        ...first.messages,
        { role: 'assistant', content: null, tool_calls: [call] },
        { role: 'tool', tool_call_id: call.id, content: 'Sunny, 21 °C' },
      ],
    };
    const c = ctx();
    const x2 = await exchange(h.adapter.chatRequest(second, t, c), KNOBS);
    expect(x2.status, bodyText(x2)).toBe(200);
    expect(c.dropped).toEqual([]);
    const answer = h.adapter.chatResponse(JSON.parse(bodyText(x2)), t, ctx());
    expect(answer.completion.choices[0]?.message.content).toBe(h.expect.text);
    expect(answer.completion.choices[0]?.finish_reason).toBe('stop');
    expect(answer.usage).toEqual(usage(h.expect.promptTokens(sim.lastBody()), DELTAS));
  });

  it('streams a tool call: one call with its id and name, the arguments in order, finish tool_calls', async () => {
    const t = sim.target();
    const x = await exchange(
      h.adapter.chatRequest({ ...HELLO, tools: [WEATHER], stream: true }, t, ctx()),
      KNOBS,
    );
    expect(x.status).toBe(200);
    const s = convertStream(h, t, x);
    expect(s.error).toBeUndefined();
    const deltas = s.chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    const opened = deltas.filter((d) => d.id !== undefined);
    expect(opened).toHaveLength(1);
    expect(opened[0]?.id).toMatch(h.expect.tool.id);
    expect(opened[0]?.function?.name).toBe('get_weather');
    expect(deltas.every((d) => d.index === 0)).toBe(true);
    expect(deltas.map((d) => d.function?.arguments ?? '').join('')).toBe(h.expect.tool.streamedArguments);
    expect(s.text).toBe('');
    expect(s.finishes).toEqual(['tool_calls']);
    expect(s.usage).toEqual(usage(h.expect.promptTokens(sim.lastBody()), h.expect.tool.outputTokens));
  });

  it('a 429: retry after the wait the upstream named; the next request is served', async () => {
    sim.inject('rateLimited');
    const { x, failure } = await classified(HELLO);
    expect(x.status).toBe(h.expect.rateLimited.status);
    expect(decision(failure)).toEqual({ ...h.expect.rateLimited, action: 'retry' });
    expect((await classified(HELLO)).x.status).toBe(200);
  });

  it('an overloaded upstream: retry, with no wait it did not name', async () => {
    sim.inject('overloaded');
    const { x, failure } = await classified(HELLO);
    expect(x.status).toBe(h.expect.overloaded.status);
    expect(decision(failure)).toEqual({ ...h.expect.overloaded, action: 'retry', retryAfterMs: undefined });
  });

  it('a key the upstream refuses: disable, the key never in the message', async () => {
    const bad = sim.badKeyTarget();
    const { x, failure } = await classified(HELLO, bad);
    expect(x.status).toBe(h.expect.badKey.status);
    expect(decision(failure)).toEqual({ ...h.expect.badKey, action: 'disable', retryAfterMs: undefined });
    expect(failure.message).not.toContain(bad.secret);
  });

  it('a request the upstream refuses: reject, its own error body kept for the client', async () => {
    sim.inject('invalidRequest');
    const { x, failure } = await classified(HELLO);
    expect(x.status).toBe(h.expect.invalidRequest.status);
    expect(decision(failure)).toEqual({
      ...h.expect.invalidRequest,
      action: 'reject',
      retryAfterMs: undefined,
    });
    expect(failure.body).toBe(bodyText(x));
  });

  it('an error after HTTP 200: UpstreamStreamError, retry, after the first text and no finish', async () => {
    sim.inject('midStream');
    const t = sim.target();
    const x = await exchange(h.adapter.chatRequest({ ...HELLO, stream: true }, t, ctx()), KNOBS);
    expect(x.status).toBe(200);
    const s = convertStream(h, t, x);
    expect(s.error).toBeInstanceOf(UpstreamStreamError);
    expect(decision((s.error as UpstreamStreamError).failure)).toEqual({
      ...h.expect.midStream,
      action: 'retry',
      retryAfterMs: undefined,
    });
    expect(s.text).not.toBe('');
    expect(h.expect.text.startsWith(s.text)).toBe(true);
    expect(s.finishes).toEqual([]);
  });

  it('a cut connection fails: a reset before the headers, a hang-up after the first text', async () => {
    sim.inject('reset');
    await expect(exchange(h.adapter.chatRequest(HELLO, sim.target(), ctx()), KNOBS)).rejects.toThrow();
    sim.inject('hangup');
    const t = sim.target();
    const x = await exchange(h.adapter.chatRequest({ ...HELLO, stream: true }, t, ctx()), KNOBS);
    expect(x.status).toBe(200);
    expect(x.transportError).toBeInstanceOf(Error);
    expect(convertStream(h, t, x).finishes).toEqual([]);
  });

  // A body that ends before the answer does (a proxy closing cleanly) must not pass for a whole answer.
  it('a stream whose body ends before the answer does: the converter refuses it (retry)', async () => {
    sim.inject('hangup');
    const t = sim.target();
    const x = await exchange(h.adapter.chatRequest({ ...HELLO, stream: true }, t, ctx()), KNOBS);
    const s = convertStream(h, t, x);
    expect(s.text).not.toBe('');
    expect(s.error).toBeInstanceOf(UpstreamStreamError);
    expect((s.error as UpstreamStreamError).failure).toMatchObject({ status: 502, action: 'retry' });
  });

  it('a stream of garbage fails, never ends clean', async () => {
    sim.inject('garbage');
    const t = sim.target();
    const x = await exchange(h.adapter.chatRequest({ ...HELLO, stream: true }, t, ctx()), KNOBS);
    const s = convertStream(h, t, x);
    expect(s.error).toBeInstanceOf(h.expect.garbage.error);
    expect((s.error as Error).message).toMatch(h.expect.garbage.message);
    expect(s.finishes).toEqual([]);
  });
});
