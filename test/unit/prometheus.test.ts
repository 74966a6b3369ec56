import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/daemon/metrics/index.js';
import type { ChannelHealth, RequestSample } from '../../src/daemon/metrics/index.js';
import { parsePrometheus } from '../support/prom-parse.js';

const T0 = 1_700_000_000_000;

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
    cost: 1_500_000,
    latencyMs: 700,
    ttftMs: 80,
    stream: true,
    ...over,
  };
}

const health: ChannelHealth[] = [
  { id: 1, name: 'main', type: 'openai', status: 'enabled', statusReason: null, cooldownUntil: null },
  {
    id: 2,
    name: 'spare',
    type: 'anthropic',
    status: 'enabled',
    statusReason: null,
    cooldownUntil: new Date(T0 + 9_200).toISOString(),
  },
  { id: 3, name: 'off', type: 'gemini', status: 'disabled', statusReason: 'by hand', cooldownUntil: null },
];

describe('Prometheus exposition', () => {
  it('counts every request by model, channel and status, with histograms that add up', () => {
    const m = createMetrics({ now: () => T0 });
    for (let i = 0; i < 5; i++) m.requestFinished(sample());
    m.requestFinished(
      sample({ status: 502, errorCategory: 'upstream', cost: null, ttftMs: null, latencyMs: 40 }),
    );
    m.requestFinished(sample({ model: 'claude', channelId: 2, channelName: 'spare', latencyMs: 400_000 }));
    m.requestFinished(
      sample({ channelId: null, channelName: null, status: 404, errorCategory: 'not_found' }),
    );
    m.requestStarted('gpt-4o', 7);
    m.attemptStarted(2);
    const p = parsePrometheus(m.prometheus(health));

    expect(p.sum('bc_requests_total')).toBe(8);
    expect(p.sum('bc_requests_total', { model: 'gpt-4o', channel: 'main', status: '200' })).toBe(5);
    expect(p.sum('bc_requests_total', { status: '502' })).toBe(1);
    expect(p.sum('bc_requests_total', { channel: 'none', status: '404' })).toBe(1);
    expect(p.sum('bc_request_errors_total', { category: 'upstream' })).toBe(1);
    expect(p.sum('bc_tokens_total', { type: 'input' })).toBe(80);
    expect(p.sum('bc_tokens_total', { model: 'claude', type: 'output' })).toBe(20);
    expect(p.sum('bc_cost_usd_total')).toBeCloseTo(7 * 1.5);
    expect(p.sum('bc_request_duration_seconds_count')).toBe(8);
    expect(p.sum('bc_request_duration_seconds_sum')).toBeCloseTo(6 * 0.7 + 0.04 + 400);
    // 400 s is past the last bound: only +Inf holds it
    expect(p.sum('bc_request_duration_seconds_bucket', { model: 'claude', le: '300' })).toBe(0);
    expect(p.sum('bc_request_duration_seconds_bucket', { model: 'claude', le: '+Inf' })).toBe(1);
    expect(p.sum('bc_request_duration_seconds_bucket', { channel: 'main', le: '0.05' })).toBe(1);
    expect(p.sum('bc_ttft_seconds_count')).toBe(7);
    expect(p.sum('bc_ttft_seconds_bucket', { le: '0.1' })).toBe(7);
    expect(p.sum('bc_inflight_requests')).toBe(1);
    expect(p.families.get('bc_request_duration_seconds')?.type).toBe('histogram');
    expect(p.families.get('bc_requests_total')?.type).toBe('counter');
  });

  it('reports channel health and cooldowns for every configured channel', () => {
    const m = createMetrics({ now: () => T0 });
    m.attemptStarted(2);
    const p = parsePrometheus(m.prometheus(health));
    expect(p.find('bc_channel_up').map((s) => [s.labels.channel, s.labels.type, s.value])).toEqual([
      ['main', 'openai', 1],
      ['off', 'gemini', 0],
      ['spare', 'anthropic', 0],
    ]);
    expect(p.sum('bc_channel_cooldown_seconds', { channel: 'spare' })).toBe(10);
    expect(p.sum('bc_channel_cooldown_seconds', { channel: 'main' })).toBe(0);
    expect(p.sum('bc_channel_inflight_attempts', { channel: 'spare' })).toBe(1);
  });

  it('escapes hostile label values and keeps the label set bounded', () => {
    const m = createMetrics({ now: () => T0, maxLabels: 5 });
    const weird = 'a"b\\c\nd';
    m.requestFinished(sample({ model: weird }));
    for (let i = 0; i < 50; i++) m.requestFinished(sample({ model: `model-${i}`, status: 1000 + i }));
    const p = parsePrometheus(m.prometheus(health));
    const models = new Set(p.find('bc_requests_total').map((s) => s.labels.model));
    expect(models.size).toBe(6);
    expect(models.has(weird)).toBe(true);
    expect(models.has('other')).toBe(true);
    // statuses outside HTTP's range collapse into one label value
    expect(p.sum('bc_requests_total', { status: '0' })).toBe(50);
    expect(p.sum('bc_requests_total')).toBe(51);
  });
});

describe('the strict Prometheus parser', () => {
  const ok = '# HELP x_total X.\n# TYPE x_total counter\nx_total{a="1"} 2\n';

  it('accepts well-formed text and reads escapes', () => {
    const p = parsePrometheus('# TYPE y gauge\ny{v="q\\"\\\\\\n"} -1.5e3\ny{v="z"} +Inf\n');
    expect(p.find('y').map((s) => [s.labels.v, s.value])).toEqual([
      ['q"\\\n', -1500],
      ['z', Infinity],
    ]);
    expect(parsePrometheus(ok).sum('x_total')).toBe(2);
  });

  it.each([
    ['no trailing newline', ok.trimEnd()],
    ['a bad escape', '# TYPE x gauge\nx{a="\\t"} 1\n'],
    ['a duplicate series', ok + 'x_total{a="1"} 3\n'],
    ['a negative counter', '# TYPE x_total counter\nx_total -1\n'],
    ['a bad value', '# TYPE x gauge\nx 1,5\n'],
    ['a TYPE after samples', 'x 1\n# TYPE x gauge\n'],
    ['a split family', '# TYPE x gauge\n# TYPE y gauge\nx 1\ny 1\nx{a="b"} 1\n'],
    [
      'non-cumulative buckets',
      '# TYPE h histogram\nh_bucket{le="1"} 3\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 2\n',
    ],
    [
      'a +Inf bucket that disagrees with _count',
      '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n',
    ],
    ['a bad label name', '# TYPE x gauge\nx{1a="b"} 1\n'],
  ])('rejects %s', (_what, text) => {
    expect(() => parsePrometheus(text)).toThrow();
  });
});
