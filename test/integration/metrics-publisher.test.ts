/**
 * The cluster's metrics on the real Redis, without daemons: each node's digest written and read
 * back by another, a node whose value is gone dropped from the index, a damaged value left out
 * without hiding the others, and stop() deleting at once, also when a write was under way.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { MetricsPublisher } from '../../src/daemon/cluster/metrics-publisher.js';
import { createMetrics } from '../../src/daemon/metrics/index.js';
import { freshRedisPrefix, redisUrl } from '../support/stores.js';
import { HEALTH, sample } from '../unit/tui-fake-daemon.js';

const redis = new Redis(redisUrl());
afterAll(() => redis.disconnect());

function publisher(prefix: string, nodeId: string, requests: number): MetricsPublisher {
  const m = createMetrics();
  for (let i = 0; i < requests; i++) m.requestFinished(sample());
  return new MetricsPublisher({ redis, prefix, nodeId, digest: () => m.digest(HEALTH, nodeId) });
}

describe('metrics publisher', () => {
  it("reads every other node's digest and leaves out what is gone or damaged", async () => {
    const prefix = freshRedisPrefix();
    const [a, b, c] = [publisher(prefix, 'a', 1), publisher(prefix, 'b', 2), publisher(prefix, 'c', 3)];
    await Promise.all([a.publish(), b.publish(), c.publish()]);
    expect((await a.others()).map((d) => [d.node, d.overall.total[0]])).toEqual([
      ['b', 2],
      ['c', 3],
    ]);
    // c's value expired (gone), and one more id has a value that is not a digest
    await redis.del(`${prefix}metrics:c`);
    await redis
      .multi()
      .set(`${prefix}metrics:d`, 'not deflated json')
      .sadd(`${prefix}metrics:nodes`, 'd')
      .exec();
    expect((await a.others()).map((d) => d.node)).toEqual(['b']);
    expect((await redis.smembers(`${prefix}metrics:nodes`)).sort()).toEqual(['a', 'b', 'd']);
  });

  it('stop() deletes the numbers at once, also with a write under way', async () => {
    const prefix = freshRedisPrefix();
    const [a, b] = [publisher(prefix, 'a', 1), publisher(prefix, 'b', 2)];
    await b.publish();
    const writing = b.publish();
    await b.stop();
    await writing;
    expect(await a.others()).toEqual([]);
    expect(await redis.exists(`${prefix}metrics:b`)).toBe(0);
  });
});
