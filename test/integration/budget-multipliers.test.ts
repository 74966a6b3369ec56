/**
 * Output billed for several answers at once never takes spend past a key's budget (SPEC section
 * 7): OpenAI chat `n`, legacy completions `n` and `best_of` (all best_of billed, for each prompt
 * of a batch), Gemini `candidateCount` (either proto JSON spelling, a number or a string). The
 * reservation pays for every answer a channel that takes the request as sent would produce; a
 * conversion drops the field and reserves one. Against the real gateway and simulators that
 * produce and bill that many answers as the real APIs do: refused before any upstream call,
 * lowered per answer, and 100 concurrent requests per front whose spend equals the sum of their
 * rows, within the budget.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { budgetHelpers, lastBody, type Answer } from '../support/budget.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import { startGeminiSim, type GeminiSim } from '../support/sim/gemini-sim.js';
import type { LogRow } from '../../src/shared/control-api.js';
import { countChatTokens } from '../../src/daemon/gateway/tokens/tokens.js';
import { worstInput } from '../../src/daemon/gateway/money/meter.js';
import { eachStore } from '../support/store-matrix.js';

type Json = Record<string, unknown>;

let gw: TestGateway;
let oa: OpenAISim;
/** an OpenAI-compatible server (DashScope's shape) that takes any n and bills every answer */
let compat: OpenAISim;
let gm: GeminiSim;

// micro-USD per token (prices are set per 1M tokens)
const GPT = { model: 'gpt-n', input: 2, output: 10 };
const GEM = { model: 'gemini-n', input: 1, output: 4 };
/** served by an OpenAI channel and a Gemini channel alike */
const BOTH = 'gpt-both';
const COMPAT = { model: 'compat-n', input: 2, output: 10 };
/** output only, so that a long prediction's bytes in the prompt cost nothing */
const PRED = { model: 'gpt-pred', input: 0, output: 10 };
/** every output token the upstream is allowed: one one-byte piece per token */
const FILL = { 'x-sim-deltas': '100000', 'x-sim-delta-bytes': '1' };
const HELLO = [{ role: 'user', content: 'hello' }];
const GEM_HELLO = [{ role: 'user', parts: [{ text: 'hello' }] }];

eachStore((store) => {
  beforeAll(async () => {
    [oa, compat, gm] = await Promise.all([
      startOpenAISim(),
      startOpenAISim({ flavour: 'qwen' }),
      startGeminiSim(),
    ]);
    gw = await startGateway({ store });
    const oaModels = [GPT.model, BOTH, PRED.model];
    await gw.addChannel({ name: 'oa', type: 'openai', keys: ['sk-oa'], models: oaModels, base_url: oa.url });
    await gw.addChannel({
      name: 'gm',
      type: 'gemini',
      keys: ['g-up'],
      models: [GEM.model, BOTH],
      base_url: gm.url,
    });
    await gw.addChannel({
      name: 'compat',
      type: 'openai',
      keys: ['sk-c'],
      models: [COMPAT.model],
      base_url: compat.url,
    });
    for (const p of [GPT, GEM, COMPAT, PRED, { ...GPT, model: BOTH }]) {
      await gw.call('PUT', `/v1/prices/${p.model}`, {
        input: p.input * 1_000_000,
        output: p.output * 1_000_000,
        max_output_tokens: 100_000,
      });
    }
  });

  afterAll(async () => {
    await gw?.close();
    await Promise.all([oa?.close(), compat?.close(), gm?.close()]);
  });

  const { key, post, expectWithin: spendWithin } = budgetHelpers(() => gw, 'mult');

  const chat = (secret: string, body: Json): Promise<Answer> => post('/v1/chat/completions', secret, body);
  const gemini = (secret: string, model: string, body: Json, stream = false): Promise<Answer> =>
    post(
      `/v1beta/models/${model}:${stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`,
      secret,
      body,
    );

  /** The spend is the sum of the rows' costs, each the exact price of its usage, and within the budget. */
  async function expectWithin(name: string, budget: number, p: typeof GPT): Promise<LogRow[]> {
    const rows = await spendWithin(name, budget);
    for (const r of rows) expect(r.cost).toBe(r.input_tokens * p.input + r.output_tokens * p.output);
    return rows;
  }

  describe('a $0.001 key asking for many answers', () => {
    it('is refused 403 insufficient_quota before any upstream call, and spends nothing', async () => {
      const k = await key(1000);
      const before = oa.callCount() + gm.callCount();
      const asks: [string, Promise<Answer>][] = [
        ['n 1000', chat(k.secret, { model: GPT.model, messages: HELLO, n: 1000, max_tokens: 50 })],
        ['n 128', chat(k.secret, { model: GPT.model, messages: HELLO, n: 128, max_tokens: 50 })],
        [
          'best_of',
          post('/v1/completions', k.secret, { model: GPT.model, prompt: 'hi', best_of: 20, max_tokens: 50 }),
        ],
        [
          'n legacy',
          post('/v1/completions', k.secret, { model: GPT.model, prompt: 'hi', n: 3, max_tokens: 50 }),
        ],
        [
          'prompt batch',
          post('/v1/completions', k.secret, {
            model: GPT.model,
            prompt: Array(20).fill('hi'),
            max_tokens: 50,
          }),
        ],
        [
          'candidateCount',
          gemini(k.secret, GEM.model, {
            contents: GEM_HELLO,
            generationConfig: { candidateCount: 8, maxOutputTokens: 50 },
          }),
        ],
      ];
      for (const [what, pending] of asks) {
        const a = await pending;
        expect(a.status, what).toBe(403);
        expect(JSON.stringify(a.body.error), what).toMatch(/insufficient_quota|PERMISSION_DENIED/);
        expect(a.body.error?.message, what).toMatch(/for \d+ answers/);
      }
      expect(oa.callCount() + gm.callCount()).toBe(before);
      // one answer of the same length fits: the refusals were the answer counts
      const one = await chat(k.secret, {
        model: GPT.model,
        messages: HELLO,
        n: 1,
        max_tokens: 50,
        metadata: FILL,
      });
      expect(one.status).toBe(200);
      const rows = await expectWithin(k.name, 1000, GPT);
      expect(rows.map((r) => r.status).sort()).toEqual([200, 403, 403, 403, 403, 403, 403]);
    });
  });

  describe('the case of the issue: n: 1000, max_tokens: 50 to an upstream that bills n x the output', () => {
    it('100 at once on a $0.001 key: every one refused, none reaches the upstream, nothing spent', async () => {
      const k = await key(1000);
      const before = compat.callCount();
      const body = { model: COMPAT.model, messages: HELLO, n: 1000, max_tokens: 50, metadata: FILL };
      const answers = await Promise.all(Array.from({ length: 100 }, () => chat(k.secret, body)));
      const rows = await expectWithin(k.name, 1000, COMPAT);
      expect(answers.map((a) => a.status)).toEqual(Array(100).fill(403));
      expect(compat.callCount()).toBe(before);
      expect(rows.length).toBe(100);
      // the same upstream answers and bills a thousand answers when the money is there
      const rich = await key(1_000_000);
      const served = await chat(rich.secret, body);
      expect((served.body.choices as unknown[]).length).toBe(1000);
      expect((served.body.usage as Json).completion_tokens).toBe(50_000);
      await expectWithin(rich.name, 1_000_000, COMPAT);
    });
  });

  describe('an OpenAI prediction', () => {
    it('is reserved on top of the limit: its rejected tokens are billed as output', async () => {
      const prediction = { type: 'content', content: 'word '.repeat(2000) }; // 2,000 tokens
      const k = await key(1000); // pays for the 50 tokens asked, not for the prediction too
      const before = oa.callCount();
      const a = await chat(k.secret, { model: PRED.model, messages: HELLO, max_tokens: 50, prediction });
      expect(a.status).toBe(403);
      expect(oa.callCount()).toBe(before);
      const served = await chat(k.secret, { model: PRED.model, messages: HELLO, max_tokens: 50 });
      expect(served.status).toBe(200);
    });
  });

  describe('the output limit is lowered per answer', () => {
    it('n: 4 near the end of a budget: each answer gets the limit 4 x limit pays for', async () => {
      const body = { model: GPT.model, messages: HELLO, n: 4, max_tokens: 64_000, metadata: FILL };
      const counted = await countChatTokens({ messages: [{ role: 'user', content: 'hello' }] });
      const input = worstInput(counted, Buffer.byteLength(JSON.stringify(body)));
      const budget = input * GPT.input + 4 * 1500 * GPT.output;
      const k = await key(budget);
      const a = await chat(k.secret, body);
      expect(a.status).toBe(200);
      expect(a.headers.get('x-bc-max-tokens')).toBe('1500');
      expect(lastBody(oa)).toMatchObject({ n: 4, max_tokens: 1500 });
      // four answers of 1,500 tokens each, all billed
      expect((a.body.choices as unknown[]).length).toBe(4);
      expect((a.body.usage as Json).completion_tokens).toBe(6000);
      const [row] = await expectWithin(k.name, budget, GPT);
      expect(row).toMatchObject({ max_tokens_clamped: 1500, output_tokens: 6000 });
    });
  });

  /** 100 requests at once on one key; every answer 200 or 403 insufficient_quota. */
  async function burst(run: (i: number) => Promise<Answer>): Promise<Answer[]> {
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => run(i)));
    const served = answers.filter((a) => a.status === 200);
    expect(served.length).toBeGreaterThan(0);
    expect(served.length).toBeLessThan(100);
    for (const a of answers.filter((x) => x.status !== 200)) expect(a.status).toBe(403);
    return served;
  }

  describe('100 concurrent requests asking for several answers never spend past the budget', () => {
    it('OpenAI chat n: 4 (half of them streamed)', async () => {
      const budget = 40_000; // about 2,000 micro-USD a request: some 20 of them
      const k = await key(budget);
      const served = await burst((i) =>
        chat(k.secret, {
          model: GPT.model,
          messages: HELLO,
          n: 4,
          max_tokens: 50,
          metadata: FILL,
          stream: i % 2 === 0,
        }),
      );
      for (const a of served.filter((x) => x.body.choices !== undefined)) {
        expect((a.body.choices as unknown[]).length).toBe(4);
        expect((a.body.usage as Json).completion_tokens).toBe(200);
      }
      const rows = await expectWithin(k.name, budget, GPT);
      expect(rows.length).toBe(100);
      for (const r of rows.filter((x) => x.status === 200)) expect(r.output_tokens).toBe(200);
    });

    it('legacy completions best_of: 3 (billed for three, one returned)', async () => {
      const budget = 30_000;
      const k = await key(budget);
      const served = await burst(() =>
        post('/v1/completions', k.secret, {
          model: GPT.model,
          prompt: 'hi',
          best_of: 3,
          max_tokens: 50,
          metadata: FILL,
        }),
      );
      for (const a of served) {
        expect((a.body.choices as unknown[]).length).toBe(1);
        expect((a.body.usage as Json).completion_tokens).toBe(150);
      }
      const rows = await expectWithin(k.name, budget, GPT);
      for (const r of rows.filter((x) => x.status === 200)) expect(r.output_tokens).toBe(150);
    });

    it('legacy completions with a batch of prompts: the answers of every prompt are billed', async () => {
      const budget = 30_000;
      const k = await key(budget);
      const body = { model: GPT.model, prompt: ['a', 'b', 'c', 'd'], max_tokens: 50, metadata: FILL };
      const served = await burst(() => post('/v1/completions', k.secret, body));
      for (const a of served) {
        expect((a.body.choices as unknown[]).length).toBe(4);
        expect((a.body.usage as Json).completion_tokens).toBe(200);
      }
      const rows = await expectWithin(k.name, budget, GPT);
      for (const r of rows.filter((x) => x.status === 200)) expect(r.output_tokens).toBe(200);
    });

    it('Gemini candidateCount: 4 (half of them streamed)', async () => {
      const budget = 16_000;
      const k = await key(budget);
      const body = {
        contents: GEM_HELLO,
        generationConfig: { candidateCount: 4, maxOutputTokens: 50 },
        labels: FILL,
      };
      const served = await burst((i) => gemini(k.secret, GEM.model, body, i % 2 === 0));
      for (const a of served.filter((x) => x.body.candidates !== undefined)) {
        expect((a.body.candidates as unknown[]).length).toBe(4);
        expect((a.body.usageMetadata as Json).candidatesTokenCount).toBe(200);
      }
      const rows = await expectWithin(k.name, budget, GEM);
      for (const r of rows.filter((x) => x.status === 200)) expect(r.output_tokens).toBe(200);
    });
  });

  describe('what is actually sent upstream decides what is reserved', () => {
    it('Gemini: snake_case generation_config and a count as a string are read as Gemini reads them', async () => {
      const body = {
        contents: GEM_HELLO,
        generation_config: { candidate_count: '4', max_output_tokens: 50 },
        labels: FILL,
      };
      // pays for one answer of 50 tokens (about 300 micro-USD with the prompt's margin), not four
      const k = await key(500);
      const refused = await gemini(k.secret, GEM.model, body);
      expect(refused.status).toBe(403);
      const rich = await key(100_000);
      const served = await gemini(rich.secret, GEM.model, body);
      expect(served.status).toBe(200);
      expect((served.body.usageMetadata as Json).candidatesTokenCount).toBe(200);
      await expectWithin(rich.name, 100_000, GEM);
    });

    it('a conversion drops n / candidateCount and reserves one answer; a passthrough channel for the model reserves all', async () => {
      // OpenAI client on a Gemini-only model: n is dropped, one answer is produced and billed
      const k1 = await key(1000);
      const a = await chat(k1.secret, { model: GEM.model, messages: HELLO, n: 8, max_tokens: 50 });
      expect(a.status).toBe(200);
      expect((a.body.choices as unknown[]).length).toBe(1);
      expect(lastBody(gm).generationConfig).toEqual({ maxOutputTokens: 50 });
      expect((await expectWithin(k1.name, 1000, GEM))[0]?.dropped_fields).toContain('n');
      // Gemini client on an OpenAI-only model: candidateCount is dropped
      const k2 = await key(1500);
      const g = await gemini(k2.secret, GPT.model, {
        contents: GEM_HELLO,
        generationConfig: { candidateCount: 4, maxOutputTokens: 50 },
      });
      expect(g.status).toBe(200);
      expect(lastBody(oa)).not.toHaveProperty('n');
      expect((await expectWithin(k2.name, 1500, GPT))[0]?.dropped_fields).toContain(
        'generationConfig.candidateCount',
      );
      // a model an OpenAI channel serves too: that channel would take n as sent, so all 8 are reserved
      const k3 = await key(1000);
      const before = oa.callCount() + gm.callCount();
      const both = await chat(k3.secret, { model: BOTH, messages: HELLO, n: 8, max_tokens: 50 });
      expect(both.status).toBe(403);
      expect(oa.callCount() + gm.callCount()).toBe(before);
    });
  });
});
