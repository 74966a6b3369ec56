// Prices from the catalog package: the gateway's cost of a request equals the catalog's own
// calculator (@pydantic/genai-prices' calcPrice) for the same usage, model and time, across
// providers, cache reads and writes, dated and long-context prices; named current models are
// priced; money stays integer micro-USD; output limits come from llm-zoo.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { calcPrice, findProvider } from '@pydantic/genai-prices';
import { getModelByFullName } from 'llm-zoo';
import { describe, expect, it } from 'vitest';
import { costOf, worstCaseCost } from '../../src/daemon/gateway/money/meter.js';
import { catalogSource, matchCatalog } from '../../src/daemon/pricing/catalog.js';
import { catalogPriceAt, secondOfDay, usdToMicro } from '../../src/daemon/pricing/catalog-price.js';
import { PriceBook, resolve } from '../../src/daemon/pricing/price-book.js';
import { dearestPrice, priceAt } from '../../src/daemon/pricing/tiers.js';
import type { Usage } from '../../src/daemon/providers/types.js';
import type { ChannelType } from '../../src/shared/control-api.js';
import type { PriceRecord } from '../../src/daemon/store/types.js';
import { seededRandom } from '../support/seeded.js';

const require = createRequire(import.meta.url);
const pkgDir = path.dirname(path.dirname(require.resolve('@pydantic/genai-prices')));
const VERSION = (
  JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { version: string }
).version;
const NOW = Date.now();

function usage(input: number, output: number, cached = 0, writes = 0): Usage {
  return {
    inputTokens: input,
    outputTokens: output,
    cachedTokens: cached,
    cacheWriteTokens: writes,
    reasoningTokens: 0,
  };
}

/** The catalog's own answer, in micro-USD. */
function oracle(u: Usage, model: string, provider: string, at = NOW): number {
  const r = calcPrice(
    {
      input_tokens: u.inputTokens,
      cache_read_tokens: u.cachedTokens,
      cache_write_tokens: u.cacheWriteTokens,
      output_tokens: u.outputTokens,
    },
    model,
    { providerId: provider, timestamp: new Date(at) },
  );
  if (!r) throw new Error(`the catalog does not price ${provider}/${model}`);
  return Math.round(r.total_price * 1_000_000);
}

function priced(model: string, type: ChannelType, at = NOW): PriceRecord {
  const p = resolve(model, [type], at).price;
  if (!p) throw new Error(`${model} is unpriced`);
  return p;
}

describe('current models are priced by the catalog, without any override', () => {
  it.each([
    ['claude-opus-4-8', 'anthropic', 'anthropic'],
    ['claude-sonnet-4-5', 'anthropic', 'anthropic'],
    ['claude-haiku-4-5', 'anthropic', 'anthropic'],
    ['claude-opus-4-5-20251101', 'anthropic', 'anthropic'],
    ['gemini-3-pro-preview', 'gemini', 'google'],
    ['gpt-5.1', 'openai', 'openai'],
    ['gpt-4o', 'azure', 'azure'],
    ['us.anthropic.claude-opus-4-8-v1:0', 'bedrock', 'aws'],
    ['deepseek-chat', 'deepseek', 'deepseek'],
    ['grok-4', 'xai', 'x-ai'],
    ['mistral-large-latest', 'mistral', 'mistral'],
  ] as const)('%s on a %s channel', (model, type, provider) => {
    const p = priced(model, type);
    expect(p.source).toBe(`catalog@${VERSION}`);
    const u = usage(12_345, 678, 1_000, 2_000);
    // calcPrice adds float USD, so a half-micro-dollar tie can round either way on its side
    expect(Math.abs(costOf(u, p, 1) - oracle(u, model, provider))).toBeLessThanOrEqual(1);
    expect(Number.isSafeInteger(p.input) && Number.isSafeInteger(p.output)).toBe(true);
  });

  it('names the catalog version in force as the source', () => {
    expect(catalogSource()).toBe(`catalog@${VERSION}`);
  });

  it('leaves self-hosted channels unpriced, and matches an openai-compatible one by name', () => {
    expect(resolve('claude-opus-4-8', ['ollama'], NOW).price).toBeUndefined();
    expect(resolve('llama3', ['vllm'], NOW).price).toBeUndefined();
    expect(resolve('claude-opus-4-8', ['openai-compatible'], NOW).price?.source).toBe(`catalog@${VERSION}`);
    expect(resolve('no-such-model-anywhere', ['openai'], NOW).price).toBeUndefined();
  });
});

describe('the gateway bills what the catalog calculates', () => {
  const PROVIDERS: [string, ChannelType][] = [
    ['anthropic', 'anthropic'],
    ['openai', 'openai'],
    ['google', 'gemini'],
    ['deepseek', 'deepseek'],
    ['x-ai', 'xai'],
    ['mistral', 'mistral'],
  ];

  it.each(PROVIDERS)('every %s model, random usage on both sides of its tiers', (provider, type) => {
    const rand = seededRandom(provider.length * 7919);
    let compared = 0;
    for (const m of findProvider({ providerId: provider })!.models) {
      const p = resolve(m.id, [type], NOW);
      if (!p.price || p.catalogModel !== m.id) continue;
      for (let i = 0; i < 4; i++) {
        const input = Math.floor(rand() * (i % 2 === 0 ? 150_000 : 600_000));
        const cached = Math.floor(rand() * input * 0.5);
        const writes = p.price.cacheWrite === null ? 0 : Math.floor(rand() * (input - cached) * 0.5);
        const u = usage(input, Math.floor(rand() * 30_000), cached, writes);
        // calcPrice works in float USD: a difference of one micro-dollar is its rounding, not ours
        expect(
          Math.abs(costOf(u, p.price, 1) - oracle(u, m.id, provider)),
          `${provider}/${m.id}`,
        ).toBeLessThanOrEqual(1);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(8);
  });

  it('applies the long-context tier to the whole request once input passes it', () => {
    const p = priced('gemini-3-pro-preview', 'gemini');
    expect(p.tiers?.length).toBeGreaterThan(0);
    const small = usage(200_000, 1_000);
    const large = usage(200_001, 1_000);
    expect(costOf(small, p, 1)).toBe(oracle(small, 'gemini-3-pro-preview', 'google'));
    expect(costOf(large, p, 1)).toBe(oracle(large, 'gemini-3-pro-preview', 'google'));
    expect(costOf(large, p, 1)).toBeGreaterThan(costOf(small, p, 1) * 1.5);
  });

  it('reserves at the dearest tier, so a reservation never falls short of the bill', () => {
    const p = priced('gemini-3-pro-preview', 'gemini');
    const dear = dearestPrice(p);
    expect(dear.input).toBeGreaterThan(p.input);
    expect(dear.output).toBeGreaterThan(p.output);
    for (const input of [150_000, 250_000]) {
      const reserved = worstCaseCost(input, 8_000, p, 1);
      expect(reserved).toBe(Math.ceil((input * dear.input + 8_000 * dear.output) / 1_000_000));
      for (const cached of [0, input / 2])
        expect(costOf(usage(input, 8_000, cached), p, 1)).toBeLessThanOrEqual(reserved);
    }
    // at the base price alone, a request above the threshold would cost more than was reserved
    const flat = { ...p, tiers: [] };
    expect(costOf(usage(250_000, 8_000), p, 1)).toBeGreaterThan(worstCaseCost(250_000, 8_000, flat, 1));
    expect(priceAt(p, 10).input).toBe(p.input);
  });
});

describe('dated and time-of-day prices', () => {
  const dated = {
    id: 'm',
    match: { equals: 'm' },
    prices: [
      { prices: { input_mtok: 1, output_mtok: 2 } },
      {
        constraint: { type: 'start_date' as const, start_date: '2030-01-01' },
        prices: { input_mtok: 3, output_mtok: 4 },
      },
    ],
  };

  it('applies the price in force and says until when', () => {
    const before = Date.parse('2029-12-31T23:00:00Z');
    const at = catalogPriceAt(dated, before)!;
    expect(at.price.input).toBe(1_000_000);
    expect(at.until).toBe(Date.parse('2030-01-01T00:00:00Z'));
    expect(catalogPriceAt(dated, at.until)!.price.input).toBe(3_000_000);
    expect(catalogPriceAt(dated, at.until)!.until).toBe(Infinity);
  });

  it('follows a time-of-day window, agreeing with the catalog at peak and off-peak', () => {
    const peak = Date.parse('2026-12-07T10:00:00Z');
    const offPeak = Date.parse('2026-12-07T20:00:00Z');
    const u = usage(100_000, 2_000, 10_000);
    const a = priced('deepseek-chat', 'deepseek', peak);
    const b = priced('deepseek-chat', 'deepseek', offPeak);
    expect(a.input).not.toBe(b.input);
    expect(costOf(u, a, 1)).toBe(oracle(u, 'deepseek-chat', 'deepseek', peak));
    expect(costOf(u, b, 1)).toBe(oracle(u, 'deepseek-chat', 'deepseek', offPeak));
  });

  it('a price book re-resolves once the price in force changes', () => {
    const book = new PriceBook([], new Map([['deepseek-chat', ['deepseek']]]));
    const peak = Date.parse('2026-12-07T10:00:00Z');
    const first = book.get('deepseek-chat', peak)!;
    expect(book.get('deepseek-chat', peak + 60_000)).toBe(first);
    const later = book.get('deepseek-chat', Date.parse('2026-12-07T20:00:00Z'))!;
    expect(later.input).toBe(priced('deepseek-chat', 'deepseek', Date.parse('2026-12-07T20:00:00Z')).input);
    expect(later.input).not.toBe(first.input);
  });

  it('reads times of day with offsets', () => {
    expect(secondOfDay('00:30:00Z')).toBe(1_800);
    expect(secondOfDay('08:00:00+08:00')).toBe(0);
    expect(secondOfDay('23:00:00-02:00')).toBe(3_600);
    expect(() => secondOfDay('25:00')).toThrow(/invalid time of day/);
  });
});

describe('money from the catalog', () => {
  it('turns decimal USD into integer micro-USD exactly, half up past six decimals', () => {
    expect(usdToMicro(0.075)).toBe(75_000);
    expect(usdToMicro(0.175)).toBe(175_000);
    expect(usdToMicro(2.19)).toBe(2_190_000);
    expect(usdToMicro(37.5)).toBe(37_500_000);
    // 1.005 * 1e6 is 1004999.9999999999 in floats: multiplying would drift
    expect(usdToMicro(1.005)).toBe(1_005_000);
    expect(usdToMicro(1.001)).toBe(1_001_000);
    expect(usdToMicro(0.08333333333333334)).toBe(83_333);
    expect(usdToMicro(0.0000005)).toBe(1);
    expect(usdToMicro(0.0000004)).toBe(0);
    expect(usdToMicro(0)).toBe(0);
    expect(() => usdToMicro(-1)).toThrow();
  });

  it('every served model of the main providers has integer prices', () => {
    for (const [provider, type] of [
      ['anthropic', 'anthropic'],
      ['google', 'gemini'],
      ['aws', 'bedrock'],
    ] as const) {
      for (const m of findProvider({ providerId: provider })!.models) {
        const p = resolve(m.id, [type], NOW).price;
        if (!p) continue;
        for (const v of [p.input, p.output, p.cacheRead ?? 0, p.cacheWrite ?? 0])
          expect(Number.isSafeInteger(v)).toBe(true);
      }
    }
  });
});

describe('overrides and output limits', () => {
  const override: PriceRecord = {
    model: 'claude-opus-4-8',
    input: 1,
    output: 2,
    cacheRead: null,
    cacheWrite: null,
    perRequest: null,
    maxOutputTokens: null,
    source: 'override',
  };

  it('an override wins over the catalog and keeps the model output limit', () => {
    const book = new PriceBook([override], new Map([['claude-opus-4-8', ['anthropic']]]));
    const p = book.get('claude-opus-4-8')!;
    expect(p).toMatchObject({ input: 1, output: 2, source: 'override' });
    expect(p.maxOutputTokens).toBe(getModelByFullName('claude-opus-4-8')?.maxOutputTokens);
    expect(book.catalogModel('claude-opus-4-8')).toBeUndefined();
  });

  it('an unserved model has no catalog price (only an override)', () => {
    const book = new PriceBook([], new Map());
    expect(book.get('claude-opus-4-8')).toBeUndefined();
  });

  it('takes output limits from llm-zoo, by the catalog model a name is priced as', () => {
    for (const name of ['claude-opus-4-8', 'gemini-3-pro-preview', 'gpt-4o-mini-2024-07-18']) {
      const type: ChannelType = name.startsWith('claude')
        ? 'anthropic'
        : name.startsWith('gemini')
          ? 'gemini'
          : 'openai';
      expect(priced(name, type).maxOutputTokens, name).toBe(getModelByFullName(name)?.maxOutputTokens ?? -1);
    }
    // a dated name and a Bedrock id find the limit of the model they are priced as
    expect(priced('claude-opus-4-5-20251101', 'anthropic').maxOutputTokens).toBe(
      getModelByFullName('claude-opus-4-5')?.maxOutputTokens,
    );
    expect(priced('us.anthropic.claude-opus-4-8-v1:0', 'bedrock').maxOutputTokens).toBe(
      getModelByFullName('claude-opus-4-8')?.maxOutputTokens,
    );
    expect(matchCatalog('claude-opus-4-5-20251101', ['anthropic'])?.model.id).toBe('claude-opus-4-5');
  });
});
