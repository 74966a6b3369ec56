// The bounds a reservation puts on what the gateway cannot know exactly (meter.ts): the prompt
// as another tokenizer may count it (worstInput), and one price at least as dear as every price
// the request may settle at (dearestOf), so that no settled cost passes what was reserved.
import { describe, expect, it } from 'vitest';
import { costOf, costTerms, dearestOf, termsCost, worstInput } from '../../src/daemon/gateway/money/meter.js';
import type { PriceRecord } from '../../src/daemon/store/types.js';
import { seededInt } from '../support/seeded.js';

const price = (over: Partial<PriceRecord> = {}): PriceRecord =>
  ({
    model: 'm',
    input: 3_000_000,
    output: 15_000_000,
    cacheRead: null,
    cacheWrite: null,
    perRequest: null,
    maxOutputTokens: null,
    ...over,
  }) as PriceRecord;

const rng = seededInt;

describe('worstInput', () => {
  it('is the local count plus a quarter, or a third of the body bytes, whichever is more, rounded up', () => {
    expect(worstInput(1000, 3000)).toBe(1250);
    // 40,000 spaces: o200k makes 321 tokens of them, the bytes say 13,344
    expect(worstInput(321, 40_030)).toBe(13_344);
    expect(worstInput(1, 1)).toBe(2);
    expect(worstInput(0, 0)).toBe(0);
  });

  it('covers a prompt counted at a quarter of its JSON bytes (as the simulators count) for any text', () => {
    const next = rng(5);
    const pieces = [' ', '\n', '"', '\\', 'a', '€', '🚀', '\u0001', 'word '];
    for (let i = 0; i < 2000; i++) {
      let text = '';
      for (let j = next(40); j > 0; j--) text += pieces[next(pieces.length)]!.repeat(1 + next(200));
      const messages = [{ role: 'user', content: text }];
      const body = JSON.stringify({ model: 'm', messages });
      const simulated = Math.ceil(Buffer.byteLength(JSON.stringify(messages)) / 4);
      // whatever the local count (even none), the bytes alone cover it
      expect(worstInput(0, Buffer.byteLength(body))).toBeGreaterThanOrEqual(simulated);
    }
  });
});

describe('dearestOf', () => {
  it('takes each unit at its dearest across the prices and their tiers, and the smallest output limit', () => {
    const a = price({ input: 1_000_000, output: 40_000_000, cacheRead: 100_000, maxOutputTokens: 64_000 });
    const b = price({
      input: 2_000_000,
      output: 8_000_000,
      cacheWrite: 2_500_000,
      perRequest: 7,
      maxOutputTokens: 8192,
      tiers: [{ above: 200_000, input: 4_000_000, output: 50_000_000, cacheRead: 400_000, cacheWrite: null }],
    });
    expect(dearestOf([a, b])).toMatchObject({
      input: 4_000_000,
      output: 50_000_000,
      cacheRead: 400_000,
      cacheWrite: 2_500_000,
      perRequest: 7,
      maxOutputTokens: 8192,
    });
    expect(dearestOf([a, b])).not.toHaveProperty('tiers');
    expect(dearestOf([a])).toMatchObject({ input: 1_000_000, output: 40_000_000, maxOutputTokens: 64_000 });
    expect(dearestOf([])).toBeUndefined();
  });

  it('keeps the one known output limit whichever side it is on, and the smaller of two', () => {
    const limit = (a: number | null, b: number | null): number | null | undefined =>
      dearestOf([price({ maxOutputTokens: a }), price({ maxOutputTokens: b })])?.maxOutputTokens;
    expect(limit(64_000, null)).toBe(64_000);
    expect(limit(null, 8192)).toBe(8192);
    expect(limit(8192, 64_000)).toBe(8192);
    expect(limit(64_000, 8192)).toBe(8192);
    expect(limit(null, null)).toBeNull();
  });

  it('reserves at least what any of the prices settles for (random prices and usage)', () => {
    const next = rng(9);
    const maybe = (max: number): number | null => (next(2) ? next(max) : null);
    for (let i = 0; i < 3000; i++) {
      const prices = Array.from({ length: 1 + next(4) }, () =>
        price({
          input: next(20_000_000),
          output: next(80_000_000),
          cacheRead: maybe(5_000_000),
          cacheWrite: maybe(30_000_000),
          perRequest: maybe(1000),
          ...(next(3)
            ? {}
            : {
                tiers: [
                  {
                    above: next(300_000),
                    input: next(40_000_000),
                    output: next(90_000_000),
                    cacheRead: maybe(9_000_000),
                    cacheWrite: maybe(50_000_000),
                  },
                ],
              }),
        }),
      );
      const ratio = [1, 0.5, 0.3, 1.7][next(4)] ?? 1;
      const input = next(400_000);
      const output = next(70_000);
      const cached = next(input + 1);
      const usage = {
        inputTokens: input,
        cachedTokens: cached,
        cacheWriteTokens: next(input - cached + 1),
        outputTokens: next(output + 1),
        reasoningTokens: 0,
      };
      const reserved = termsCost(costTerms(input, dearestOf(prices)!, ratio), output);
      for (const p of prices) expect(costOf(usage, p, ratio)).toBeLessThanOrEqual(reserved);
    }
  });
});
