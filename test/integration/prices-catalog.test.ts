/**
 * Today's models priced, through a real daemon process and the real `bc` binary, with the official
 * Anthropic, Google and OpenAI clients: Claude Code's default model (claude-opus-4-8) and
 * gemini-3-pro-preview are priced by the catalog package with no `bc price set`, so a key with a
 * budget is admitted and each log row costs exactly what the catalog's own calculator says for
 * the row's tokens; `bc price list` shows `catalog@VERSION`, an override wins and shows
 * `override`, and a self-hosted model is `unpriced`: refused to a budgeted key, served to an
 * unbudgeted one with cost null, and shown by `bc usage` as unpriced, never $0.00.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { calcPrice } from '@pydantic/genai-prices';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogRow, PriceView, UsageRow } from '../../src/shared/control-api.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { startAnthropicSim, type AnthropicSim } from '../support/sim/anthropic-sim.js';
import { startGeminiSim, type GeminiSim } from '../support/sim/gemini-sim.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';

const require = createRequire(import.meta.url);
const CATALOG_DIR = path.dirname(path.dirname(require.resolve('@pydantic/genai-prices')));
const VERSION = (
  JSON.parse(fs.readFileSync(path.join(CATALOG_DIR, 'package.json'), 'utf8')) as { version: string }
).version;

const OPUS = 'claude-opus-4-8';
const GEMINI = 'gemini-3-pro-preview';
const LOCAL = 'llama-local';

let d: TestDaemon;
let an: AnthropicSim;
let gm: GeminiSim;
let oa: OpenAISim;
let budgeted = '';
let free = '';

async function json<T>(args: string[]): Promise<T> {
  const r = await d.bc([...args, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
}

async function ok(args: string[]): Promise<string> {
  const r = await d.bc(args);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

/** What the catalog's own calculator charges for a row's tokens, in micro-USD. */
function catalogCost(row: LogRow, provider: string): number {
  const r = calcPrice(
    {
      input_tokens: row.input_tokens,
      cache_read_tokens: row.cached_tokens,
      cache_write_tokens: row.cache_write_tokens,
      output_tokens: row.output_tokens,
    },
    row.upstream_model ?? row.model,
    { providerId: provider, timestamp: new Date(row.time) },
  );
  if (!r) throw new Error(`the catalog does not price ${row.model}`);
  return Math.round(r.total_price * 1_000_000);
}

/** USD per 1M tokens of a catalog price, in micro-USD (the catalog's calculator on 1M tokens). */
function perMillion(model: string, provider: string, unit: 'input_tokens' | 'output_tokens'): number {
  return Math.round(
    calcPrice({ [unit]: 1_000_000 }, model, { providerId: provider })!.total_price * 1_000_000,
  );
}

async function opus(secret: string): Promise<void> {
  const client = new Anthropic({ apiKey: secret, baseURL: d.gatewayUrl, maxRetries: 0 });
  const msg = await client.messages.create({
    model: OPUS,
    max_tokens: 1024,
    messages: [{ role: 'user', content: 'hello' }],
  });
  expect(msg.content.length).toBeGreaterThan(0);
}

async function rowsOf(key: string, model: string): Promise<LogRow[]> {
  return (await json<LogRow[]>(['logs', '--key', key, '--model', model])).sort((a, b) => a.id - b.id);
}

beforeAll(async () => {
  [an, gm, oa, d] = await Promise.all([
    startAnthropicSim({ apiKey: 'sk-ant-up' }),
    startGeminiSim(),
    startOpenAISim(),
    startTestDaemon(),
  ]);
  const add = (name: string, type: string, key: string, model: string, url: string) =>
    ok([
      'channel',
      'add',
      '--name',
      name,
      '--type',
      type,
      '--key',
      key,
      '--models',
      model,
      '--base-url',
      url,
    ]);
  await add('anth', 'anthropic', 'sk-ant-up', OPUS, an.url);
  await add('gem', 'gemini', 'g-up', GEMINI, gm.url);
  await add('local', 'vllm', 'sk-local', LOCAL, oa.url);
  budgeted = (await json<{ key: string }>(['key', 'create', '--name', 'budgeted', '--budget', '20'])).key;
  free = (await json<{ key: string }>(['key', 'create', '--name', 'free'])).key;
});

afterAll(async () => {
  await Promise.all([d?.cleanup(), an?.close(), gm?.close(), oa?.close()]);
});

describe('catalog prices, with no bc price set', () => {
  it(`${OPUS} (Claude Code's default) is admitted on a budget and billed at the catalog's price`, async () => {
    await opus(budgeted);
    const [row] = await rowsOf('budgeted', OPUS);
    expect(row).toMatchObject({ status: 200, channel: 'anth', model: OPUS });
    expect(row!.cost).not.toBeNull();
    expect(row!.cost).toBeGreaterThan(0);
    expect(row!.cost).toBe(catalogCost(row!, 'anthropic'));
  });

  it(`${GEMINI} is admitted on a budget and billed at the catalog's price`, async () => {
    const ai = new GoogleGenAI({ apiKey: budgeted, httpOptions: { baseUrl: d.gatewayUrl } });
    const res = await ai.models.generateContent({ model: GEMINI, contents: 'hello' });
    expect(res.text?.length).toBeGreaterThan(0);
    const [row] = await rowsOf('budgeted', GEMINI);
    expect(row).toMatchObject({ status: 200, channel: 'gem', model: GEMINI });
    expect(row!.cost).toBeGreaterThan(0);
    expect(row!.cost).toBe(catalogCost(row!, 'google'));
  });

  it('bc price list shows every served model with its source, catalog rows as catalog@VERSION', async () => {
    const list = await json<PriceView[]>(['price', 'list']);
    expect(list.map((p) => p.model)).toEqual([GEMINI, OPUS, LOCAL].sort((a, b) => a.localeCompare(b)));
    const opusRow = list.find((p) => p.model === OPUS)!;
    expect(opusRow).toMatchObject({
      source: `catalog@${VERSION}`,
      input: perMillion(OPUS, 'anthropic', 'input_tokens'),
      output: perMillion(OPUS, 'anthropic', 'output_tokens'),
      catalog_model: OPUS,
      channels: ['anth'],
    });
    expect(opusRow.max_output_tokens).toBeGreaterThan(4096);
    const gem = list.find((p) => p.model === GEMINI)!;
    expect(gem.source).toBe(`catalog@${VERSION}`);
    expect(gem.tiers[0]?.above_input_tokens).toBe(200_000);
    expect(gem.tiers[0]!.input).toBeGreaterThan(gem.input!);
    const human = await ok(['price', 'list']);
    expect(human).toMatch(
      new RegExp(`\\n${OPUS}\\s+\\$5\\.00\\s+\\$25\\.00\\s.*catalog@${VERSION.replace(/\./g, '\\.')}`),
    );
    expect(human).toMatch(/over 200,000 in: \$4\.00\/\$18\.00/);
  });
});

describe('unpriced models', () => {
  it('are listed as unpriced, refused to a budgeted key, and served to an unbudgeted one at cost null', async () => {
    const list = await json<PriceView[]>(['price', 'list']);
    expect(list.find((p) => p.model === LOCAL)).toMatchObject({
      source: 'unpriced',
      input: null,
      output: null,
      channels: ['local'],
    });
    expect(await ok(['price', 'list'])).toMatch(new RegExp(`\\n${LOCAL}\\s+unpriced\\s+-\\s+-`));

    const refused = await new OpenAI({
      apiKey: budgeted,
      baseURL: `${d.gatewayUrl}/v1`,
      maxRetries: 0,
    }).chat.completions
      .create({ model: LOCAL, messages: [{ role: 'user', content: 'hi' }] })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(refused).toBeInstanceOf(OpenAI.APIError);
    expect((refused as InstanceType<typeof OpenAI.APIError>).status).toBe(403);
    expect((refused as InstanceType<typeof OpenAI.APIError>).code).toBe('model_not_priced');

    const served = await new OpenAI({
      apiKey: free,
      baseURL: `${d.gatewayUrl}/v1`,
      maxRetries: 0,
    }).chat.completions.create({ model: LOCAL, messages: [{ role: 'user', content: 'hi' }] });
    expect(served.usage?.total_tokens).toBeGreaterThan(0);
    const [row] = await rowsOf('free', LOCAL);
    expect(row).toMatchObject({ status: 200, cost: null });
    expect(row!.output_tokens).toBeGreaterThan(0);
  });

  it('bc usage shows their spend as unpriced, never as $0.00', async () => {
    const usage = await json<UsageRow[]>(['usage', '--since', '1h']);
    expect(usage.find((r) => r.model === LOCAL)).toMatchObject({ cost: null, unpriced_requests: 1 });
    expect(usage.find((r) => r.model === OPUS)).toMatchObject({ unpriced_requests: 0 });
    const human = await ok(['usage', '--since', '1h']);
    const line = human.split('\n').find((l) => l.startsWith(LOCAL)) ?? '';
    expect(line).toMatch(/unpriced \(1 req\)$/);
    expect(line).not.toContain('$0.00');
    expect(human.split('\n').find((l) => l.startsWith('total'))).toMatch(/ \+ 1 unpriced$/);
  });
});

describe('overrides', () => {
  it('bc price set wins over the catalog, shows source override, and bills the request', async () => {
    expect(await ok(['price', 'set', OPUS, '--input', '1', '--output', '2'])).toBe(
      `${OPUS}: input $1.00, output $2.00 per 1M tokens (override)\n`,
    );
    const list = await json<PriceView[]>(['price', 'list']);
    expect(list.find((p) => p.model === OPUS)).toMatchObject({
      source: 'override',
      input: 1_000_000,
      output: 2_000_000,
      catalog_model: null,
    });
    await opus(budgeted);
    const row = (await rowsOf('budgeted', OPUS)).at(-1)!;
    // $1 and $2 per 1M tokens are 1 and 2 micro-USD a token; with no cache prices in the
    // override, cached tokens are billed as input
    expect(row.cost).toBe(row.input_tokens + 2 * row.output_tokens);
    expect(row.cost).toBeLessThan(catalogCost(row, 'anthropic'));
  });

  it('bc price rm removes the override and the catalog price applies again', async () => {
    const removed = await json<PriceView & { removed: boolean }>(['price', 'rm', OPUS]);
    expect(removed).toMatchObject({ removed: true, model: OPUS, source: 'override', input: 1_000_000 });
    const list = await json<PriceView[]>(['price', 'list']);
    expect(list.find((p) => p.model === OPUS)?.source).toBe(`catalog@${VERSION}`);
    const again = await d.bc(['price', 'rm', OPUS]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`has no override to remove: its price comes from catalog@${VERSION}`);
  });
});
