/**
 * Budgets that let work finish (SPEC section 7): a request whose prompt fits the money left but
 * whose worst case does not is served with its output limit lowered to what the money pays for.
 * Checked with the official `openai` and `@anthropic-ai/sdk` clients against the real gateway: the
 * simulators receive the lowered limit in each front's own field (passthrough and conversion), the
 * answer carries `x-bc-max-tokens`, the log row `max_tokens_clamped`; the floor (1,024 tokens
 * beyond any thinking budget) and `strict_budget` refuse with 403 insufficient_quota instead.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import { startAnthropicSim, type AnthropicSim } from '../support/sim/anthropic-sim.js';
import { startGeminiSim, type GeminiSim } from '../support/sim/gemini-sim.js';
import type { SimCall } from '../support/sim/sim-common.js';
import type { KeyView, LogRow } from '../../src/shared/control-api.js';
import { countChatTokens } from '../../src/daemon/gateway/tokens/tokens.js';
import { worstInput } from '../../src/daemon/gateway/money/meter.js';
import { eachStore } from '../support/store-matrix.js';

type Json = Record<string, unknown>;

let gw: TestGateway;
let oa: OpenAISim;
let an: AnthropicSim;
let gm: GeminiSim;

// micro-USD per token (prices are set per 1M tokens)
const GPT = { model: 'gpt-x', input: 2, output: 10 };
const CLAUDE = { model: 'claude-sonnet-4-6', input: 5, output: 25 };
const GEMINI = { model: 'gemini-x', input: 1, output: 4 };
const HELLO = 'hello';

eachStore((store) => {
  beforeAll(async () => {
    [oa, an, gm] = await Promise.all([
      startOpenAISim(),
      startAnthropicSim({ apiKey: 'sk-ant-up' }),
      startGeminiSim(),
    ]);
    gw = await startGateway({ store });
    await gw.addChannel({
      name: 'oa',
      type: 'openai',
      keys: ['sk-oa'],
      models: [GPT.model],
      base_url: oa.url,
    });
    await gw.addChannel({
      name: 'an',
      type: 'anthropic',
      keys: ['sk-ant-up'],
      models: [CLAUDE.model],
      base_url: an.url,
    });
    await gw.addChannel({
      name: 'gm',
      type: 'gemini',
      keys: ['g-up'],
      models: [GEMINI.model],
      base_url: gm.url,
    });
    for (const p of [GPT, CLAUDE, GEMINI]) {
      await gw.call('PUT', `/v1/prices/${p.model}`, {
        input: p.input * 1_000_000,
        output: p.output * 1_000_000,
        max_output_tokens: 100_000,
      });
    }
  });

  afterAll(async () => {
    await gw?.close();
    await Promise.all([oa?.close(), an?.close(), gm?.close()]);
  });

  /** The gateway's own count of a one-message prompt (what admission reserves for). */
  const promptTokens = (text = HELLO): Promise<number> =>
    countChatTokens({ messages: [{ role: 'user', content: text }] });

  /**
   * The prompt tokens admission reserves for a one-message request whose body is `body` as the
   * client serialises it (the SDKs send JSON.stringify of their params): the local count with its
   * margin, or a third of the body's bytes, whichever is more (meter.ts worstInput).
   */
  async function reservedInput(body: unknown): Promise<number> {
    return worstInput(await promptTokens(), Buffer.byteLength(JSON.stringify(body)));
  }

  /** A budget that leaves exactly `tokens` output tokens after the prompt of `body`, plus `spare` micro-USD. */
  async function budgetFor(p: typeof GPT, tokens: number, body: unknown, spare = 0): Promise<number> {
    return (await reservedInput(body)) * p.input + tokens * p.output + spare;
  }

  let keys = 0;
  async function key(budget: number, extra: Json = {}): Promise<{ name: string; secret: string }> {
    const name = `clamp-${++keys}`;
    return { name, secret: await gw.createKey({ name, budget, ...extra }) };
  }

  async function rows(keyName: string): Promise<LogRow[]> {
    return gw.call<LogRow[]>('GET', `/v1/logs?key=${keyName}&limit=100`);
  }

  const lastBody = (sim: { calls: SimCall[] }): Json => JSON.parse(sim.calls.at(-1)!.body.toString()) as Json;

  const openai = (secret: string): OpenAI =>
    new OpenAI({ apiKey: secret, baseURL: `${gw.url}/v1`, maxRetries: 0 });
  const anthropic = (secret: string): Anthropic =>
    new Anthropic({ apiKey: secret, baseURL: gw.url, maxRetries: 0 });

  /**
   * A streamed Messages call, as Claude Code makes it (the SDK refuses a non-streamed one with a
   * limit this large); resolves with the response headers once the stream is read.
   */
  async function claude(secret: string, body: Anthropic.MessageCreateParamsNonStreaming): Promise<Headers> {
    const { data, response } = await anthropic(secret)
      .messages.create({ ...body, stream: true })
      .withResponse();
    for await (const event of data) void event;
    return response.headers;
  }

  /** Every output token the upstream is allowed: a one-byte piece per token, far more than any limit. */
  const FILL = { 'x-sim-deltas': '100000', 'x-sim-delta-bytes': '1' };

  describe('near the end of a budget the output limit is lowered, not refused', () => {
    it('OpenAI chat: the simulator gets the lowered max_tokens, the answer says x-bc-max-tokens, the row says so', async () => {
      const ask = {
        model: GPT.model,
        messages: [{ role: 'user' as const, content: HELLO }],
        max_tokens: 64_000,
        metadata: FILL,
      };
      const budget = await budgetFor(GPT, 3000, ask, 9); // 9 micro-USD pay for no whole 10-micro token
      const k = await key(budget);
      const { data, response } = await openai(k.secret).chat.completions.create(ask).withResponse();
      expect(response.headers.get('x-bc-max-tokens')).toBe('3000');
      const sent = lastBody(oa);
      expect(sent.max_tokens).toBe(3000);
      expect(sent).not.toHaveProperty('max_completion_tokens');
      // the simulator produced (and billed) every token it was allowed
      expect(data.usage?.completion_tokens).toBe(3000);
      expect(data.choices[0]?.finish_reason).toBe('length');
      const [row] = await rows(k.name);
      expect(row).toMatchObject({ status: 200, max_tokens_clamped: 3000, output_tokens: 3000 });
      const view = await gw.call<KeyView>('GET', `/v1/keys/${k.name}`);
      expect(view.spent).toBe(row!.cost);
      expect(view.spent).toBeLessThanOrEqual(budget);
    });

    it('a stream carries the header too; a client that set no limit gets the field its channel type reads', async () => {
      const ask = {
        model: GPT.model,
        messages: [{ role: 'user' as const, content: HELLO }],
        stream: true as const,
      };
      const k = await key(await budgetFor(GPT, 2500, ask));
      const { data: stream, response } = await openai(k.secret).chat.completions.create(ask).withResponse();
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      expect(text.length).toBeGreaterThan(0);
      expect(response.headers.get('x-bc-max-tokens')).toBe('2500');
      // an `openai` channel: max_completion_tokens, which every OpenAI model takes
      const sent = lastBody(oa);
      expect(sent.max_completion_tokens).toBe(2500);
      expect(sent).not.toHaveProperty('max_tokens');
      expect((await rows(k.name))[0]?.max_tokens_clamped).toBe(2500);
    });

    it('Anthropic Messages passthrough: max_tokens lowered, the thinking budget kept below it', async () => {
      const ask: Anthropic.MessageCreateParamsNonStreaming = {
        model: CLAUDE.model,
        max_tokens: 64_000,
        thinking: { type: 'enabled', budget_tokens: 2000 },
        messages: [{ role: 'user', content: HELLO }],
      };
      const budget = await budgetFor(CLAUDE, 5000, { ...ask, stream: true });
      const k = await key(budget);
      const headers = await claude(k.secret, ask);
      expect(headers.get('x-bc-max-tokens')).toBe('5000');
      const sent = lastBody(an);
      expect(sent.max_tokens).toBe(5000);
      expect(sent.thinking).toEqual({ type: 'enabled', budget_tokens: 2000 });
      const [row] = await rows(k.name);
      expect(row?.max_tokens_clamped).toBe(5000);
      expect(row?.cost).toBeLessThanOrEqual(budget);
    });

    it('converted requests get the lowered limit too (an OpenAI client on an Anthropic channel)', async () => {
      const ask = {
        model: CLAUDE.model,
        messages: [{ role: 'user' as const, content: HELLO }],
        max_completion_tokens: 50_000,
      };
      const k = await key(await budgetFor(CLAUDE, 4321, ask));
      const { response } = await openai(k.secret).chat.completions.create(ask).withResponse();
      expect(response.headers.get('x-bc-max-tokens')).toBe('4321');
      expect(lastBody(an).max_tokens).toBe(4321);
    });

    it('a reasoning effort a Claude channel would turn into thinking is reserved on top, and kept room for', async () => {
      // converted for Claude, medium effort can become an 8,192-token thinking budget on top of the limit
      const ask = {
        model: CLAUDE.model,
        messages: [{ role: 'user' as const, content: HELLO }],
        max_completion_tokens: 50_000,
        reasoning_effort: 'medium' as const,
      };
      const k = await key(await budgetFor(CLAUDE, 20_000, ask));
      const { response } = await openai(k.secret).chat.completions.create(ask).withResponse();
      expect(response.headers.get('x-bc-max-tokens')).toBe(String(20_000 - 8192));
      expect(lastBody(an).max_tokens).toBe(20_000 - 8192);
      // 8,192 + 8,192 + 1,023: a lowered limit would leave less than 1,024 beyond the thinking
      const short = await key(await budgetFor(CLAUDE, 8192 + 8192 + 1023, ask));
      const err = await openai(short.secret)
        .chat.completions.create(ask)
        .catch((e: unknown) => e);
      expect((err as InstanceType<typeof OpenAI.APIError>).code).toBe('insufficient_quota');
    });

    it('Gemini and Responses passthrough: generationConfig.maxOutputTokens and max_output_tokens', async () => {
      const gBody = {
        contents: [{ role: 'user', parts: [{ text: HELLO }] }],
        generationConfig: { temperature: 0.5, maxOutputTokens: 60_000 },
      };
      const g = await key(await budgetFor(GEMINI, 1500, gBody));
      const res = await fetch(`${gw.url}/v1beta/models/${GEMINI.model}:generateContent`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-goog-api-key': g.secret },
        body: JSON.stringify(gBody),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-bc-max-tokens')).toBe('1500');
      expect(lastBody(gm).generationConfig).toEqual({ temperature: 0.5, maxOutputTokens: 1500 });

      // the Responses prompt is counted from its input text
      const r = await key(2 * 1000 * GPT.input + 2000 * GPT.output);
      const { response } = await openai(r.secret)
        .responses.create({ model: GPT.model, input: HELLO, max_output_tokens: 90_000 })
        .withResponse();
      const limit = Number(response.headers.get('x-bc-max-tokens'));
      expect(limit).toBeGreaterThanOrEqual(2000);
      expect(limit).toBeLessThan(90_000);
      expect(lastBody(oa).max_output_tokens).toBe(limit);
      expect((await rows(r.name))[0]?.max_tokens_clamped).toBe(limit);
    });

    it('leaves a request whose worst case fits alone: its bytes forwarded as sent, no header, null in the row', async () => {
      const k = await key(10_000_000);
      const body = `{"model":"${GPT.model}","messages":[{"role":"user","content":"${HELLO}"}],  "max_tokens":64000}`;
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${k.secret}` },
        body,
      });
      expect(res.status).toBe(200);
      expect(res.headers.has('x-bc-max-tokens')).toBe(false);
      expect(oa.calls.at(-1)!.body.toString()).toBe(body);
      expect((await rows(k.name))[0]?.max_tokens_clamped).toBeNull();
    });
  });

  describe('refusals', () => {
    it('refuses 403 insufficient_quota when what is left cannot pay for 1,024 output tokens', async () => {
      const before = oa.callCount();
      const ask = {
        model: GPT.model,
        messages: [{ role: 'user' as const, content: HELLO }],
        max_tokens: 64_000,
      };
      const short = await key(await budgetFor(GPT, 1023, ask, 9));
      const err = await openai(short.secret)
        .chat.completions.create(ask)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.APIError);
      expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(403);
      expect((err as InstanceType<typeof OpenAI.APIError>).code).toBe('insufficient_quota');
      expect(oa.callCount()).toBe(before);
      expect((await rows(short.name))[0]).toMatchObject({ status: 403, max_tokens_clamped: null, cost: 0 });
      // a client asking for fewer tokens than the floor is served if its own worst case fits
      const small = await openai(short.secret).chat.completions.create({
        model: GPT.model,
        messages: [{ role: 'user', content: HELLO }],
        max_tokens: 1000,
      });
      expect(small.choices.length).toBe(1);
      // exactly 1,024 tokens left: served, lowered to 1,024
      const edge = await key(await budgetFor(GPT, 1024, ask));
      const { response } = await openai(edge.secret).chat.completions.create(ask).withResponse();
      expect(response.headers.get('x-bc-max-tokens')).toBe('1024');
    });

    it('refuses below 1,024 tokens beyond the thinking budget (Anthropic client)', async () => {
      const before = an.callCount();
      const ask: Anthropic.MessageCreateParamsNonStreaming = {
        model: CLAUDE.model,
        max_tokens: 64_000,
        thinking: { type: 'enabled', budget_tokens: 2000 },
        messages: [{ role: 'user', content: HELLO }],
      };
      const k = await key(await budgetFor(CLAUDE, 2000 + 1023, { ...ask, stream: true }));
      const err = await claude(k.secret, ask).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Anthropic.APIError);
      expect((err as InstanceType<typeof Anthropic.APIError>).status).toBe(403);
      expect(an.callCount()).toBe(before);
      expect((await rows(k.name))[0]).toMatchObject({ status: 403, error: 'quota' });
      // with one token more it is served at 3,024: 1,024 beyond the thinking budget
      const k2 = await key(await budgetFor(CLAUDE, 2000 + 1024, { ...ask, stream: true }));
      expect((await claude(k2.secret, ask)).get('x-bc-max-tokens')).toBe('3024');
    });

    it('a key with strict_budget refuses instead of lowering the limit', async () => {
      const before = oa.callCount();
      const ask = {
        model: GPT.model,
        messages: [{ role: 'user' as const, content: HELLO }],
        max_tokens: 64_000,
      };
      const k = await key(await budgetFor(GPT, 3000, ask), { strict_budget: true });
      expect((await gw.call<KeyView>('GET', `/v1/keys/${k.name}`)).strict_budget).toBe(true);
      const err = await openai(k.secret)
        .chat.completions.create(ask)
        .catch((e: unknown) => e);
      expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(403);
      expect((err as InstanceType<typeof OpenAI.APIError>).code).toBe('insufficient_quota');
      expect((err as Error).message).toContain('strict budget');
      expect(oa.callCount()).toBe(before);
      // turned off: the same request is served, lowered
      await gw.call('PATCH', `/v1/keys/${k.name}`, { strict_budget: false });
      const { response } = await openai(k.secret).chat.completions.create(ask).withResponse();
      expect(response.headers.get('x-bc-max-tokens')).toBe('3000');
    });

    it('the control API refuses a strict_budget that is not a boolean', async () => {
      const res = await gw.control.inject({
        method: 'POST',
        url: '/v1/keys',
        payload: { name: 'bad-strict', strict_budget: 'yes' },
      });
      expect(res.statusCode).toBe(400);
      expect(res.body).toContain('strict_budget');
    });
  });
});
