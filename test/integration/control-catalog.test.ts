import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildControlApp } from '../../src/daemon/control/app.js';
import type { DaemonServices } from '../../src/daemon/service-types.js';
import type { GroupView, LogRow, PriceView, StatusView, UsageRow } from '../../src/shared/control-api.js';
import {
  expectError,
  injectCall,
  startTestServices,
  stopTestServices,
  type Answer,
} from '../support/control.js';
import type { NewLogRow } from '../../src/daemon/store/types.js';
import { catalogVersion } from '../../src/daemon/pricing/catalog.js';
import { resolve } from '../../src/daemon/pricing/price-book.js';

let home: string;
let services: DaemonServices;
let control: FastifyInstance;
let shutdownRequests = 0;
let shutdownAnswered: boolean | undefined;

function call<T = unknown>(
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  url: string,
  payload?: unknown,
): Promise<Answer<T>> {
  return injectCall<T>(control, method, url, payload);
}

function row(over: Partial<NewLogRow>): NewLogRow {
  return {
    request_id: `req-${Math.random().toString(36).slice(2)}`,
    time: new Date().toISOString(),
    key: 'app',
    key_id: null,
    channel: 'main',
    channel_id: null,
    model: 'gpt-4o',
    upstream_model: 'gpt-4o',
    endpoint: '/v1/chat/completions',
    status: 200,
    error: null,
    input_tokens: 10,
    cached_tokens: 0,
    cache_write_tokens: 0,
    output_tokens: 5,
    reasoning_tokens: 0,
    cost: 100,
    usage_estimated: false,
    latency_ms: 20,
    ttft_ms: null,
    retries: 0,
    stream: false,
    dropped_fields: [],
    ...over,
  };
}

beforeAll(async () => {
  ({ home, services } = await startTestServices());
  services.listenAddress = '127.0.0.1:45678';
  control = await buildControlApp(services, {
    requestShutdown: () => {
      shutdownRequests++;
    },
  });
  control.addHook('onSend', async (req, _reply, payload) => {
    if (req.url === '/v1/shutdown') shutdownAnswered = shutdownRequests === 0;
    return payload;
  });
});

afterAll(async () => {
  await stopTestServices({ home, services }, [control]);
});

describe('prices', () => {
  const catalog = `catalog@${catalogVersion()}`;

  // the status test below counts channels from an empty catalogue
  afterAll(async () => {
    for (const name of ['prices-anth', 'prices-local']) {
      expect((await call('DELETE', `/v1/channels/${name}`)).status).toBe(200);
    }
  });

  it('lists nothing before a channel serves a model', async () => {
    expect((await call<PriceView[]>('GET', '/v1/prices')).body).toEqual([]);
  });

  it('lists every model a channel serves, sorted, with its price and source', async () => {
    const add = await call('POST', '/v1/channels', {
      name: 'prices-anth',
      type: 'anthropic',
      keys: ['sk-ant-prices'],
      models: ['claude-opus-4-8', 'claude-sonnet-4-5'],
      map: { opus: 'claude-opus-4-8' },
    });
    expect(add.status).toBe(201);
    const local = await call('POST', '/v1/channels', {
      name: 'prices-local',
      type: 'vllm',
      keys: ['sk-local'],
      models: ['llama-local'],
      base_url: 'http://127.0.0.1:9/v1',
    });
    expect(local.status).toBe(201);
    const list = (await call<PriceView[]>('GET', '/v1/prices')).body;
    expect(list.map((p) => p.model)).toEqual(['claude-opus-4-8', 'claude-sonnet-4-5', 'llama-local', 'opus']);
    const opus = resolve('claude-opus-4-8', ['anthropic'], Date.now()).price!;
    expect(list[0]).toEqual({
      model: 'claude-opus-4-8',
      input: opus.input,
      output: opus.output,
      cache_read: opus.cacheRead,
      cache_write: opus.cacheWrite,
      per_request: null,
      max_output_tokens: opus.maxOutputTokens,
      source: catalog,
      tiers: [],
      catalog_model: 'claude-opus-4-8',
      via: null,
      channels: ['prices-anth'],
    });
    expect(list[1]?.tiers).toEqual([
      expect.objectContaining({ above_input_tokens: 200_000, input: 6_000_000, output: 22_500_000 }),
    ]);
    expect(list[2]).toMatchObject({ source: 'unpriced', input: null, output: null, max_output_tokens: null });
    // an alias with no price of its own shows its upstream model's, as the relay bills it
    expect(list[3]).toMatchObject({ source: catalog, via: 'claude-opus-4-8', input: opus.input });
  });

  it('an override wins and removing it brings the catalog price back', async () => {
    const set = await call<PriceView>('PUT', '/v1/prices/claude-opus-4-8', { input: 1, output: 2 });
    expect(set.body).toMatchObject({ model: 'claude-opus-4-8', input: 1, output: 2, source: 'override' });
    const list = (await call<PriceView[]>('GET', '/v1/prices')).body;
    expect(list.find((p) => p.model === 'claude-opus-4-8')?.source).toBe('override');
    // the alias follows the price billing uses
    expect(list.find((p) => p.model === 'opus')).toMatchObject({ source: 'override', input: 1 });
    expect((await call<PriceView>('DELETE', '/v1/prices/claude-opus-4-8')).body.source).toBe('override');
    expect(
      (await call<PriceView[]>('GET', '/v1/prices')).body.find((p) => p.model === 'claude-opus-4-8')?.source,
    ).toBe(catalog);
    expectError(
      await call('DELETE', '/v1/prices/claude-opus-4-8'),
      404,
      'not_found',
      new RegExp(`has no override to remove: its price comes from ${catalog.replace(/\./g, '\\.')}`),
    );
  });

  it('sets an override (also for a model id with a slash) and removes it', async () => {
    const set = await call<PriceView>('PUT', `/v1/prices/${encodeURIComponent('acme/model-1')}`, {
      input: 1_500_000,
      output: 2_000_000,
      per_request: 10,
    });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({
      model: 'acme/model-1',
      input: 1_500_000,
      output: 2_000_000,
      cache_read: null,
      cache_write: null,
      per_request: 10,
      max_output_tokens: null,
      source: 'override',
      tiers: [],
      catalog_model: null,
      via: null,
      channels: [],
    });
    const list = (await call<PriceView[]>('GET', '/v1/prices')).body;
    expect(list.find((p) => p.model === 'acme/model-1')?.source).toBe('override');
    const rm = await call<PriceView>('DELETE', `/v1/prices/${encodeURIComponent('acme/model-1')}`);
    expect(rm.body.model).toBe('acme/model-1');
    expect((await call<PriceView[]>('GET', '/v1/prices')).body.some((p) => p.model === 'acme/model-1')).toBe(
      false,
    );
    expectError(
      await call('DELETE', `/v1/prices/${encodeURIComponent('acme/model-1')}`),
      404,
      'not_found',
      /acme\/model-1/,
    );
  });

  it('refuses invalid prices with 400 naming the field', async () => {
    expectError(await call('PUT', '/v1/prices/m', { output: 1 }), 400, 'invalid_request', /^input /);
    expectError(
      await call('PUT', '/v1/prices/m', { input: 1, output: -1 }),
      400,
      'invalid_request',
      /^output /,
    );
    expectError(
      await call('PUT', '/v1/prices/m', { input: 1, output: 1, cache_read: 0.5 }),
      400,
      'invalid_request',
      /^cache_read /,
    );
  });
});

describe('groups', () => {
  it('lists the default group and sets a ratio', async () => {
    expect((await call<GroupView[]>('GET', '/v1/groups')).body).toEqual([{ name: 'default', ratio: 1 }]);
    expect((await call<GroupView>('PUT', '/v1/groups/vip', { ratio: 0.8 })).body).toEqual({
      name: 'vip',
      ratio: 0.8,
    });
    expect((await call<GroupView>('PUT', '/v1/groups/vip', { ratio: 1.5 })).body.ratio).toBe(1.5);
    expect((await call<GroupView[]>('GET', '/v1/groups')).body.map((g) => g.name)).toEqual([
      'default',
      'vip',
    ]);
    expect(services.gateway.snapshot.groupRatios.get('vip')).toBe(1.5);
  });

  it('refuses a ratio that is not a positive number, and a bad name', async () => {
    expectError(await call('PUT', '/v1/groups/vip', { ratio: 0 }), 400, 'invalid_request', /^ratio /);
    expectError(await call('PUT', '/v1/groups/vip', { ratio: 'x' }), 400, 'invalid_request', /^ratio /);
    expectError(await call('PUT', '/v1/groups/vip', {}), 400, 'invalid_request', /^ratio /);
    expectError(
      await call('PUT', `/v1/groups/${encodeURIComponent('v i p')}`, { ratio: 1 }),
      400,
      'invalid_request',
      /^name /,
    );
  });
});

describe('logs and usage', () => {
  beforeAll(async () => {
    const old = new Date(Date.now() - 3 * 86_400_000).toISOString();
    await services.store.settle(row({ time: old, model: 'old-model', cost: 7 }));
    await services.store.settle(row({ cost: 100 }));
    // refused before the upstream spent anything: no tokens, no cost, not unpriced spend
    await services.store.settle(
      row({ status: 502, error: 'upstream_error', cost: null, input_tokens: 0, output_tokens: 0 }),
    );
    await services.store.settle(row({ model: 'claude', channel: 'anth', key: 'other', cost: 300 }));
  });

  it('lists the newest rows first, with filters', async () => {
    const all = (await call<LogRow[]>('GET', '/v1/logs')).body;
    expect(all).toHaveLength(4);
    expect(all[0]?.model).toBe('claude');
    const errors = (await call<LogRow[]>('GET', '/v1/logs?errors=1')).body;
    expect(errors.map((r) => r.status)).toEqual([502]);
    expect((await call<LogRow[]>('GET', '/v1/logs?model=claude')).body).toHaveLength(1);
    expect((await call<LogRow[]>('GET', '/v1/logs?limit=2')).body).toHaveLength(2);
    expect((await call<LogRow[]>('GET', '/v1/logs?since=24h')).body).toHaveLength(3);
    const newest = all[0]?.id ?? 0;
    expect((await call<LogRow[]>('GET', `/v1/logs?after_id=${newest - 1}`)).body.map((r) => r.id)).toEqual([
      newest,
    ]);
  });

  it('refuses bad log queries with 400 naming the parameter', async () => {
    expectError(await call('GET', '/v1/logs?limit=0'), 400, 'invalid_request', /^limit /);
    expectError(await call('GET', '/v1/logs?since=whenever'), 400, 'invalid_request', /^since /);
    expectError(await call('GET', '/v1/logs?colour=red'), 400, 'invalid_request', /^colour /);
  });

  it('sums usage by model, key and channel over the window', async () => {
    const byModel = (await call<UsageRow[]>('GET', '/v1/usage?by=model')).body;
    expect(byModel.find((r) => r.name === 'gpt-4o')).toMatchObject({
      model: 'gpt-4o',
      requests: 2,
      errors: 1,
      input_tokens: 10,
      output_tokens: 5,
      cost: 100,
      unpriced_requests: 0,
    });
    expect(byModel.find((r) => r.name === 'old-model')).toBeUndefined();
    const since = new Date(Date.now() - 7 * 86_400_000).toISOString();
    const week = (await call<UsageRow[]>('GET', `/v1/usage?by=model&since=${encodeURIComponent(since)}`))
      .body;
    expect(week.find((r) => r.name === 'old-model')?.cost).toBe(7);
    const byKey = (await call<UsageRow[]>('GET', '/v1/usage?by=key')).body;
    expect(byKey.find((r) => r.key === 'other')?.cost).toBe(300);
    const byChannel = (await call<UsageRow[]>('GET', '/v1/usage?by=channel')).body;
    expect(byChannel.map((r) => r.channel).sort()).toEqual(['anth', 'main']);
    expectError(await call('GET', '/v1/usage?by=tenant'), 400, 'invalid_request', /^by /);
  });

  it('counts spend on an unpriced model as unpriced: cost null, never 0', async () => {
    await services.store.settle(row({ model: 'local-llm', channel: 'local', key: 'other', cost: null }));
    const byModel = (await call<UsageRow[]>('GET', '/v1/usage?by=model')).body;
    expect(byModel.find((r) => r.name === 'local-llm')).toMatchObject({ cost: null, unpriced_requests: 1 });
    const byKey = (await call<UsageRow[]>('GET', '/v1/usage?by=key')).body;
    // a key with priced and unpriced spend: the priced sum, and the count of the rest
    expect(byKey.find((r) => r.key === 'other')).toMatchObject({ cost: 300, unpriced_requests: 1 });
  });
});

describe('status, reload, shutdown', () => {
  it('reports the status', async () => {
    await services.store.createKey({
      name: 'k1',
      hash: 'a'.repeat(64),
      prefix: 'sk-bc-aaaa',
      group: 'default',
      budget: null,
      expiresAt: null,
      models: [],
      allowIps: [],
      rpm: null,
      tpm: null,
      concurrency: null,
      status: 'enabled',
    });
    const s = (await call<StatusView>('GET', '/v1/status')).body;
    expect(s).toMatchObject({
      pid: process.pid,
      version: services.version,
      listen: '127.0.0.1:45678',
      socket: path.join(home, 'bc.sock'),
      home,
      store: `sqlite:${path.join(home, 'burncloud.db')}`,
      channels: 0,
      keys: 1,
      requests: 0,
    });
    expect(s.uptime_s).toBeGreaterThanOrEqual(0);
  });

  it('reloads the relay snapshot from the store', async () => {
    await services.store.setGroup({ name: 'late', ratio: 3 });
    expect(services.gateway.snapshot.groupRatios.get('late')).toBeUndefined();
    expect((await call('POST', '/v1/reload')).body).toEqual({ ok: true });
    expect(services.gateway.snapshot.groupRatios.get('late')).toBe(3);
  });

  it('takes a JSON content type with an empty body as no input', async () => {
    const res = await control.inject({
      method: 'POST',
      url: '/v1/reload',
      headers: { 'content-type': 'application/json' },
      payload: '',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ok: true });
  });

  it('answers shutdown first, then asks the daemon to stop', async () => {
    const a = await call<{ ok: boolean; pid: number }>('POST', '/v1/shutdown');
    expect(a.body).toEqual({ ok: true, pid: process.pid });
    expect(shutdownAnswered).toBe(true);
    expect(shutdownRequests).toBe(1);
  });

  it('answers unknown routes with a 404 error body, and serves the metrics snapshot', async () => {
    expectError(await call('GET', '/v1/nothing'), 404, 'not_found', /\/v1\/nothing/);
    expect((await call('GET', '/v1/metrics/snapshot')).status).toBe(200);
  });
});
