import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/daemon/metrics/index.js';
import type { ChannelHealth, RequestSample } from '../../src/daemon/metrics/index.js';

const T0 = 1_700_000_000_000; // a whole second

function sample(over: Partial<RequestSample> = {}): RequestSample {
  return {
    channelId: 1,
    channelName: 'main',
    model: 'gpt-4o',
    keyId: 7,
    keyName: 'app',
    status: 200,
    errorCategory: null,
    inputTokens: 10,
    outputTokens: 20,
    cost: 300,
    latencyMs: 100,
    ttftMs: 40,
    stream: true,
    ...over,
  };
}

function clock(start = T0) {
  let t = start;
  return { now: () => t, set: (ms: number) => (t = ms), add: (ms: number) => (t += ms) };
}

function finish(m: ReturnType<typeof createMetrics>, s: RequestSample = sample()): void {
  m.requestStarted(s.model, s.keyId);
  if (s.channelId !== null) m.attemptStarted(s.channelId);
  if (s.channelId !== null) m.attemptEnded(s.channelId);
  m.requestFinished(s);
}

const health: ChannelHealth[] = [
  { id: 1, name: 'main', type: 'openai', status: 'enabled', statusReason: null, cooldownUntil: null },
  {
    id: 2,
    name: 'spare',
    type: 'anthropic',
    status: 'auto_disabled',
    statusReason: 'bad key',
    cooldownUntil: null,
  },
];

describe('metrics recorder', () => {
  it('counts requests, tokens and spend into the totals, the last minute and the right second', () => {
    const c = clock();
    const m = createMetrics({ now: c.now, windowS: 900 });
    for (let i = 0; i < 4; i++) finish(m);
    finish(m, sample({ status: 502, errorCategory: 'upstream', cost: null, outputTokens: 0 }));
    c.add(1000);
    const snap = m.snapshot(health);
    expect(snap.totals).toEqual({ requests: 5, errors: 1, input_tokens: 50, output_tokens: 80, cost: 1200 });
    expect(snap.series.requests).toHaveLength(900);
    expect(snap.end_s).toBe(T0 / 1000);
    expect(snap.series.requests.at(-1)).toBe(5);
    expect(snap.series.errors.at(-1)).toBe(1);
    expect(snap.series.requests.slice(0, -1).every((v) => v === 0)).toBe(true);
    expect(snap.summary.rps).toBe(1); // 5 requests over the last 5 complete seconds
    expect(snap.summary.error_rate).toBeCloseTo(0.2);
    expect(snap.summary.spend_per_min).toBe(1200);
    expect(snap.errors_by_category).toEqual([{ category: 'upstream', last_minute: 1, window: 1 }]);
  });

  it('keeps rows by model, key and channel, with idle configured channels and their cooldown', () => {
    const c = clock();
    const m = createMetrics({ now: c.now });
    finish(m, sample({ model: 'a' }));
    finish(m, sample({ model: 'b', keyId: 8, keyName: 'batch', channelId: 2, channelName: 'spare' }));
    finish(m, sample({ model: 'b', keyId: 8, keyName: 'batch', channelId: 2, channelName: 'spare' }));
    const cooling = new Date(T0 + 30_500).toISOString();
    const snap = m.snapshot([
      health[0]!,
      { ...health[1]!, cooldownUntil: cooling },
      { id: 3, name: 'idle', type: 'gemini', status: 'enabled', statusReason: null, cooldownUntil: null },
    ]);
    expect(snap.models.map((r) => [r.name, r.last_minute.requests])).toEqual([
      ['b', 2],
      ['a', 1],
    ]);
    expect(snap.keys.map((r) => [r.id, r.name, r.window.requests])).toEqual([
      ['8', 'batch', 2],
      ['7', 'app', 1],
    ]);
    const byName = new Map(snap.channels.map((r) => [r.name, r]));
    expect(byName.get('spare')).toMatchObject({
      status: 'auto_disabled',
      status_reason: 'bad key',
      cooldown_s: 31,
    });
    expect(byName.get('spare')?.last_minute.requests).toBe(2);
    expect(byName.get('idle')).toMatchObject({
      inflight: 0,
      cooldown_s: 0,
      last_minute: { requests: 0, p50_ms: null },
    });
  });

  it('tracks in-flight requests overall, per model, key and channel, and the peak per second', () => {
    const c = clock();
    const m = createMetrics({ now: c.now });
    m.requestStarted('a', 1);
    m.requestStarted('a', 1);
    m.requestStarted('b', 2);
    m.attemptStarted(1);
    let snap = m.snapshot(health);
    expect(snap.summary.inflight).toBe(3);
    expect(snap.models.find((r) => r.name === 'a')?.inflight).toBe(2);
    expect(snap.channels.find((r) => r.id === '1')?.inflight).toBe(1);
    m.attemptEnded(1);
    m.requestFinished(sample({ model: 'a', keyId: 1 }));
    m.requestFinished(sample({ model: 'a', keyId: 1 }));
    c.add(1000);
    snap = m.snapshot(health);
    expect(snap.summary.inflight).toBe(1);
    expect(snap.series.inflight.at(-1)).toBe(3);
    expect(snap.models.find((r) => r.name === 'a')?.inflight).toBe(0);
    // a finish without a start must not drive the gauge below zero
    m.requestFinished(sample({ model: 'c', keyId: 3 }));
    m.requestFinished(sample({ model: 'c', keyId: 3 }));
    expect(m.snapshot(health).models.find((r) => r.name === 'c')?.inflight).toBe(0);
  });

  it('estimates latency and TTFT percentiles from the bucket counts within 12%', () => {
    const c = clock();
    const m = createMetrics({ now: c.now });
    for (let ms = 1; ms <= 1000; ms++) finish(m, sample({ latencyMs: ms, ttftMs: ms / 2 }));
    c.add(1000);
    const snap = m.snapshot(health);
    const near = (v: number | null, want: number) => {
      expect(v).not.toBeNull();
      expect(Math.abs((v ?? 0) - want) / want).toBeLessThan(0.12);
    };
    near(snap.summary.p50_ms, 500);
    near(snap.summary.p99_ms, 990);
    near(snap.summary.ttft_p50_ms, 250);
    near(snap.series.p50_ms.at(-1) ?? null, 500);
    near(snap.series.ttft_p50_ms.at(-1) ?? null, 250);
    expect(snap.series.p50_ms.at(-2)).toBeNull();
  });

  it('ages seconds out of the last minute and then out of the window', () => {
    const c = clock();
    const m = createMetrics({ now: c.now, windowS: 120 });
    finish(m);
    c.add(59_000);
    expect(m.snapshot(health).summary.spend_per_min).toBe(300);
    c.add(1_000);
    let snap = m.snapshot(health);
    expect(snap.summary.spend_per_min).toBe(0);
    expect(snap.summary.p50_ms).toBeNull();
    expect(snap.models[0]?.window.requests).toBe(1);
    expect(snap.series.requests).toHaveLength(120);
    expect(snap.series.requests.at(-60)).toBe(1);
    c.add(61_000);
    snap = m.snapshot(health);
    expect(snap.series.requests.every((v) => v === 0)).toBe(true);
    expect(snap.models).toHaveLength(0); // idle rows are left out
    expect(snap.totals.requests).toBe(1);
    c.add(3_600_000); // a long idle gap resets the rings without walking them
    finish(m);
    c.add(1_000);
    snap = m.snapshot(health);
    expect(snap.series.requests.at(-1)).toBe(1);
    expect(snap.series.requests.reduce((a, b) => a + b, 0)).toBe(1);
    expect(snap.totals.requests).toBe(2);
  });

  it('caps models and keys, sending the overflow to `other`', () => {
    const c = clock();
    const m = createMetrics({ now: c.now, maxLabels: 3 });
    for (let i = 0; i < 6; i++) finish(m, sample({ model: `m${i}`, keyId: i, keyName: `k${i}` }));
    finish(m, sample({ model: 'x'.repeat(500) }));
    const snap = m.snapshot(health);
    expect(snap.models.map((r) => r.id).sort()).toEqual(['m0', 'm1', 'm2', 'other']);
    expect(snap.models.find((r) => r.id === 'other')?.window.requests).toBe(4);
    expect(snap.keys.map((r) => r.id).sort()).toEqual(['0', '1', '2', 'other']);
    expect(snap.keys.find((r) => r.id === 'other')?.name).toBe('other');
  });

  it('gives only models the gateway knows a label: junk names share `other` and take no slot', () => {
    const c = clock();
    const m = createMetrics({ now: c.now, maxLabels: 100 });
    m.knowModels((model) => model === 'gpt-4o' || model === 'claude-sonnet-4-5');
    for (let i = 0; i < 150; i++) finish(m, sample({ model: `junk-${i}`, status: 404 }));
    finish(m, sample({ model: 'gpt-4o' }));
    finish(m, sample({ model: 'claude-sonnet-4-5' }));
    expect(
      m
        .snapshot(health)
        .models.map((r) => r.id)
        .sort(),
    ).toEqual(['claude-sonnet-4-5', 'gpt-4o', 'other']);
    const text = m.prometheus(health);
    expect(text).not.toContain('junk-');
    expect(text).toContain('bc_requests_total{model="other",channel="main",status="404"} 150');
    expect(text).toContain('bc_requests_total{model="gpt-4o",channel="main",status="200"} 1');
  });

  it('counts an error status without a category, and unknown categories, as `other`', () => {
    const m = createMetrics({ now: clock().now });
    finish(m, sample({ status: 500, errorCategory: null }));
    finish(m, sample({ status: 418, errorCategory: 'teapot' }));
    finish(m, sample({ status: 429, errorCategory: 'rate_limit' }));
    const snap = m.snapshot(health);
    expect(snap.totals.errors).toBe(3);
    expect(snap.errors_by_category).toEqual([
      { category: 'rate_limit', last_minute: 1, window: 1 },
      { category: 'other', last_minute: 2, window: 2 },
    ]);
  });
});
