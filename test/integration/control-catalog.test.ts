import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildControlApp } from '../../src/daemon/control/app.js';
import type { DaemonServices } from '../../src/daemon/services.js';
import type { GroupView, LogRow, PriceView, StatusView, UsageRow } from '../../src/shared/control-api.js';
import {
  expectError,
  injectCall,
  startTestServices,
  stopTestServices,
  type Answer,
} from '../support/control.js';
import type { NewLogRow } from '../../src/daemon/store/types.js';

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
  it('lists the shipped defaults sorted by model', async () => {
    const list = (await call<PriceView[]>('GET', '/v1/prices')).body;
    expect(list.length).toBeGreaterThan(5);
    expect(list.map((p) => p.model)).toEqual(
      [...list.map((p) => p.model)].sort((a, b) => a.localeCompare(b)),
    );
    expect(list.every((p) => p.source === 'default')).toBe(true);
  });

  it('sets a user price (also for a model id with a slash) and removes it', async () => {
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
      source: 'user',
    });
    const list = (await call<PriceView[]>('GET', '/v1/prices')).body;
    expect(list.find((p) => p.model === 'acme/model-1')?.source).toBe('user');
    const rm = await call<PriceView>('DELETE', `/v1/prices/${encodeURIComponent('acme/model-1')}`);
    expect(rm.body.model).toBe('acme/model-1');
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
    await services.store.settle(row({ status: 502, error: 'upstream_error', cost: null, output_tokens: 0 }));
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
      input_tokens: 20,
      output_tokens: 5,
      cost: 100,
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
    expectError(await call('GET', '/v1/usage?by=user'), 400, 'invalid_request', /^by /);
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
