import { describe, expect, it } from 'vitest';
import { createMetrics, isMetricsDigest } from '../../src/daemon/metrics/index.js';
import type { ChannelHealth, MetricsDigest, RequestSample } from '../../src/daemon/metrics/index.js';
import { mergeHealth } from '../../src/daemon/metrics/digest-view.js';
import { bucketOf, bucketValue } from '../../src/daemon/metrics/histogram.js';
import { HEALTH, T0, sample } from './tui-fake-daemon.js';

/** what crosses Redis: the digest as JSON text */
function viaRedis(d: MetricsDigest): MetricsDigest {
  const back: unknown = JSON.parse(JSON.stringify(d));
  if (!isMetricsDigest(back)) throw new Error('not a digest');
  return back;
}

function rounded(ms: number): number {
  return Math.round(bucketValue(bucketOf(ms)) * 10) / 10;
}

/** Nodes A and B, and R, one node that sees every request A and B see, all on one clock. */
function cluster() {
  let now = T0 + 400;
  const clock = () => now;
  const a = createMetrics({ now: clock, windowS: 120 });
  const b = createMetrics({ now: clock, windowS: 120 });
  const r = createMetrics({ now: clock, windowS: 120 });
  const send = (node: 'a' | 'b', over: Partial<RequestSample>) => {
    const s = sample(over);
    (node === 'a' ? a : b).requestFinished(s);
    r.requestFinished(s);
  };
  return { a, b, r, send, tick: (ms = 1000) => (now += ms) };
}

describe('cluster metrics merge', () => {
  it('two nodes merged are exactly one node that saw all their requests', () => {
    const c = cluster();
    for (let s = 0; s < 150; s++) {
      // different models, keys, users, channels, errors and latencies on each node, some shared
      for (let i = 0; i < (s % 4) + 1; i++)
        c.send('a', {
          latencyMs: 20 + s,
          ttftMs: 5 + i,
          model: 'gpt-4o',
          keyId: 1,
          userId: 7,
          userName: 'ann',
        });
      if (s % 3 === 0)
        c.send('b', {
          latencyMs: 900 + 7 * s,
          ttftMs: null,
          model: s % 2 ? 'gpt-4o' : 'claude',
          channelId: 2,
          channelName: 'claude-backup',
          keyId: 2,
          keyName: 'batch',
          cost: 333,
          inputTokens: s,
        });
      if (s % 10 === 0) c.send('b', { status: 429, errorCategory: 'rate_limit', cost: null, keyId: 1 });
      // the same buckets on both nodes in the same second: they must add up
      if (s % 5 === 0) c.send('b', { latencyMs: 20 + s, ttftMs: 5, model: 'gpt-4o', userId: 7 });
      c.tick(s % 17 === 0 ? 1500 : 1000);
    }
    const merged = c.a.merged([viaRedis(c.a.digest(HEALTH, 'a')), viaRedis(c.b.digest(HEALTH, 'b'))]);
    const alone = c.r.snapshot(HEALTH);
    expect(alone.totals.requests).toBeGreaterThan(300);
    expect(merged).toEqual(alone);
  });

  it('one node through its digest renders as its own snapshot', () => {
    const c = cluster();
    for (let s = 0; s < 70; s++) {
      c.send('a', { latencyMs: 50 + (s % 9) * 40 });
      c.a.requestStarted('gpt-4o', 1);
      c.tick();
    }
    expect(c.a.merged([viaRedis(c.a.digest(HEALTH, 'a'))])).toEqual(c.a.snapshot(HEALTH));
  });

  it("takes percentiles from merged buckets, not from the nodes' percentiles", () => {
    const c = cluster();
    // disjoint: A answers 90 requests in 10 ms, B 10 in 2 s
    for (let i = 0; i < 90; i++) c.send('a', { latencyMs: 10, ttftMs: 4 });
    for (let i = 0; i < 10; i++) c.send('b', { latencyMs: 2000, ttftMs: 1500 });
    c.tick();
    const merged = c.a.merged([c.a.digest(HEALTH, 'a'), c.b.digest(HEALTH, 'b')]);
    // the 50th and 90th requests are A's, the 99th is B's; a mean of the nodes' p50s would be ~1 s
    expect(merged.summary.p50_ms).toBe(rounded(10));
    expect(merged.summary.p99_ms).toBe(rounded(2000));
    expect(merged.summary.ttft_p50_ms).toBe(rounded(4));
    expect(merged.series.p50_ms.at(-1)).toBe(rounded(10));
    expect(merged.series.p99_ms.at(-1)).toBe(rounded(2000));
    const gpt = merged.models.find((m) => m.id === 'gpt-4o');
    expect(gpt?.last_minute.p50_ms).toBe(rounded(10));
    expect(gpt?.last_minute.p99_ms).toBe(rounded(2000));
    expect(merged.totals.requests).toBe(100);
  });

  it('lines nodes up by second when their digests were taken a second apart', () => {
    const c = cluster();
    c.send('a', {});
    c.send('b', {});
    c.send('b', {});
    const early = c.b.digest(HEALTH, 'b');
    c.tick();
    const merged = c.a.merged([c.a.digest(HEALTH, 'a'), early]);
    expect(merged.series.requests.at(-1)).toBe(3);
    expect(merged.models[0]?.spark.at(-1)).toBe(3);
    expect(merged.summary.inflight).toBe(0);
  });

  it('shows the most severe status and the latest cooldown any node reports', () => {
    const at = (s: number) => new Date(T0 + s * 1000).toISOString();
    const one: ChannelHealth[] = [
      { id: 1, name: 'x', type: 'openai', status: 'enabled', statusReason: null, cooldownUntil: at(5) },
      { id: 2, name: 'y', type: 'openai', status: 'enabled', statusReason: null, cooldownUntil: null },
    ];
    const two: ChannelHealth[] = [
      {
        id: 2,
        name: 'y',
        type: 'openai',
        status: 'auto_disabled',
        statusReason: 'bad key',
        cooldownUntil: at(9),
      },
      { id: 1, name: 'x', type: 'openai', status: 'enabled', statusReason: null, cooldownUntil: at(30) },
      { id: 3, name: 'z', type: 'openai', status: 'enabled', statusReason: null, cooldownUntil: null },
    ];
    expect(mergeHealth([one, two])).toEqual([
      { id: 1, name: 'x', type: 'openai', status: 'enabled', statusReason: null, cooldownUntil: at(30) },
      {
        id: 2,
        name: 'y',
        type: 'openai',
        status: 'auto_disabled',
        statusReason: 'bad key',
        cooldownUntil: at(9),
      },
      { id: 3, name: 'z', type: 'openai', status: 'enabled', statusReason: null, cooldownUntil: null },
    ]);
  });
});
