/**
 * Admission and money through the real gateway: key checks (401/403 codes), RPM/TPM/concurrency
 * limits with Retry-After and x-ratelimit-* headers, exact cost per SPEC section 7, unpriced models,
 * budgets under 100 concurrent requests, and hostile bodies answered 400/400/413 while serving on.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import type { KeyView, LogRow } from '../../src/shared/control-api.js';
import { eachStore } from '../support/store-matrix.js';

let gw: TestGateway;
let sim: OpenAISim;

eachStore((store) => {
  beforeAll(async () => {
    sim = await startOpenAISim();
    gw = await startGateway({ store, env: { BC_BODY_LIMIT: String(64 * 1024) } });
    await gw.addChannel({
      name: 'sim',
      type: 'openai',
      keys: ['sk-up-000000000000'],
      models: ['priced', 'free'],
      base_url: sim.url,
    });
    // $10 / $20 per 1M tokens, cache reads at $1
    await gw.call('PUT', '/v1/prices/priced', {
      input: 10_000_000,
      output: 20_000_000,
      cache_read: 1_000_000,
    });
  });

  afterAll(async () => {
    await gw.close();
    await sim.close();
  });

  interface Answer {
    status: number;
    headers: Headers;
    body: { error?: { code: string; message: string; param: string | null }; usage?: Record<string, number> };
  }

  async function chat(
    key: string | undefined,
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer> {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...headers,
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Answer['body'] };
  }

  const msg = (model = 'priced', extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    model,
    messages: [{ role: 'user', content: 'hello' }],
    ...extra,
  });

  async function logsOf(keyName: string): Promise<LogRow[]> {
    return gw.call<LogRow[]>('GET', `/v1/logs?key=${keyName}&limit=1000`);
  }

  describe('client keys', () => {
    it('answers 401 invalid_api_key for a missing or unknown key, without a log row', async () => {
      for (const key of [undefined, 'sk-bc-unknown']) {
        const r = await chat(key, msg());
        expect(r.status).toBe(401);
        expect(r.body.error?.code).toBe('invalid_api_key');
      }
    });

    it('stops serving a secret the moment its key is disabled, rotated or revoked, even one it has just served', async () => {
      const key = await gw.createKey({ name: 'k-live' });
      expect((await chat(key, msg('free'))).status).toBe(200);
      expect((await chat(key, msg('free'))).status).toBe(200);
      await gw.call('POST', '/v1/keys/k-live/disable');
      const refused = await chat(key, msg('free'));
      expect(refused.status).toBe(403);
      expect(refused.body.error?.code).toBe('key_disabled');
      await gw.call('POST', '/v1/keys/k-live/enable');
      expect((await chat(key, msg('free'))).status).toBe(200);
      const rotated = await gw.call<{ key: string }>('POST', '/v1/keys/k-live/rotate');
      const old = await chat(key, msg('free'));
      expect(old.status).toBe(401);
      expect(old.body.error?.code).toBe('invalid_api_key');
      expect((await chat(rotated.key, msg('free'))).status).toBe(200);
      await gw.call('POST', '/v1/keys/k-live/revoke');
      const revoked = await chat(rotated.key, msg('free'));
      expect(revoked.status).toBe(403);
      expect(revoked.body.error?.code).toBe('key_disabled');
    });

    it('refuses disabled, expired, IP- and model-restricted keys with 403 and a code that says which', async () => {
      const disabled = await gw.createKey({ name: 'k-disabled' });
      await gw.call('POST', '/v1/keys/k-disabled/disable');
      const expired = await gw.createKey({
        name: 'k-expired',
        expires_at: new Date(Date.now() + 50).toISOString(),
      });
      await new Promise((r) => setTimeout(r, 80));
      const ip = await gw.createKey({ name: 'k-ip', allow_ips: ['10.0.0.0/8'] });
      const model = await gw.createKey({ name: 'k-model', models: ['free'] });
      const expectations: [string, string][] = [
        [disabled, 'key_disabled'],
        [expired, 'key_expired'],
        [ip, 'ip_not_allowed'],
        [model, 'model_not_allowed'],
      ];
      for (const [key, code] of expectations) {
        const r = await chat(key, msg());
        expect(r.status, code).toBe(403);
        expect(r.body.error?.code).toBe(code);
      }
      const local = await gw.createKey({ name: 'k-local', allow_ips: ['127.0.0.0/8', '::1'] });
      expect((await chat(local, msg())).status).toBe(200);
      expect((await logsOf('k-ip'))[0]?.status).toBe(403);
    });

    it('answers 404 model_not_found when no channel serves the model', async () => {
      const r = await chat(await gw.createKey(), msg('nope'));
      expect(r.status).toBe(404);
      expect(r.body.error?.code).toBe('model_not_found');
    });
  });

  describe('rate limits', () => {
    it('enforces RPM with 429, Retry-After and x-ratelimit headers', async () => {
      const key = await gw.createKey({ name: 'k-rpm', rpm: 3 });
      for (let i = 0; i < 3; i++) expect((await chat(key, msg('free'))).status).toBe(200);
      const r = await chat(key, msg('free'));
      expect(r.status).toBe(429);
      expect(r.body.error?.code).toBe('rate_limit_exceeded');
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(r.headers.get('x-ratelimit-limit-requests')).toBe('3');
      expect(r.headers.get('x-ratelimit-remaining-requests')).toBe('0');
      const rows = await logsOf('k-rpm');
      expect(rows.map((x) => x.status).sort()).toEqual([200, 200, 200, 429]);
    });

    it('enforces TPM on the tokens actually used', async () => {
      const key = await gw.createKey({ tpm: 5 });
      expect((await chat(key, msg('free'))).status).toBe(200);
      const r = await chat(key, msg('free'));
      expect(r.status).toBe(429);
      expect(r.headers.get('x-ratelimit-limit-tokens')).toBe('5');
    });

    it('enforces concurrency', async () => {
      const key = await gw.createKey({ concurrency: 1 });
      const before = sim.calls.length;
      const slow = chat(
        key,
        msg('free', { metadata: { 'x-sim-deltas': '10', 'x-sim-pace-ms': '40' }, stream: true }),
      );
      // the slow stream (10 x 40 ms) is in flight once the simulator has it; a fixed 100 ms wait
      // could end before a loaded machine had admitted it
      await expect.poll(() => sim.calls.length, { timeout: 5000, interval: 5 }).toBe(before + 1);
      const r = await chat(key, msg('free'));
      expect(r.status).toBe(429);
      expect(r.headers.get('x-ratelimit-limit-concurrency')).toBe('1');
      await slow.catch(() => undefined);
      expect((await chat(key, msg('free'))).status).toBe(200);
    });
  });

  describe('money', () => {
    it('prices uncached input, cache reads and output exactly, and adds the cost to the key', async () => {
      const key = await gw.createKey({ name: 'k-cost' });
      const r = await chat(key, msg('priced', { metadata: { 'x-sim-cached-tokens': '4' } }));
      expect(r.status).toBe(200);
      const u = r.body.usage!;
      const cached = 4;
      const expected = Math.floor(
        ((u.prompt_tokens! - cached) * 10_000_000 + cached * 1_000_000 + u.completion_tokens! * 20_000_000) /
          1e6 +
          0.5,
      );
      const [row] = await logsOf('k-cost');
      expect(row?.cached_tokens).toBe(cached);
      expect(row?.cost).toBe(expected);
      const view = await gw.call<KeyView>('GET', '/v1/keys/k-cost');
      expect(view.spent).toBe(expected);
    });

    it('applies the group ratio', async () => {
      await gw.call('PUT', '/v1/groups/vip', { ratio: 0.5 });
      const normal = await gw.createKey({ name: 'k-g1' });
      const vip = await gw.createKey({ name: 'k-g2', group: 'vip' });
      await gw.call('PATCH', '/v1/channels/sim', { groups: ['default', 'vip'] });
      await chat(normal, msg());
      await chat(vip, msg());
      const a = (await logsOf('k-g1'))[0]!;
      const b = (await logsOf('k-g2'))[0]!;
      expect(b.cost).toBe(Math.floor(a.cost! / 2 + 0.5));
    });

    it('serves an unpriced model to a key without budget with cost null, and refuses it to a key with one', async () => {
      const open = await gw.createKey({ name: 'k-open' });
      expect((await chat(open, msg('free'))).status).toBe(200);
      expect((await logsOf('k-open'))[0]?.cost).toBeNull();
      const budgeted = await gw.createKey({ budget: 1_000_000 });
      const r = await chat(budgeted, msg('free'));
      expect(r.status).toBe(403);
      expect(r.body.error?.code).toBe('model_not_priced');
    });

    it('never spends past the budget with 100 concurrent requests when it covers 30', async () => {
      // worst case of one request: ~10 input tokens at $10 + 50 output tokens at $20 per 1M
      const probe = await gw.createKey({ name: 'k-probe', budget: 10_000_000 });
      const ok = await chat(probe, msg('priced', { max_tokens: 50 }));
      expect(ok.status).toBe(200);
      const worst = Math.ceil((ok.body.usage!.prompt_tokens! * 10 + 50 * 20) * 1.2);
      const budget = 30 * worst;
      const key = await gw.createKey({ name: 'k-budget', budget });
      const results = await Promise.all(
        Array.from({ length: 100 }, () => chat(key, msg('priced', { max_tokens: 50 }))),
      );
      const okCount = results.filter((r) => r.status === 200).length;
      const refused = results.filter((r) => r.status === 403);
      expect(okCount).toBeGreaterThanOrEqual(25);
      expect(okCount + refused.length).toBe(100);
      for (const r of refused) expect(r.body.error?.code).toBe('insufficient_quota');
      const view = await gw.call<KeyView>('GET', '/v1/keys/k-budget');
      expect(view.spent).toBeLessThanOrEqual(budget);
      const rows = await logsOf('k-budget');
      expect(rows.length).toBe(100);
      expect(rows.reduce((n, r) => n + (r.cost ?? 0), 0)).toBe(view.spent);
    });
  });

  describe('hostile bodies', () => {
    it('answers malformed JSON, wrong field types and an over-limit body with 400/400/413 and keeps serving', async () => {
      const key = await gw.createKey();
      const bad = await chat(key, '{"model": "free", "messages": [');
      expect(bad.status).toBe(400);
      expect(bad.body.error?.code).toBe('invalid_json');
      const types = await chat(key, { model: 'free', messages: 'hi' });
      expect(types.status).toBe(400);
      expect(types.body.error?.param).toBe('messages');
      const tokens = await chat(key, {
        model: 'free',
        messages: [{ role: 'user', content: 'x' }],
        max_tokens: 'lots',
      });
      expect(tokens.body.error?.param).toBe('max_tokens');
      const big = await chat(key, {
        model: 'free',
        messages: [{ role: 'user', content: 'x'.repeat(100 * 1024) }],
      });
      expect(big.status).toBe(413);
      expect(big.body.error?.code).toBe('request_too_large');
      expect((await chat(key, msg('free'))).status).toBe(200);
    });

    it('answers 413 to an over-limit chunked body (no content-length) and shrugs off a client that hangs up mid-body', async () => {
      const key = await gw.createKey({ name: 'chunky' });
      const { port } = new URL(gw.url);
      const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request(
          {
            port,
            host: '127.0.0.1',
            method: 'POST',
            path: '/v1/chat/completions',
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          },
          (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        req.write('{"model":"free","messages":[{"role":"user","content":"');
        for (let i = 0; i < 20; i++) req.write('x'.repeat(8 * 1024));
        req.end('"}]}');
      });
      expect(chunked.status).toBe(413);
      expect((JSON.parse(chunked.body) as Answer['body']).error?.code).toBe('request_too_large');

      await new Promise<void>((resolve) => {
        const req = http.request({
          port,
          host: '127.0.0.1',
          method: 'POST',
          path: '/v1/chat/completions',
          headers: { authorization: `Bearer ${key}`, 'content-length': '5000' },
        });
        req.on('error', () => resolve());
        req.write('{"model":"free",', () => setTimeout(() => req.destroy(), 50));
        req.on('close', () => resolve());
      });
      expect((await chat(key, msg('free'))).status).toBe(200);
      // neither the refused body nor the abandoned one reached the relay: only the last request is logged
      expect((await logsOf('chunky')).map((r) => r.status)).toEqual([200]);
    });
  });
});
