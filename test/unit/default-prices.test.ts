// The shipped default price table: it loads, converts USD per 1M exactly to micro-USD, covers the
// models the README promises, and broken tables are refused with a reason.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDefaultPrices, parseDefaultPrices } from '../../src/daemon/store/default-prices.js';
import { openSqliteStore } from '../../src/daemon/store/sqlite/store.js';

const EXPECTED_MODELS = [
  'gpt-4o',
  'gpt-4o-mini',
  'gpt-4.1',
  'gpt-4.1-mini',
  'gpt-4.1-nano',
  'o3',
  'o4-mini',
  'gpt-5',
  'gpt-5-mini',
  'gpt-5-nano',
  'text-embedding-3-small',
  'text-embedding-3-large',
  'claude-opus-4',
  'claude-sonnet-4',
  'claude-3-5-haiku',
  'claude-3-7-sonnet',
  'gemini-2.5-pro',
  'gemini-2.5-flash',
  'gemini-2.0-flash',
  'deepseek-chat',
  'deepseek-reasoner',
  'qwen-max',
  'qwen-plus',
  'qwen-turbo',
  'qwen3-max',
  'mistral-large-latest',
  'mistral-small-latest',
  'grok-4',
  'grok-3',
  'grok-3-mini',
];

describe('loadDefaultPrices', () => {
  const table = loadDefaultPrices();
  const byModel = new Map(table.rows.map((r) => [r.model, r]));

  it('is dated and covers the promised models with integer micro-USD prices', () => {
    expect(table.asOf).toBe('2026-11-01');
    for (const m of EXPECTED_MODELS) expect(byModel.has(m), m).toBe(true);
    for (const r of table.rows) {
      expect(r.source).toBe('default');
      for (const v of [r.input, r.output, r.cacheRead, r.cacheWrite, r.perRequest]) {
        if (v !== null) expect(Number.isSafeInteger(v) && v >= 0, r.model).toBe(true);
      }
      if (!r.model.startsWith('text-embedding')) expect(r.maxOutputTokens, r.model).toBeGreaterThan(0);
    }
  });

  it('converts floats exactly, e.g. 0.075 USD -> 75000 micro-USD', () => {
    expect(byModel.get('gpt-4o-mini')).toMatchObject({ input: 150_000, output: 600_000, cacheRead: 75_000 });
    expect(byModel.get('claude-sonnet-4')).toMatchObject({ cacheRead: 300_000, cacheWrite: 3_750_000 });
    expect(byModel.get('o4-mini')).toMatchObject({ input: 1_100_000, output: 4_400_000, cacheRead: 275_000 });
  });

  it('gives every Anthropic model cache read and write prices', () => {
    for (const r of table.rows.filter((x) => x.model.startsWith('claude-'))) {
      expect(r.cacheRead, r.model).not.toBeNull();
      expect(r.cacheWrite, r.model).not.toBeNull();
    }
  });

  it('seeds a fresh store with every row', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-'));
    const store = openSqliteStore(path.join(dir, 'bc.db'));
    try {
      expect(await store.seedPrices(table.rows)).toBe(table.rows.length);
      expect(await store.getPrice('gpt-4o')).toEqual(byModel.get('gpt-4o'));
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('parseDefaultPrices', () => {
  const ok = { as_of: '2026-01-01', models: { m: { input: 1.25, output: 0.000001, max_output_tokens: 10 } } };

  it('accepts a minimal valid table', () => {
    expect(parseDefaultPrices(ok).rows).toEqual([
      {
        model: 'm',
        input: 1_250_000,
        output: 1,
        cacheRead: null,
        cacheWrite: null,
        perRequest: null,
        maxOutputTokens: 10,
        source: 'default',
      },
    ]);
  });

  it.each([
    ['not an object', [], /expected a JSON object/],
    ['no date', { models: {} }, /"as_of"/],
    ['no models', { as_of: '2026-01-01' }, /"models"/],
    [
      'missing output',
      { as_of: '2026-01-01', models: { m: { input: 1 } } },
      /model "m": "output" is required/,
    ],
    ['negative', { as_of: '2026-01-01', models: { m: { input: -1, output: 1 } } }, /"input" must be/],
    ['too precise', { as_of: '2026-01-01', models: { m: { input: 1e-7, output: 1 } } }, /"input" must be/],
    ['string price', { as_of: '2026-01-01', models: { m: { input: '1', output: 1 } } }, /"input" must be/],
    [
      'bad max tokens',
      { as_of: '2026-01-01', models: { m: { input: 1, output: 1, max_output_tokens: 1.5 } } },
      /"max_output_tokens"/,
    ],
  ])('refuses %s', (_name, raw, reason) => {
    expect(() => parseDefaultPrices(raw)).toThrow(reason);
  });
});
