/**
 * Two ways a price could take spend past a key's budget (SPEC section 7), against the real gateway
 * and OpenAI simulators. An alias that one channel maps to an unpriced upstream model and another
 * to a priced one: a key with a budget is never served where its request would settle at cost
 * null, a key without one still is. A price raised tenfold while a request is in flight: the
 * request is billed at the price it was admitted (and reserved) at, so its budget holds, and the
 * next request pays the new price.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import type { KeyView, LogRow } from '../../src/shared/control-api.js';
import { eachStore } from '../support/store-matrix.js';

type Json = Record<string, unknown>;

let gw: TestGateway;
/** serves the alias as an unpriced upstream model, tried first (higher priority) */
let free: OpenAISim;
/** serves the alias as a priced upstream model */
let priced: OpenAISim;
/** answers after a delay, so that a price can change while a request is in flight */
let slow: OpenAISim;

const ALIAS = 'alias-mixed';
const UNPRICED_UP = 'bc-test-unpriced-upstream';
/** micro-USD per token, input and output alike */
const PRICED_UP = { model: 'bc-test-priced-upstream', perToken: 2 };
const SLOW = { model: 'bc-test-slow', perToken: 10 };
/** every output token the upstream is allowed: one one-byte piece per token */
const FILL = { 'x-sim-deltas': '100000', 'x-sim-delta-bytes': '1' };
const HELLO = [{ role: 'user', content: 'hello' }];

const setPrice = (model: string, perToken: number): Promise<unknown> =>
  gw.call('PUT', `/v1/prices/${model}`, {
    input: perToken * 1_000_000,
    output: perToken * 1_000_000,
    max_output_tokens: 1000,
  });

eachStore((store) => {
  beforeAll(async () => {
    [free, priced, slow] = await Promise.all([startOpenAISim(), startOpenAISim(), startOpenAISim()]);
    gw = await startGateway({ store });
    await gw.addChannel({
      name: 'free',
      type: 'openai',
      keys: ['sk-free'],
      models: [ALIAS],
      map: { [ALIAS]: UNPRICED_UP },
      priority: 10,
      base_url: free.url,
    });
    await gw.addChannel({
      name: 'priced',
      type: 'openai',
      keys: ['sk-priced'],
      models: [ALIAS],
      map: { [ALIAS]: PRICED_UP.model },
      priority: 0,
      base_url: priced.url,
    });
    await gw.call('PUT', '/v1/groups/ratio-test', { ratio: 1 });
    await gw.addChannel({
      name: 'slow',
      type: 'openai',
      keys: ['sk-slow'],
      models: [SLOW.model],
      groups: ['default', 'ratio-test'],
      base_url: slow.url,
    });
    await setPrice(PRICED_UP.model, PRICED_UP.perToken);
    await setPrice(SLOW.model, SLOW.perToken);
  });

  afterAll(async () => {
    await gw?.close();
    await Promise.all([free?.close(), priced?.close(), slow?.close()]);
  });

  let keys = 0;
  async function key(budget: number | null, group?: string): Promise<{ name: string; secret: string }> {
    const name = `pricing-${++keys}`;
    const input = budget === null ? { name } : { name, budget };
    return { name, secret: await gw.createKey(group ? { ...input, group } : input) };
  }

  /** Sends `body` on a slow upstream and runs `change` once the request is admitted and upstream. */
  async function inFlight(
    secret: string,
    body: Json,
    change: () => Promise<unknown>,
  ): Promise<{ status: number; body: Json }> {
    slow.setDelay(1500);
    const before = slow.callCount();
    const pending = chat(secret, body);
    while (slow.callCount() === before) await new Promise((r) => setTimeout(r, 10));
    await change();
    const a = await pending;
    slow.setDelay(0);
    return a;
  }

  async function chat(secret: string, body: Json): Promise<{ status: number; body: Json }> {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Json };
  }

  const rowsOf = (name: string): Promise<LogRow[]> =>
    gw.call<LogRow[]>('GET', `/v1/logs?key=${name}&limit=1000`);
  const spentOf = async (name: string): Promise<number> =>
    (await gw.call<KeyView>('GET', `/v1/keys/${name}`)).spent;
  const costAt = (r: LogRow, perToken: number): number => (r.input_tokens + r.output_tokens) * perToken;

  describe('an alias one channel maps to an unpriced upstream model', () => {
    it('serves a key with a budget only where it is priced: never settled at cost null', async () => {
      const k = await key(1_000_000);
      const before = free.callCount();
      const body = { model: ALIAS, messages: HELLO, max_tokens: 20, metadata: FILL };
      const answers = await Promise.all(Array.from({ length: 20 }, () => chat(k.secret, body)));
      expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
      expect(free.callCount()).toBe(before);
      const rows = await rowsOf(k.name);
      expect(rows).toHaveLength(20);
      for (const r of rows) {
        expect(r.channel).toBe('priced');
        expect(r.upstream_model).toBe(PRICED_UP.model);
        expect(r.output_tokens).toBe(20);
        expect(r.cost).toBe(costAt(r, PRICED_UP.perToken));
      }
      expect(await spentOf(k.name)).toBe(rows.reduce((n, r) => n + r.cost!, 0));
    });

    it('still serves a key without a budget on the unpriced channel, at cost null', async () => {
      const k = await key(null);
      const before = free.callCount();
      const a = await chat(k.secret, { model: ALIAS, messages: HELLO, max_tokens: 20 });
      expect(a.status).toBe(200);
      expect(free.callCount()).toBe(before + 1);
      const [row] = await rowsOf(k.name);
      expect(row?.channel).toBe('free');
      expect(row?.cost).toBeNull();
    });
  });

  describe('a price raised tenfold while a request is in flight', () => {
    it('bills the request at the price it was admitted at; the next one pays the new price', async () => {
      // the worst case at 10 per token (a few dozen prompt tokens, 50 out) fits; 10x the real cost does not
      const budget = 2000;
      const k = await key(budget);
      const body = { model: SLOW.model, messages: HELLO, max_tokens: 50, metadata: FILL };
      const a = await inFlight(k.secret, body, () => setPrice(SLOW.model, SLOW.perToken * 10));
      expect(a.status).toBe(200);
      const [row] = await rowsOf(k.name);
      expect(row?.output_tokens).toBe(50);
      expect(row?.cost).toBe(costAt(row!, SLOW.perToken));
      // ten times that would have passed the budget
      expect(costAt(row!, SLOW.perToken * 10)).toBeGreaterThan(budget);
      const spent = await spentOf(k.name);
      expect(spent).toBe(row?.cost);
      expect(spent).toBeLessThanOrEqual(budget);

      // the next request is admitted and billed at the new price
      const rich = await key(1_000_000);
      expect((await chat(rich.secret, body)).status).toBe(200);
      const [next] = await rowsOf(rich.name);
      expect(next?.cost).toBe(costAt(next!, SLOW.perToken * 10));
      // and the first key's budget cannot cover it at the new price
      expect((await chat(k.secret, body)).status).toBe(403);
      expect(await spentOf(k.name)).toBe(spent);
    });

    it('bills at the group ratio in force at admission when the ratio changes in flight', async () => {
      const budget = 10_000;
      const k = await key(budget, 'ratio-test');
      const price = SLOW.perToken * 10; // the price the test above left
      const body = { model: SLOW.model, messages: HELLO, max_tokens: 50, metadata: FILL };
      const a = await inFlight(k.secret, body, () => gw.call('PUT', '/v1/groups/ratio-test', { ratio: 10 }));
      expect(a.status).toBe(200);
      const [row] = await rowsOf(k.name);
      expect(row?.cost).toBe(costAt(row!, price));
      expect(costAt(row!, price * 10)).toBeGreaterThan(budget);
      expect(await spentOf(k.name)).toBe(row?.cost);
      // the next request of the group pays the new ratio
      const rich = await key(10_000_000, 'ratio-test');
      expect((await chat(rich.secret, body)).status).toBe(200);
      const [next] = await rowsOf(rich.name);
      expect(next?.cost).toBe(costAt(next!, price * 10));
    });
  });
});
