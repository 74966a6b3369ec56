/**
 * What the gateway's own reckoning could miss never takes spend past a key's budget (SPEC section
 * 7), against the real gateway and simulators:
 * - an alias that one channel maps to a cheap upstream model and another to a dear one is
 *   reserved at the dear price (failover may settle there);
 * - a request without an output limit, on a model without one in the price table, is sent with
 *   the 4,096 tokens reserved, to a simulator that would otherwise write 100,000;
 * - a simulator that counts the prompt as a quarter of its JSON's bytes (far more than o200k for
 *   runs of spaces, dashes or newlines) is billed within what was reserved;
 * - a stream cut before its usage, billed from the delivered text as o200k counts it, costs no
 *   more than was reserved.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { budgetHelpers, lastBody, type Answer } from '../support/budget.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import { startGeminiSim, type GeminiSim } from '../support/sim/gemini-sim.js';
import { countChatTokens } from '../../src/daemon/gateway/tokens/tokens.js';
import { worstInput } from '../../src/daemon/gateway/money/meter.js';
import { eachStore } from '../support/store-matrix.js';

type Json = Record<string, unknown>;

let gw: TestGateway;
let cheap: OpenAISim;
let dear: OpenAISim;
let gm: GeminiSim;

// micro-USD per token
const CHEAP = { model: 'cheap-up', input: 1, output: 2 };
const DEAR = { model: 'dear-up', input: 20, output: 80 };
const ALIAS = 'smart';
/** priced without an output limit, and unknown to the catalog: 4,096 tokens are reserved */
const OPEN = { model: 'open-ended', input: 1, output: 2 };
const GEM_OPEN = { model: 'gemini-open-ended', input: 1, output: 2 };
const PROMPTY = { model: 'prompty', input: 10, output: 1 };
/** every output token the upstream is allowed: one one-byte piece per token */
const FILL = { 'x-sim-deltas': '100000', 'x-sim-delta-bytes': '1' };
const HELLO = [{ role: 'user', content: 'hello' }];

eachStore((store) => {
  beforeAll(async () => {
    [cheap, dear, gm] = await Promise.all([startOpenAISim(), startOpenAISim(), startGeminiSim()]);
    gw = await startGateway({ store });
    // the alias: tried first on the cheap channel, failing over to the dear one
    const alias = { type: 'openai' as const, keys: ['sk-up'] };
    await gw.addChannel({
      ...alias,
      name: 'cheap',
      models: [CHEAP.model],
      map: { [ALIAS]: CHEAP.model },
      priority: 10,
      base_url: cheap.url,
    });
    const dearModels = [DEAR.model, OPEN.model, PROMPTY.model];
    await gw.addChannel({
      ...alias,
      name: 'dear',
      models: dearModels,
      map: { [ALIAS]: DEAR.model },
      base_url: dear.url,
    });
    await gw.addChannel({
      name: 'gm',
      type: 'gemini',
      keys: ['g-up'],
      models: [GEM_OPEN.model],
      base_url: gm.url,
    });
    for (const p of [CHEAP, DEAR, OPEN, GEM_OPEN, PROMPTY])
      await gw.call('PUT', `/v1/prices/${p.model}`, {
        input: p.input * 1_000_000,
        output: p.output * 1_000_000,
      });
  });

  afterAll(async () => {
    await gw?.close();
    await Promise.all([cheap?.close(), dear?.close(), gm?.close()]);
  });

  const { key, post, expectWithin } = budgetHelpers(() => gw, 'worst');

  const chat = (secret: string, body: string | Json): Promise<Answer> =>
    post('/v1/chat/completions', secret, body);

  /** What admission reserves for a one-message chat prompt sent as `body`. */
  async function reservedInput(body: string, content = 'hello'): Promise<number> {
    const counted = await countChatTokens({ messages: [{ role: 'user', content }] });
    return worstInput(counted, Buffer.byteLength(body));
  }

  describe('an alias mapped to a cheap and a dear upstream model', () => {
    it('is reserved at the dear price: a budget that fits only the cheap one is refused, and never overspent', async () => {
      // the cheap channel fails and cools down: every request is served (and settled) by the dear one
      cheap.fault({ kind: 'status', status: 503 }, Infinity);
      const body = JSON.stringify({ model: ALIAS, messages: HELLO, max_tokens: 50, metadata: FILL });
      const input = await reservedInput(body);
      const cheapWorst = input * CHEAP.input + 50 * CHEAP.output;
      const dearWorst = input * DEAR.input + 50 * DEAR.output;
      // 100 at once on a budget for about three dear requests
      const budget = Math.floor(dearWorst * 3.5);
      const k = await key(budget);
      const answers = await Promise.all(Array.from({ length: 100 }, () => chat(k.secret, body)));
      const rows = await expectWithin(k.name, budget);
      expect(answers.filter((a) => a.status === 200).length).toBeGreaterThanOrEqual(3);
      expect(answers.every((a) => a.status === 200 || a.status === 403)).toBe(true);
      for (const r of rows.filter((x) => x.status === 200)) {
        expect(r.upstream_model).toBe(DEAR.model);
        expect(r.cost).toBe(r.input_tokens * DEAR.input + r.output_tokens * DEAR.output);
      }
      const poor = await key(cheapWorst * 10); // ten cheap requests, not one dear one
      expect(cheapWorst * 10).toBeLessThan(dearWorst);
      const before = dear.callCount();
      const refused = await chat(poor.secret, body);
      expect(refused.status).toBe(403);
      expect((refused.body.error as Json).code).toBe('insufficient_quota');
      expect(dear.callCount()).toBe(before);
      await expectWithin(poor.name, cheapWorst * 10);
      cheap.clearFaults();
    });
  });

  describe('no output limit from the client', () => {
    it('OpenAI chat: the 4,096 tokens reserved are sent upstream, so a budget of exactly that is enough', async () => {
      const body = JSON.stringify({ model: OPEN.model, messages: HELLO, metadata: FILL });
      const budget = (await reservedInput(body)) * OPEN.input + 4096 * OPEN.output;
      const k = await key(budget);
      const a = await chat(k.secret, body);
      expect(a.status).toBe(200);
      const [row] = await expectWithin(k.name, budget);
      expect(a.headers.get('x-bc-max-tokens')).toBe('4096');
      // the field an `openai` channel reads; the simulator wrote everything it was allowed
      expect(lastBody(dear).max_completion_tokens).toBe(4096);
      expect((a.body.usage as Json).completion_tokens).toBe(4096);
      // set, not lowered: the row says nothing was clamped
      expect(row).toMatchObject({ output_tokens: 4096, max_tokens_clamped: null });
    });

    it('Gemini passthrough (either spelling), Responses, and a Gemini client converted for an OpenAI channel', async () => {
      const k = await key(10_000_000);
      const contents = [{ role: 'user', parts: [{ text: 'hello' }] }];
      const g = await post(`/v1beta/models/${GEM_OPEN.model}:generateContent`, k.secret, {
        contents,
        labels: FILL,
      });
      expect(g.status).toBe(200);
      expect(g.headers.get('x-bc-max-tokens')).toBe('4096');
      expect(lastBody(gm).generationConfig).toEqual({ maxOutputTokens: 4096 });
      expect((g.body.usageMetadata as Json).candidatesTokenCount).toBe(4096);
      const snake = { contents, generation_config: { temperature: 0.5 }, labels: FILL };
      expect((await post(`/v1beta/models/${GEM_OPEN.model}:generateContent`, k.secret, snake)).status).toBe(
        200,
      );
      expect(lastBody(gm)).toMatchObject({ generation_config: { temperature: 0.5, maxOutputTokens: 4096 } });
      expect(lastBody(gm)).not.toHaveProperty('generationConfig');

      const r = await post('/v1/responses', k.secret, { model: OPEN.model, input: 'hello', metadata: FILL });
      expect(r.status).toBe(200);
      expect(lastBody(dear).max_output_tokens).toBe(4096);
      const c = await post(`/v1beta/models/${OPEN.model}:generateContent`, k.secret, { contents });
      expect(c.status).toBe(200);
      expect(lastBody(dear).max_completion_tokens).toBe(4096);
      await expectWithin(k.name, 10_000_000);
    });

    it('a key without a budget reserves nothing and its bytes go as sent', async () => {
      const k = await key(null);
      const body = `{"model":"${OPEN.model}","messages":[{"role":"user","content":"hello"}]}`;
      const a = await chat(k.secret, body);
      expect(a.status).toBe(200);
      expect(a.headers.has('x-bc-max-tokens')).toBe(false);
      expect(dear.calls.at(-1)!.body.toString()).toBe(body);
    });
  });

  describe('a stream cut before its usage', () => {
    it('is billed from the text delivered, never above what was reserved', async () => {
      // 400-byte pieces: the simulator's token each, about a hundred tokens each to o200k
      const metadata = { 'x-sim-deltas': '50', 'x-sim-delta-bytes': '400' };
      const body = JSON.stringify({
        model: OPEN.model,
        messages: HELLO,
        max_tokens: 50,
        stream: true,
        metadata,
      });
      const budget = (await reservedInput(body)) * OPEN.input + 50 * OPEN.output;
      const k = await key(budget);
      dear.fault({ kind: 'hangup', afterFrames: 20 });
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${k.secret}` },
        body,
      });
      expect(res.status).toBe(200);
      expect((await res.text()).length).toBeGreaterThan(19 * 400);
      const [row] = await expectWithin(k.name, budget);
      expect(row?.usage_estimated).toBe(true);
      expect(row?.cost).toBeGreaterThan(0);
    });
  });

  describe('a prompt the upstream counts as far more tokens than the gateway does', () => {
    it('100 concurrent prompts the simulator bills at a quarter of their JSON bytes stay within the budget', async () => {
      const runs = [' ', '-', '\n', 'a'];
      const prompt = (i: number): string => runs[i % runs.length]!.repeat(8000 + i);
      const budget = 500_000; // each costs about 20,000 micro-USD at the simulator's count
      const k = await key(budget);
      const answers = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          chat(k.secret, {
            model: PROMPTY.model,
            messages: [{ role: 'user', content: prompt(i) }],
            max_tokens: 16,
          }),
        ),
      );
      const rows = await expectWithin(k.name, budget);
      const served = answers.filter((a) => a.status === 200);
      expect(served.length).toBeGreaterThan(0);
      expect(served.length).toBeLessThan(100);
      // the simulator's count is what was billed, and it is far above the gateway's own
      for (const [i, a] of answers.entries()) {
        if (a.status !== 200) continue;
        const counted = await countChatTokens({ messages: [{ role: 'user', content: prompt(i) }] });
        const billed = (a.body.usage as Json).prompt_tokens as number;
        expect(billed).toBeGreaterThan(counted * 1.25);
        expect(rows.some((r) => r.input_tokens === billed && r.cost === billed * 10 + r.output_tokens)).toBe(
          true,
        );
      }
    });
  });
});
