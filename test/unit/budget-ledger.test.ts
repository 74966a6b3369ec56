// The money arithmetic of budgets: worst-case cost (SPEC section 7), the ledger's clamp of the
// output limit near the end of a budget, and that no rounding lets spend pass the budget.
import { describe, expect, it } from 'vitest';
import {
  costOf,
  costTerms,
  fitOutput,
  termsCost,
  worstCaseCost,
  type CostTerms,
  type OutputAsk,
} from '../../src/daemon/gateway/money/meter.js';
import { BudgetLedger } from '../../src/daemon/gateway/money/budget-ledger.js';
import type { PriceRecord } from '../../src/daemon/store/types.js';
import { seededInt } from '../support/seeded.js';

// `source` plays no part in costs (and its values are changing with the price catalog)
const price = (over: Partial<PriceRecord> = {}): PriceRecord =>
  ({
    model: 'm',
    input: 3_000_000, // $3 per 1M
    output: 15_000_000, // $15 per 1M
    cacheRead: 300_000,
    cacheWrite: null,
    perRequest: null,
    maxOutputTokens: null,
    ...over,
  }) as PriceRecord;

const rng = seededInt;

describe('worstCaseCost', () => {
  it('prices every input token at the dearest input price plus the whole output limit', () => {
    // 1,000 x $3 + 500 x $15 per 1M = 3,000 + 7,500 micro-USD
    expect(worstCaseCost(1000, 500, price(), 1)).toBe(10_500);
    // cache writes dearer than input: every input token may be a write
    expect(worstCaseCost(1000, 500, price({ cacheWrite: 3_750_000 }), 1)).toBe(3_750 + 7_500);
    // group ratio and per-request price
    expect(worstCaseCost(1000, 500, price({ perRequest: 40 }), 0.5)).toBe(5_250 + 40);
  });

  it('rounds up, never down', () => {
    // 1 token at $0.10 per 1M is 0.1 micro-USD: reserved as 1
    expect(worstCaseCost(1, 0, price({ input: 100_000 }), 1)).toBe(1);
    // 1 token at $1.5 per 1M and 1 output at $1.5: 3 micro-USD exactly, not 4
    expect(worstCaseCost(1, 1, price({ input: 1_500_000, output: 1_500_000 }), 1)).toBe(3);
    // a ratio whose binary form is inexact still covers the exact product
    expect(worstCaseCost(1000, 0, price({ input: 1_000_000 }), 0.1)).toBeGreaterThanOrEqual(100);
  });

  it('is never less than the settled cost of any usage within the same prompt and output limit', () => {
    const next = rng(7);
    for (let i = 0; i < 5000; i++) {
      const p = price({
        input: next(20_000_000),
        output: next(80_000_000),
        cacheRead: next(2) ? next(5_000_000) : null,
        cacheWrite: next(2) ? next(30_000_000) : null,
        perRequest: next(2) ? next(1000) : null,
      });
      const ratio = [1, 0.5, 0.1, 0.3, 1.7, 2][next(6)] ?? 1;
      const input = next(300_000);
      const max = next(70_000);
      const cached = next(input + 1);
      const usage = {
        inputTokens: input,
        cachedTokens: cached,
        cacheWriteTokens: next(input - cached + 1),
        outputTokens: next(max + 1),
        reasoningTokens: 0,
      };
      expect(costOf(usage, p, ratio)).toBeLessThanOrEqual(worstCaseCost(input, max, p, ratio));
    }
  });
});

describe('costOf: what settlement bills', () => {
  const usage = (over: Partial<Parameters<typeof costOf>[0]> = {}) => ({
    inputTokens: 100,
    cachedTokens: 0,
    cacheWriteTokens: 0,
    outputTokens: 0,
    reasoningTokens: 0,
    ...over,
  });
  const p = price({ input: 2_000_000, output: 10_000_000, cacheRead: 500_000, cacheWrite: 4_000_000 });

  it('prices uncached, cached and written input tokens and output each at its own price', () => {
    // 20 uncached x 2 + 60 cached x 0.5 + 20 written x 4 + 7 output x 10 micro-USD
    expect(costOf(usage({ cachedTokens: 60, cacheWriteTokens: 20, outputTokens: 7 }), p, 1)).toBe(
      40 + 30 + 80 + 70,
    );
  });

  it('never counts more cache writes than the input left after cache reads', () => {
    // 80 writes claimed but only 40 tokens are not cached: 60 x 0.5 + 40 x 4
    expect(costOf(usage({ cachedTokens: 60, cacheWriteTokens: 80 }), p, 1)).toBe(30 + 160);
    // more cached than input: all input at the cache-read price
    expect(costOf(usage({ cachedTokens: 500 }), p, 1)).toBe(50);
  });

  it('adds the per-request price after the group ratio, and rounds half up once', () => {
    expect(costOf(usage(), price({ input: 2_000_000, perRequest: 40 }), 0.5)).toBe(100 + 40);
    expect(costOf(usage({ inputTokens: 0 }), price({ perRequest: 40 }), 3)).toBe(40);
    // 1 token at $2.5 per 1M: 2.5 micro-USD rounds to 3
    expect(costOf(usage({ inputTokens: 1 }), price({ input: 2_500_000 }), 1)).toBe(3);
  });
});

describe('fitOutput: the clamp arithmetic', () => {
  // 2,000 prompt tokens at $5 + output at $25 per 1M (Claude Opus 4.5 prices)
  const t: CostTerms = costTerms(2000, price({ input: 5_000_000, output: 25_000_000 }), 1);
  const ask = (over: Partial<OutputAsk> = {}): OutputAsk => ({
    limit: 64_000,
    choices: 1,
    extra: 0,
    clamp: { min: 1024, max: 64_000 },
    ...over,
  });

  it('reserves the whole worst case when it fits, lowering nothing', () => {
    const full = termsCost(t, 64_000); // 10,000 + 1,600,000
    expect(full).toBe(1_610_000);
    expect(fitOutput(full, t, ask())).toEqual({ amount: full, outputTokens: 64_000, clamped: false });
  });

  it('lowers the limit to the largest number of tokens the money left pays for', () => {
    // $1.50 left: (1,500,000 - 10,000) / 25 = 59,600 tokens exactly
    expect(fitOutput(1_500_000, t, ask())).toEqual({
      amount: 1_500_000,
      outputTokens: 59_600,
      clamped: true,
    });
    // one micro-USD less: 59,599 tokens, and what it reserves is within what is left
    const r = fitOutput(1_499_999, t, ask())!;
    expect(r.outputTokens).toBe(59_599);
    expect(r.amount).toBeLessThanOrEqual(1_499_999);
  });

  it('refuses below the floor, and whenever the clamp is off (strict budget)', () => {
    const floorCost = termsCost(t, 1024); // 10,000 + 25,600
    expect(fitOutput(floorCost, t, ask())?.outputTokens).toBe(1024);
    expect(fitOutput(floorCost - 1, t, ask())).toBeNull();
    expect(fitOutput(1_500_000, t, ask({ clamp: null }))).toBeNull();
    // a thinking budget of 8,000 raises the floor to 9,024 tokens
    const thinking = ask({ clamp: { min: 9024, max: 64_000 } });
    expect(fitOutput(termsCost(t, 9023), t, thinking)).toBeNull();
    expect(fitOutput(termsCost(t, 9024), t, thinking)?.outputTokens).toBe(9024);
    // a client limit under the floor is not lowered at all
    expect(
      fitOutput(termsCost(t, 500) - 1, t, ask({ limit: 500, clamp: { min: 1024, max: 500 } })),
    ).toBeNull();
  });

  it('lowers to exactly the floor when the clamp range is one limit, and never outside the range', () => {
    const floorCost = termsCost(t, 1024);
    expect(fitOutput(floorCost, t, ask({ clamp: { min: 1024, max: 1024 } }))).toEqual({
      amount: floorCost,
      outputTokens: 1024,
      clamped: true,
    });
    // an empty range (floor above the highest limit it may send) lowers nothing, however much is left
    expect(fitOutput(1_500_000, t, ask({ clamp: { min: 2000, max: 1000 } }))).toBeNull();
  });

  it('pays for the limit once per answer billed (n, best_of, candidateCount)', () => {
    // 1,000 answers of 50 tokens: 50,000 output tokens, not 50
    expect(fitOutput(termsCost(t, 50_000), t, ask({ limit: 50, choices: 1000, clamp: null }))).toEqual({
      amount: termsCost(t, 50_000),
      outputTokens: 50,
      clamped: false,
    });
    expect(fitOutput(termsCost(t, 50_000) - 1, t, ask({ limit: 50, choices: 1000, clamp: null }))).toBeNull();
    // lowered per answer: $1.50 pays for 59,600 output tokens, 14,900 for each of 4 answers
    expect(fitOutput(1_500_000, t, ask({ choices: 4 }))).toEqual({
      amount: 1_500_000,
      outputTokens: 14_900,
      clamped: true,
    });
    // the floor is per answer too: 4 x 1,024 must fit, else refused
    expect(fitOutput(termsCost(t, 4 * 1024), t, ask({ choices: 4 }))?.outputTokens).toBe(1024);
    expect(fitOutput(termsCost(t, 4 * 1024) - 1, t, ask({ choices: 4 }))).toBeNull();
  });

  it('reserves tokens a conversion may add on top of whatever limit is sent', () => {
    const r = fitOutput(1_500_000, t, ask({ extra: 8192 }))!;
    // (1,500,000 - 10,000) / 25 = 59,600 tokens in all, 8,192 of them beyond the limit
    expect(r).toEqual({ amount: 1_500_000, outputTokens: 59_600 - 8192, clamped: true });
  });

  it('never reserves more than is left and always the largest limit that fits (random terms)', () => {
    const next = rng(11);
    for (let i = 0; i < 5000; i++) {
      const terms = costTerms(
        next(200_000),
        price({
          input: next(20_000_000),
          output: 1 + next(80_000_000),
          perRequest: next(3) ? null : next(500),
        }),
        [1, 0.5, 0.1, 0.3, 1.7][next(5)] ?? 1,
      );
      const limit = 1 + next(100_000);
      const extra = next(2) ? 0 : next(20_000);
      const min = 1024 + next(20_000);
      const choices = next(3) ? 1 : 1 + next(8);
      const a: OutputAsk = { limit, choices, extra, clamp: { min, max: limit } };
      const left = next(4_000_000) - 1000;
      const r = fitOutput(left, terms, a);
      if (r === null) {
        expect(termsCost(terms, choices * limit + extra)).toBeGreaterThan(left);
        if (min <= limit) expect(termsCost(terms, choices * min + extra)).toBeGreaterThan(left);
        continue;
      }
      expect(r.amount).toBeLessThanOrEqual(left);
      expect(r.amount).toBe(termsCost(terms, choices * r.outputTokens + extra));
      if (!r.clamped) {
        expect(r.outputTokens).toBe(limit);
        continue;
      }
      expect(r.outputTokens).toBeGreaterThanOrEqual(min);
      expect(r.outputTokens).toBeLessThan(limit);
      expect(termsCost(terms, choices * (r.outputTokens + 1) + extra)).toBeGreaterThan(left);
    }
  });
});

describe('BudgetLedger', () => {
  const terms = costTerms(100, price({ input: 1_000_000, output: 1_000_000 }), 1); // 1 micro per token
  const ask = (limit: number, clamp = true): OutputAsk => ({
    limit,
    choices: 1,
    extra: 0,
    clamp: clamp ? { min: 1024, max: limit } : null,
  });

  it('refuses what does not fit, with what was left', () => {
    const ledger = new BudgetLedger();
    ledger.load(1, 0);
    expect(ledger.reserve(1, 1000, terms, ask(800, false))).toMatchObject({ ok: true, amount: 900 });
    expect(ledger.reserve(1, 1000, terms, ask(800, false))).toEqual({ ok: false, left: 100 });
    expect(ledger.reserved(1)).toBe(900);
  });

  it('lowers the limit to what is left after settled spend and reservations in flight', () => {
    const ledger = new BudgetLedger();
    ledger.load(1, 2000); // spent before
    const first = ledger.reserve(1, 10_000, terms, ask(4096));
    expect(first).toEqual({ ok: true, amount: 4196, outputTokens: 4096, clamped: false });
    // 10,000 - 2,000 - 4,196 = 3,804 left: 3,704 output tokens after the prompt's 100
    expect(ledger.reserve(1, 10_000, terms, ask(4096))).toEqual({
      ok: true,
      amount: 3804,
      outputTokens: 3704,
      clamped: true,
    });
    // nothing left: below the floor
    expect(ledger.reserve(1, 10_000, terms, ask(4096))).toEqual({ ok: false, left: 0 });
    // the first settles for 1,000: its unused reservation comes back
    ledger.settle(1, 4196, 1000);
    expect(ledger.spent(1)).toBe(3000);
    expect(ledger.reserve(1, 10_000, terms, ask(4096))).toEqual({
      ok: true,
      amount: 10_000 - 3000 - 3804,
      outputTokens: 10_000 - 3000 - 3804 - 100,
      clamped: true,
    });
  });

  it('seeds spend from the store once, keeps its own after that, and seeds again after forget', () => {
    const ledger = new BudgetLedger();
    // a key it has never seen has spent and reserved nothing
    expect(ledger.spent(7)).toBe(0);
    expect(ledger.reserved(7)).toBe(0);
    ledger.load(1, 100);
    ledger.settle(1, 0, 50);
    // a snapshot rebuild loads the store's (older) figure again: the ledger's own is newer
    ledger.load(1, 999);
    expect(ledger.spent(1)).toBe(150);
    ledger.forget(1);
    expect(ledger.spent(1)).toBe(0);
    ledger.load(1, 300);
    expect(ledger.spent(1)).toBe(300);
  });

  it('keeps settled spend within the budget whatever mix of requests comes (random)', () => {
    const next = rng(3);
    for (let round = 0; round < 200; round++) {
      const ledger = new BudgetLedger();
      const budget = 5000 + next(5_000_000);
      const inFlight: { amount: number; tokens: number; input: number; p: PriceRecord }[] = [];
      for (let i = 0; i < 60; i++) {
        const input = next(5000);
        const p = price({ input: next(10_000_000), output: 1 + next(50_000_000), cacheRead: null });
        const r = ledger.reserve(1, budget, costTerms(input, p, 1), ask(1 + next(64_000), next(4) > 0));
        if (r.ok) inFlight.push({ amount: r.amount, tokens: r.outputTokens, input, p });
        if (next(3) === 0 && inFlight.length > 0) {
          // the upstream used the whole prompt and every output token it was allowed
          const done = inFlight.splice(next(inFlight.length), 1)[0]!;
          const usage = {
            inputTokens: done.input,
            cachedTokens: 0,
            cacheWriteTokens: 0,
            outputTokens: done.tokens,
            reasoningTokens: 0,
          };
          ledger.settle(1, done.amount, costOf(usage, done.p, 1));
        }
        expect(ledger.spent(1) + ledger.reserved(1)).toBeLessThanOrEqual(budget);
      }
    }
  });
});
