/**
 * The live node list (SPEC section 9, `node` of section 12) on real Redis: every registered node
 * is listed with its fields; a stopped node leaves at once; a killed one (it stops beating without
 * deregistering) is gone within the expiry, by the Redis server's clock.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { NodeRegistry } from '../../src/daemon/cluster/nodes.js';
import { freshRedisPrefix, redisUrl } from '../support/stores.js';

const clients: Redis[] = [];
afterAll(() => {
  for (const c of clients) c.disconnect();
});

function registry(prefix: string, id: string, requests: () => number, ttlMs = 600): NodeRegistry {
  const redis = new Redis(redisUrl());
  clients.push(redis);
  return new NodeRegistry({
    redis,
    prefix,
    nodeId: id,
    version: '0.1.0',
    listen: () => '127.0.0.1:8300',
    requests,
    beatMs: 100,
    ttlMs,
  });
}

describe('the node registry', () => {
  it('lists live nodes with the SPEC fields; a stopped node leaves, a killed one expires', async () => {
    const prefix = freshRedisPrefix();
    let served = 0;
    const a = registry(prefix, 'node-a', () => served);
    const b = registry(prefix, 'node-b', () => 7);
    const c = registry(prefix, 'node-c', () => 0);
    await Promise.all([a.start(), b.start(), c.start()]);
    const listed = await a.list();
    expect(listed.map((n) => n.node_id)).toEqual(['node-a', 'node-b', 'node-c']);
    expect(Object.keys(listed[1]!)).toEqual([
      'node_id',
      'host',
      'pid',
      'version',
      'uptime_s',
      'listen',
      'requests',
    ]);
    expect(listed[1]).toMatchObject({
      pid: process.pid,
      version: '0.1.0',
      listen: '127.0.0.1:8300',
      requests: 7,
    });
    served = 42;
    await new Promise((r) => setTimeout(r, 250));
    expect((await a.list()).find((n) => n.node_id === 'node-a')?.requests).toBe(42);

    await b.stop();
    expect((await a.list()).map((n) => n.node_id)).toEqual(['node-a', 'node-c']);

    // "killed": it stops beating and never deregisters
    (c as unknown as { timer: NodeJS.Timeout }).timer.unref();
    clearInterval((c as unknown as { timer: NodeJS.Timeout }).timer);
    const t0 = Date.now();
    while ((await a.list()).some((n) => n.node_id === 'node-c')) {
      expect(Date.now() - t0).toBeLessThan(2000);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(Date.now() - t0).toBeGreaterThan(300);
    await a.stop();
    expect(await a.list()).toEqual([]);
  });
});
