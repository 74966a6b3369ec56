/**
 * Metrics through the real relay: requests sent with the official OpenAI client to the in-process
 * gateway (an OpenAI simulator behind it) must show up, exactly counted, in `GET /metrics` (parsed
 * by a strict Prometheus text parser) and in the control socket's snapshot.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import { parsePrometheus } from '../support/prom-parse.js';
import { isMetricsSnapshot, type MetricsSnapshot } from '../../src/shared/metrics-types.js';

let gw: TestGateway;
let sim: OpenAISim;
let client: OpenAI;

const PLAIN = 12;
const STREAMS = 5;
const REJECTED = 2;
const UNKNOWN_MODEL = 3;
let tokensIn = 0;
let tokensOut = 0;

beforeAll(async () => {
  sim = await startOpenAISim();
  gw = await startGateway();
  await gw.addChannel({
    name: 'sim',
    type: 'openai',
    keys: ['sk-upstream-1'],
    models: ['gpt-4o-mini'],
    base_url: sim.url,
  });
  await gw.call('POST', '/v1/channels', {
    name: 'spare',
    type: 'openai',
    keys: ['sk-upstream-2'],
    models: ['other-model'],
    base_url: sim.url,
    disabled: true,
  });
  client = new OpenAI({
    apiKey: await gw.createKey({ name: 'app' }),
    baseURL: `${gw.url}/v1`,
    maxRetries: 0,
  });

  const chat = () =>
    client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
  for (let i = 0; i < PLAIN; i++) {
    const res = await chat();
    tokensIn += res.usage?.prompt_tokens ?? 0;
    tokensOut += res.usage?.completion_tokens ?? 0;
  }
  for (let i = 0; i < STREAMS; i++) {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'stream please' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    for await (const chunk of stream) {
      tokensIn += chunk.usage?.prompt_tokens ?? 0;
      tokensOut += chunk.usage?.completion_tokens ?? 0;
    }
  }
  // the upstream rejects the request itself: passed back, not retried
  sim.fault(
    { kind: 'status', status: 400, body: { error: { message: 'bad', type: 'invalid_request_error' } } },
    REJECTED,
  );
  for (let i = 0; i < REJECTED; i++) await expect(chat()).rejects.toThrow();
  for (let i = 0; i < UNKNOWN_MODEL; i++) {
    await expect(
      client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toThrow();
  }
}, 60_000);

afterAll(async () => {
  await gw?.close();
  await sim?.close();
});

describe('metrics through the relay', () => {
  it('GET /metrics counts every request by model, channel and status', async () => {
    const res = await fetch(`${gw.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    const p = parsePrometheus(await res.text());
    const total = PLAIN + STREAMS + REJECTED + UNKNOWN_MODEL;
    expect(p.sum('bc_requests_total')).toBe(total);
    expect(p.sum('bc_requests_total', { model: 'gpt-4o-mini', channel: 'sim', status: '200' })).toBe(
      PLAIN + STREAMS,
    );
    expect(p.sum('bc_requests_total', { model: 'gpt-4o-mini', channel: 'sim', status: '400' })).toBe(
      REJECTED,
    );
    // a model no channel serves and no price names shares the `other` label
    expect(p.sum('bc_requests_total', { model: 'other', status: '404' })).toBe(UNKNOWN_MODEL);
    expect(p.find('bc_requests_total', { model: 'no-such-model' })).toEqual([]);
    expect(p.sum('bc_request_errors_total')).toBe(REJECTED + UNKNOWN_MODEL);
    expect(p.sum('bc_request_duration_seconds_count')).toBe(total);
    expect(p.sum('bc_ttft_seconds_count', { model: 'gpt-4o-mini' })).toBeGreaterThanOrEqual(STREAMS);
    expect(p.sum('bc_tokens_total', { type: 'input' })).toBe(tokensIn);
    expect(p.sum('bc_tokens_total', { type: 'output' })).toBe(tokensOut);
    expect(p.sum('bc_inflight_requests')).toBe(0);
    expect(p.sum('bc_channel_up', { channel: 'sim' })).toBe(1);
    expect(p.sum('bc_channel_up', { channel: 'spare' })).toBe(0);
    expect(p.families.get('bc_cost_usd_total')?.type).toBe('counter');
  });

  it('needs no client key, and shows no secret', async () => {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    expect(text).not.toContain('sk-upstream');
    expect(text).not.toContain('sk-bc-');
  });

  it('the control snapshot agrees with the requests sent', async () => {
    const snap: unknown = await gw.call('GET', '/v1/metrics/snapshot');
    expect(isMetricsSnapshot(snap)).toBe(true);
    const s = snap as MetricsSnapshot;
    const total = PLAIN + STREAMS + REJECTED + UNKNOWN_MODEL;
    expect(s.totals.requests).toBe(total);
    expect(s.totals.errors).toBe(REJECTED + UNKNOWN_MODEL);
    expect(s.totals.input_tokens).toBe(tokensIn);
    const sim1 = s.channels.find((c) => c.name === 'sim');
    expect(sim1?.last_minute.requests).toBe(PLAIN + STREAMS + REJECTED);
    expect(sim1?.last_minute.p50_ms).not.toBeNull();
    expect(s.channels.find((c) => c.name === 'spare')?.status).toBe('disabled');
    expect(s.keys.find((k) => k.name === 'app')?.window.requests).toBe(total);
    expect(s.errors_by_category.map((e) => e.category).sort()).toEqual(['not_found', 'upstream_rejected']);
  });
});
