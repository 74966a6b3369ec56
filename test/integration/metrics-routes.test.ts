import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { Client } from 'undici';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/daemon/metrics/index.js';
import type { ChannelHealth, RequestSample } from '../../src/daemon/metrics/index.js';
import { registerMetricsRoutes } from '../../src/daemon/control/routes/metrics.js';
import { registerPrometheusRoute } from '../../src/daemon/gateway/routes/metrics.js';
import { isMetricsSnapshot, type MetricsSnapshot } from '../../src/shared/metrics-types.js';
import { cleanupsAfterEach } from '../support/cleanups.js';
import { parsePrometheus } from '../support/prom-parse.js';

const health = (): ChannelHealth[] => [
  { id: 1, name: 'main', type: 'openai', status: 'enabled', statusReason: null, cooldownUntil: null },
];

const done: RequestSample = {
  channelId: 1,
  channelName: 'main',
  model: 'gpt-4o',
  keyId: 1,
  keyName: 'k',
  status: 200,
  errorCategory: null,
  inputTokens: 3,
  outputTokens: 4,
  cost: 5,
  latencyMs: 12,
  ttftMs: 6,
  stream: false,
};

const cleanups = cleanupsAfterEach();

async function listenOnSocket(app: FastifyInstance): Promise<Client> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-'));
  const socket = path.join(dir, 'bc.sock');
  await app.listen({ path: socket });
  const client = new Client('http://localhost', { socketPath: socket });
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => app.close());
  cleanups.push(() => client.close());
  return client;
}

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Reads NDJSON lines from a response body, one at a time. */
function lineReader(body: AsyncIterable<Buffer>): () => Promise<MetricsSnapshot | null> {
  const it = body[Symbol.asyncIterator]();
  let buf = '';
  return async () => {
    for (;;) {
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        const text = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const parsed: unknown = JSON.parse(text);
        if (!isMetricsSnapshot(parsed)) throw new Error('not a snapshot');
        return parsed;
      }
      const next = await it.next();
      if (next.done) return null;
      buf += next.value.toString('utf8');
    }
  };
}

describe('control metrics routes', () => {
  it('answers a snapshot at once', async () => {
    const app = Fastify();
    const metrics = createMetrics();
    metrics.requestFinished(done);
    registerMetricsRoutes(app, metrics, health);
    cleanups.push(() => app.close());
    const res = await app.inject({ method: 'GET', url: '/v1/metrics/snapshot' });
    expect(res.statusCode).toBe(200);
    const body: unknown = res.json();
    expect(isMetricsSnapshot(body)).toBe(true);
    expect((body as MetricsSnapshot).totals.requests).toBe(1);
    expect((body as MetricsSnapshot).channels[0]?.name).toBe('main');
  });

  it('streams a snapshot per tick, then clears its timer when the client goes away', async () => {
    const app = Fastify();
    const metrics = createMetrics();
    const routes = registerMetricsRoutes(app, metrics, health, { intervalMs: 40 });
    const client = await listenOnSocket(app);
    const abort = new AbortController();
    const res = await client.request({ method: 'GET', path: '/v1/metrics/stream', signal: abort.signal });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('application/x-ndjson');
    const next = lineReader(res.body);
    expect((await next())?.totals.requests).toBe(0);
    metrics.requestFinished(done);
    metrics.requestFinished(done);
    let snap = await next();
    while (snap && snap.totals.requests < 2) snap = await next();
    expect(snap?.totals.requests).toBe(2);
    expect(routes.activeStreams()).toBe(1);
    expect(routes.ticking()).toBe(true);
    abort.abort();
    await until(() => routes.activeStreams() === 0);
    expect(routes.ticking()).toBe(false);
  });

  it('ends attached streams when the app closes, so shutdown does not hang', async () => {
    const app = Fastify();
    const routes = registerMetricsRoutes(app, createMetrics(), health, { intervalMs: 1000 });
    const client = await listenOnSocket(app);
    const res = await client.request({ method: 'GET', path: '/v1/metrics/stream' });
    const next = lineReader(res.body);
    expect(await next()).not.toBeNull();
    const started = Date.now();
    await app.close();
    // measured 1-3 ms on a 2-core machine running two mutation jobs; a close that waited for the
    // stream's next tick (intervalMs 1000) or for the client would take 1 s or forever
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await next()).toBeNull();
    expect(routes.ticking()).toBe(false);
  });
});

describe('gateway /metrics', () => {
  it('serves parseable Prometheus text with the recorded counts', async () => {
    const app = Fastify();
    const metrics = createMetrics();
    for (let i = 0; i < 3; i++) metrics.requestFinished(done);
    registerPrometheusRoute(app, metrics, health);
    cleanups.push(() => app.close());
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const p = parsePrometheus(res.body);
    expect(p.sum('bc_requests_total', { model: 'gpt-4o', channel: 'main', status: '200' })).toBe(3);
    expect(p.sum('bc_channel_up', { channel: 'main' })).toBe(1);
  });
});
