// A request's worst case as admission reserves it (worst-case.ts), over a real snapshot built from
// channel, key, price and group records: which channels count (the key's group, priced ones
// only), the price settlement would bill (priceFor, aliases included), the group ratio admission
// captured, the prompt bound, and the output asked for (answers only when some channel takes the
// body as sent; thinking from a reasoning effort only when some channel converts it; a
// prediction's tokens only on passthrough; the clamp floor above the thinking budget).
import { describe, expect, it } from 'vitest';
import type { ChannelRecord } from '../../src/daemon/store/types.js';
import type { RelayContext } from '../../src/daemon/gateway/context.js';
import { MIN_LOWERED_OUTPUT, priceFor, worstCase } from '../../src/daemon/gateway/money/worst-case.js';
import { capturePrices } from '../../src/daemon/gateway/money/admitted-prices.js';
import { DEFAULT_OUTPUT_LIMIT, worstInput } from '../../src/daemon/gateway/money/meter.js';
import { countTextTokens } from '../../src/daemon/gateway/tokens/tokens.js';
import { channel, ctx, keyOf, price, stateOf, type Json } from '../support/money-state.js';

describe('priceFor: the price settlement bills', () => {
  it("is the model's own row, else the upstream model's; with an upstream model, nothing else", () => {
    const s = stateOf([channel('openai', ['m', 'up'])], [price('m', 1, 2), price('up', 3, 4)]);
    expect(priceFor(s, 'm', 'up')?.input).toBe(1);
    expect(priceFor(s, 'alias', 'up')?.input).toBe(3);
    // an upstream model named but unpriced: no fallback to another channel's price
    const t = stateOf(
      [channel('openai', [], { map: { a: 'none' } }), channel('openai', ['p'], { map: { a: 'p' } })],
      [price('p', 5, 6)],
    );
    expect(priceFor(t, 'a', 'none')).toBeUndefined();
  });

  it('without an upstream model, is the first priced upstream model of its channels (aliases mapped)', () => {
    const s = stateOf(
      [
        channel('openai', [], { map: { a: 'unpriced' }, priority: 9 }),
        channel('openai', [], { map: { a: 'up-b' }, priority: 5 }),
        channel('openai', [], { map: { a: 'up-c' }, priority: 1 }),
      ],
      [price('up-b', 7, 8), price('up-c', 9, 10)],
    );
    expect(priceFor(s, 'a')?.model).toBe('up-b');
    // a model no channel serves and no row prices
    expect(priceFor(s, 'nobody')).toBeUndefined();
    // an unaliased model priced under its own name
    const plain = stateOf([channel('openai', ['q'])], [price('q', 1, 1)]);
    expect(priceFor(plain, 'q')?.model).toBe('q');
  });
});

describe('worstCase', () => {
  const dear = price('dear', 20_000_000, 80_000_000, { maxOutputTokens: 8000 });
  const cheap = price('cheap', 1_000_000, 2_000_000, { maxOutputTokens: 64_000 });

  it("refuses a model none of the key group's channels prices, saying how to price it", async () => {
    const s = stateOf([channel('openai', ['m'])], []);
    await expect(worstCase(s, ctx({}), keyOf(), 10)).rejects.toMatchObject({
      code: 'MODEL_NOT_PRICED',
      message:
        'model "m" has no price and this key draws on a budget or a balance: set one with `bc price set`',
    });
    // no channel at all for the model
    await expect(worstCase(s, ctx({}, { model: 'ghost' }), keyOf(), 10)).rejects.toMatchObject({
      code: 'MODEL_NOT_PRICED',
    });
  });

  it('takes the dearest price over the channels of the key group only, and skips unpriced ones', async () => {
    const channels = [
      channel('openai', [], { map: { m: 'cheap' } }),
      channel('openai', [], { map: { m: 'dear' }, groups: ['vip'] }),
      channel('openai', [], { map: { m: 'unpriced' } }),
    ];
    const s = stateOf(channels, [dear, cheap]);
    const std = await worstCase(s, ctx(undefined), keyOf(), 1000);
    expect(std.terms).toEqual({
      inputPart: 1000 * 1_000_000,
      outputPrice: 2_000_000,
      ratio: 1,
      perRequest: 0,
    });
    expect(std.ask.limit).toBe(64_000);
    const vip = await worstCase(s, ctx(undefined), keyOf({ group: 'vip' }), 1000);
    expect(vip.terms.outputPrice).toBe(80_000_000);
    expect(vip.ask.limit).toBe(8000);
  });

  it('bounds a JSON prompt by its bytes, and takes any other body as counted', async () => {
    const s = stateOf([channel('openai', ['cheap'])], [cheap]);
    const raw = Buffer.alloc(30_000, 0x20);
    const json = await worstCase(s, ctx({}, { model: 'cheap' }, raw), keyOf(), 1000);
    expect(json.terms.inputPart).toBe(worstInput(1000, 30_000) * 1_000_000);
    expect(worstInput(1000, 30_000)).toBe(10_000);
    const other = await worstCase(s, ctx(undefined, { model: 'cheap' }, raw), keyOf(), 1000);
    expect(other.terms.inputPart).toBe(1000 * 1_000_000);
  });

  it("bills the group ratio admission captured, else the group's, else 1", async () => {
    const channels = [channel('openai', ['cheap'], { groups: ['half', 'default', 'other'] })];
    const key = keyOf({ group: 'half' });
    const s = stateOf(channels, [cheap], [{ name: 'half', ratio: 0.5 }]);
    expect((await worstCase(s, ctx(undefined, { model: 'cheap' }), key, 1)).terms.ratio).toBe(0.5);
    expect((await worstCase(s, ctx(undefined, { model: 'cheap' }), keyOf(), 1)).terms.ratio).toBe(1);
    const prices = capturePrices(s, 'cheap', key);
    // the ratio is raised to 3 while the request is in flight: the admitted one still holds
    const later = stateOf(channels, [cheap], [{ name: 'half', ratio: 3 }]);
    expect((await worstCase(later, ctx(undefined, { model: 'cheap', prices }), key, 1)).terms.ratio).toBe(
      0.5,
    );
    // a group missing from the ratio table counts at 1
    expect(
      (await worstCase(s, ctx(undefined, { model: 'cheap' }), keyOf({ group: 'other' }), 1)).terms.ratio,
    ).toBe(1);
  });

  it('reads the price admission captured, not the one in force later', async () => {
    const channels = [channel('openai', ['cheap'])];
    const s = stateOf(channels, [cheap]);
    const prices = capturePrices(s, 'cheap', keyOf());
    const raised = stateOf(channels, [{ ...cheap, output: 20_000_000 }]);
    const w = await worstCase(raised, ctx(undefined, { model: 'cheap', prices }), keyOf(), 1);
    expect(w.terms.outputPrice).toBe(2_000_000);
  });

  describe('the output asked for', () => {
    const body = { n: 3, max_tokens: 500, reasoning_effort: 'high', prediction: { content: 'let x = 1;\n' } };
    const openai = (): ChannelRecord => channel('openai', ['m']);
    const claude = (): ChannelRecord => channel('anthropic', ['m']);
    const ask = async (
      channels: ChannelRecord[],
      b: Json = body,
      key = keyOf(),
      over: Partial<RelayContext> = {},
    ) => (await worstCase(stateOf(channels, [price('m', 1_000_000, 1_000_000)]), ctx(b, over), key, 10)).ask;

    it('on a passthrough channel only: every answer (n) and the prediction, no effort thinking', async () => {
      const predicted = await countTextTokens('let x = 1;\n');
      expect(predicted).toBeGreaterThan(0);
      expect(await ask([openai()])).toEqual({
        limit: 500,
        choices: 3,
        extra: predicted,
        clamp: { min: MIN_LOWERED_OUTPUT, max: 500 },
      });
    });

    it('on a converting channel only: one answer, thinking on top, no prediction', async () => {
      expect(await ask([claude()])).toEqual({
        limit: 500,
        choices: 1,
        extra: 16_384,
        clamp: { min: 16_384 + MIN_LOWERED_OUTPUT, max: 500 },
      });
    });

    it('on both: every answer, and both the thinking and the prediction on top', async () => {
      const predicted = await countTextTokens('let x = 1;\n');
      expect(await ask([claude(), openai()])).toEqual({
        limit: 500,
        choices: 3,
        extra: 16_384 + predicted,
        clamp: { min: 16_384 + MIN_LOWERED_OUTPUT, max: 500 },
      });
    });

    it("leaves room above the larger of the client's own thinking budget and the effort's", async () => {
      const own = { max_tokens: 40_000, thinking: { type: 'enabled', budget_tokens: 20_000 } };
      const messages = { protocol: 'anthropic', endpoint: '/v1/messages' } as const;
      // the client's own thinking, passed through to Claude: the floor, nothing on top
      expect(await ask([claude()], own, keyOf(), messages)).toEqual({
        limit: 40_000,
        choices: 1,
        extra: 0,
        clamp: { min: 20_000 + MIN_LOWERED_OUTPUT, max: 40_000 },
      });
      // an effort's thinking above the client's own (converted for an OpenAI channel: not on top)
      const low = {
        max_tokens: 40_000,
        thinking: { type: 'enabled', budget_tokens: 2000 },
        reasoning_effort: 'high',
      };
      expect((await ask([claude()], low, keyOf(), messages)).clamp).toEqual({
        min: 2000 + 1024,
        max: 40_000,
      });
      expect((await ask([openai()], low, keyOf(), messages)).clamp).toEqual({
        min: 16_384 + MIN_LOWERED_OUTPUT,
        max: 40_000,
      });
      expect((await ask([openai()], low, keyOf(), messages)).extra).toBe(16_384);
    });

    it('is never lowered for a strict budget or an endpoint whose output cannot be limited', async () => {
      expect((await ask([openai()], { max_tokens: 500 }, keyOf({ strictBudget: true }))).clamp).toBeNull();
      const embeddings = { endpoint: '/v1/embeddings', kind: 'forward' } as const;
      expect((await ask([openai()], { input: 'x' }, keyOf(), embeddings)).clamp).toBeNull();
      expect((await ask([openai()], { max_tokens: 500 })).clamp).toEqual({ min: 1024, max: 500 });
    });

    it("falls back to the price's output limit, then the default", async () => {
      expect((await ask([openai()], {})).limit).toBe(50_000);
      const s = stateOf([openai()], [price('m', 1, 1, { maxOutputTokens: null })]);
      expect((await worstCase(s, ctx({}), keyOf(), 1)).ask.limit).toBe(DEFAULT_OUTPUT_LIMIT);
    });
  });
});
