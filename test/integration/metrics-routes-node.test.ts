/**
 * `?node=` on the control metrics routes, against a cluster reader that the test controls (the
 * real Redis one is exercised by cluster-top.test.ts): a daemon alone answers as it always did and
 * knows only `local`; a clustered one merges the others' digests with its own, picks one node,
 * names the live nodes on a 404, and falls back to its own numbers when Redis cannot be read.
 */
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { createMetrics, type MetricsDigest } from '../../src/daemon/metrics/index.js';
import { registerMetricsRoutes } from '../../src/daemon/control/routes/metrics.js';
import { installErrorHandlers } from '../../src/daemon/control/errors.js';
import type { ClusterMetricsReader } from '../../src/daemon/cluster/metrics-publisher.js';
import type { MetricsSnapshot } from '../../src/shared/metrics-types.js';
import { HEALTH, sample } from '../unit/tui-fake-daemon.js';

function node(requests: number) {
  const m = createMetrics();
  for (let i = 0; i < requests; i++) m.requestFinished(sample());
  return m;
}

async function app(cluster?: ClusterMetricsReader) {
  const a = Fastify();
  installErrorHandlers(a);
  registerMetricsRoutes(a, node(4), () => HEALTH, cluster ? { cluster } : {});
  await a.ready();
  return a;
}

async function get(a: Awaited<ReturnType<typeof app>>, query = '') {
  const res = await a.inject({ method: 'GET', url: `/v1/metrics/snapshot${query}` });
  return { status: res.statusCode, body: res.json<MetricsSnapshot & { error?: { message: string } }>() };
}

function reader(others: () => Promise<MetricsDigest[]>): ClusterMetricsReader {
  return { nodeId: 'a-1', others };
}

describe('metrics routes with ?node=', () => {
  it('a daemon alone answers its own numbers, without a scope, and knows only local', async () => {
    const a = await app();
    const plain = await get(a);
    expect(plain.status).toBe(200);
    expect(plain.body.totals.requests).toBe(4);
    expect(plain.body.scope).toBeUndefined();
    expect((await get(a, '?node=local')).body.totals.requests).toBe(4);
    const other = await get(a, '?node=b-2');
    expect(other.status).toBe(404);
    expect(other.body.error?.message).toContain('not in a cluster');
  });

  it('a clustered daemon merges, picks a node, and lists the live ones on a 404', async () => {
    const b = node(3).digest(HEALTH, 'b-2');
    const c = node(2).digest(HEALTH, 'c-3');
    const a = await app(reader(async () => [b, c]));
    const all = await get(a);
    expect(all.body.totals.requests).toBe(9);
    expect(all.body.scope).toEqual({ node: null, nodes: ['a-1', 'b-2', 'c-3'], answered_by: 'a-1' });
    const one = await get(a, '?node=c-3');
    expect(one.body.totals.requests).toBe(2);
    expect(one.body.scope).toEqual({ node: 'c-3', nodes: ['c-3'], answered_by: 'a-1' });
    for (const q of ['?node=local', '?node=a-1']) {
      const local = await get(a, q);
      expect(local.body.totals.requests).toBe(4);
      expect(local.body.scope?.node).toBe('a-1');
    }
    const unknown = await get(a, '?node=zz');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error?.message).toBe('no live node "zz"; live nodes: a-1, b-2, c-3 (or local)');
  });

  it('Redis away: its own numbers and a word that the cluster view is unavailable', async () => {
    const a = await app(reader(() => Promise.reject(new Error('connection is reconnecting'))));
    for (const q of ['', '?node=b-2']) {
      const r = await get(a, q);
      expect(r.status).toBe(200);
      expect(r.body.totals.requests).toBe(4);
      expect(r.body.scope?.node).toBe('a-1');
      expect(r.body.scope?.cluster_unavailable).toContain('connection is reconnecting');
    }
  });
});
