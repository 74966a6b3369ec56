// Our own price supplement (data/prices.json): it loads, converts USD per 1M exactly to micro-USD,
// prices only what the catalog lacks, and broken files are refused with a reason. And the
// store migration that turned the seeded default rows into catalog prices keeps user overrides.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { matchCatalog } from '../../src/daemon/pricing/catalog.js';
import { resolve } from '../../src/daemon/pricing/price-book.js';
import { loadSupplement, parseSupplement } from '../../src/daemon/pricing/supplement.js';
import { openSqliteDatabase } from '../../src/daemon/store/sqlite/database.js';
import { MIGRATIONS } from '../../src/daemon/store/sqlite/migrations.js';
import { openSqliteStore } from '../../src/daemon/store/sqlite/store.js';

describe('loadSupplement', () => {
  const table = loadSupplement();

  it('is dated and prices Qwen, which the catalog does not list, in integer micro-USD', () => {
    expect(table.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(table.rows.map((r) => r.model)).toEqual(['qwen-max', 'qwen-plus', 'qwen-turbo', 'qwen3-max']);
    for (const r of table.rows) {
      expect(r.source).toBe(`supplement@${table.asOf}`);
      expect(matchCatalog(r.model, ['qwen']), r.model).toBeUndefined();
      for (const v of [r.input, r.output, r.cacheRead, r.cacheWrite, r.perRequest]) {
        if (v !== null) expect(Number.isSafeInteger(v) && v >= 0, r.model).toBe(true);
      }
      expect(r.maxOutputTokens, r.model).toBeGreaterThan(0);
    }
    expect(table.rows.find((r) => r.model === 'qwen-turbo')).toMatchObject({
      input: 50_000,
      output: 200_000,
    });
  });

  it('is what a Qwen channel bills, and lends output limits the packages lack', () => {
    expect(resolve('qwen-max', ['qwen'], Date.now()).price).toEqual(table.rows[0]);
    // gemini-2.0-flash is priced by the catalog; only its output limit comes from the supplement
    const flash = resolve('gemini-2.0-flash', ['gemini'], Date.now()).price;
    expect(flash?.source).toMatch(/^catalog@/);
    expect(flash?.maxOutputTokens).toBe(table.outputLimits.get('gemini-2.0-flash'));
  });
});

describe('parseSupplement', () => {
  const ok = { as_of: '2026-01-01', models: { m: { input: 1.25, output: 0.000001, max_output_tokens: 10 } } };

  it('accepts a minimal valid table', () => {
    expect(parseSupplement(ok)).toEqual({
      asOf: '2026-01-01',
      rows: [
        {
          model: 'm',
          input: 1_250_000,
          output: 1,
          cacheRead: null,
          cacheWrite: null,
          perRequest: null,
          maxOutputTokens: 10,
          source: 'supplement@2026-01-01',
        },
      ],
      outputLimits: new Map(),
    });
    expect(parseSupplement({ ...ok, output_limits: { x: 5 } }).outputLimits).toEqual(new Map([['x', 5]]));
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
    ['bad output limit', { as_of: '2026-01-01', models: {}, output_limits: { m: 0 } }, /"max_output_tokens"/],
    [
      'output limits not an object',
      { as_of: '2026-01-01', models: {}, output_limits: [] },
      /"output_limits"/,
    ],
  ])('refuses %s', (_name, raw, reason) => {
    expect(() => parseSupplement(raw)).toThrow(reason);
  });
});

describe('migration 3: prices are overrides of the catalog', () => {
  it('drops the seeded defaults and the tombstones, keeps the user prices as overrides', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-'));
    const file = path.join(dir, 'bc.db');
    try {
      openSqliteDatabase(file, MIGRATIONS.slice(0, 2)).close();
      const old = new Database(file);
      const insert = old.prepare('INSERT INTO prices (model, input, output, source) VALUES (?, ?, ?, ?)');
      insert.run('gpt-4o', 2_500_000, 10_000_000, 'default');
      insert.run('claude-opus-4', 15_000_000, 75_000_000, 'default');
      insert.run('mine', 1, 2, 'user');
      old.prepare('INSERT INTO price_tombstones (model) VALUES (?)').run('claude-sonnet-4');
      old.close();
      const store = openSqliteStore(file);
      try {
        expect(await store.listPrices()).toEqual([
          expect.objectContaining({ model: 'mine', input: 1, output: 2, source: 'override' }),
        ]);
      } finally {
        await store.close();
      }
      const after = new Database(file, { readonly: true });
      const tables = after.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").pluck().all();
      after.close();
      expect(tables).not.toContain('price_tombstones');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
