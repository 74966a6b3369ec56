/**
 * The gateway's own endpoints: liveness and readiness (503 while draining), One API's billing
 * endpoints reporting the key's budget and spend (refused for a disabled or IP-restricted key),
 * and framework-level errors (unknown route) answered in the caller's shape with an x-request-id.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';

let gw: TestGateway;
let sim: OpenAISim;

beforeAll(async () => {
  sim = await startOpenAISim();
  gw = await startGateway();
  await gw.addChannel({
    name: 'sim',
    type: 'openai',
    keys: ['sk-up-000000000000'],
    models: ['m'],
    base_url: sim.url,
  });
  await gw.call('PUT', '/v1/prices/m', { input: 10_000_000, output: 20_000_000 });
});

afterAll(async () => {
  await gw.close();
  await sim.close();
});

const get = (path: string, key?: string): Promise<Response> =>
  fetch(`${gw.url}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });

describe('system endpoints', () => {
  it('answers /healthz, and /readyz with 503 while draining', async () => {
    expect(await (await get('/healthz')).json()).toEqual({ status: 'ok' });
    expect((await get('/readyz')).status).toBe(200);
    gw.services.gateway.accepting = false;
    try {
      expect((await get('/readyz')).status).toBe(503);
    } finally {
      gw.services.gateway.accepting = true;
    }
  });

  it("refuses new relay requests with 503 and closes the connection while draining, in the caller's shape", async () => {
    gw.services.gateway.accepting = false;
    try {
      for (const [path, shape] of [
        ['/v1/chat/completions', 'openai'],
        ['/v1/messages', 'anthropic'],
      ] as const) {
        const res = await fetch(`${gw.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        });
        expect(res.status).toBe(503);
        expect(res.headers.get('connection')).toBe('close');
        expect(res.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{32}$/);
        const body = (await res.json()) as { type?: string; error: { message: string } };
        expect(body.error.message).toMatch(/shutting down/);
        if (shape === 'anthropic') expect(body.type).toBe('error');
      }
    } finally {
      gw.services.gateway.accepting = true;
    }
  });

  it('reports the key budget and spend on the One API billing endpoints', async () => {
    const key = await gw.createKey({ name: 'billed', budget: 5_000_000 });
    const sub = (await (await get('/v1/dashboard/billing/subscription', key)).json()) as {
      hard_limit_usd: number;
    };
    expect(sub.hard_limit_usd).toBe(5);
    const chat = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(chat.status).toBe(200);
    const [row] = await gw.call<{ cost: number }[]>('GET', '/v1/logs?key=billed&limit=1');
    const usage = (await (await get('/v1/dashboard/billing/usage', key)).json()) as { total_usage: number };
    // One API reports cents
    expect(usage.total_usage).toBeCloseTo((row!.cost / 1_000_000) * 100, 10);
    expect(usage.total_usage).toBeGreaterThan(0);
  });

  it('refuses the billing endpoints to unknown, disabled and IP-restricted keys', async () => {
    expect((await get('/v1/dashboard/billing/usage', 'sk-bc-nope')).status).toBe(401);
    const off = await gw.createKey({ name: 'off' });
    await gw.call('POST', '/v1/keys/off/disable');
    const r = await get('/v1/dashboard/billing/usage', off);
    expect(r.status).toBe(403);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('key_disabled');
    const far = await gw.createKey({ allow_ips: ['10.0.0.0/8'] });
    const f = await get('/v1/dashboard/billing/subscription', far);
    expect(((await f.json()) as { error: { code: string } }).error.code).toBe('ip_not_allowed');
  });

  it('answers an unknown route in the caller protocol shape with an x-request-id', async () => {
    const openai = await get('/v1/nope');
    expect(openai.status).toBe(404);
    expect(openai.headers.get('x-request-id')).toMatch(/^req_/);
    expect(((await openai.json()) as { error: { code: string } }).error.code).toBe('not_found');
    const anthropic = await fetch(`${gw.url}/v1/messages/nope`, { method: 'POST' });
    expect(((await anthropic.json()) as { type: string }).type).toBe('error');
  });
});
