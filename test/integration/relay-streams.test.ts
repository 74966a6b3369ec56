/**
 * Streaming edge cases through the relay: a 1 MB single SSE event, multi-byte characters split
 * across TCP chunks, a stall mid-stream, an in-stream upstream error, and a client abort that
 * must reach the upstream within 100 ms.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import type { LogRow } from '../../src/shared/control-api.js';

let gw: TestGateway;
let sim: OpenAISim;
let secret: string;

beforeAll(async () => {
  sim = await startOpenAISim();
  gw = await startGateway();
  await gw.addChannel({
    name: 'sim',
    type: 'openai',
    keys: ['sk-up-000000000000'],
    models: ['m'],
    base_url: sim.url,
    timeout_ms: 800,
  });
  secret = await gw.createKey();
});

afterAll(async () => {
  await gw.close();
  await sim.close();
});

/** Simulator knobs travel in OpenAI's `metadata` field: the gateway forwards bodies, not client headers. */
function client(knobs: Record<string, string> = {}): { c: OpenAI; knobs: Record<string, string> } {
  return { c: new OpenAI({ apiKey: secret, baseURL: `${gw.url}/v1`, maxRetries: 0 }), knobs };
}

async function collect(
  k: { c: OpenAI; knobs: Record<string, string> },
  opts: { usage?: boolean } = {},
): Promise<string> {
  const stream = await k.c.chat.completions.create({
    model: 'm',
    messages: [{ role: 'user', content: 'go' }],
    metadata: k.knobs,
    stream: true,
    ...(opts.usage ? { stream_options: { include_usage: true } } : {}),
  });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  return text;
}

async function lastLog(): Promise<LogRow> {
  return (await gw.call<LogRow[]>('GET', '/v1/logs?limit=1'))[0]!;
}

describe('streams', () => {
  it('carries a 1 MB single SSE event intact, raw and filtered', async () => {
    const big = client({ 'x-sim-deltas': '1', 'x-sim-delta-bytes': String(1024 * 1024) });
    const raw = await collect(big, { usage: true });
    expect(raw.length).toBe(1024 * 1024);
    const filtered = await collect(big);
    expect(filtered).toBe(raw);
  });

  it('keeps multi-byte characters split across TCP chunks intact', async () => {
    const text = 'héllo € 😀 世界 ✓';
    const c = client({
      'x-sim-text': encodeURIComponent(text),
      'x-sim-split-utf8': '1',
      'x-sim-deltas': '4',
    });
    expect(await collect(c)).toBe(text);
    expect(await collect(c, { usage: true })).toBe(text);
  });

  it('ends a stream that stalls after the first byte with an in-stream error and logs a timeout', async () => {
    sim.fault({ kind: 'stallAfter', afterFrames: 2 });
    const err = await collect(client()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    const row = await lastLog();
    expect(row.error).toBe('timeout');
    expect(row.status).toBe(502);
  });

  it('relays an upstream in-stream error as an error event', async () => {
    sim.fault({ kind: 'midStreamError', afterFrames: 2 });
    const err = await collect(client()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
  });

  it('aborts the upstream request promptly (under 500 ms) when the client disconnects, and bills what was delivered', async () => {
    const before = sim.calls.length;
    const body = JSON.stringify({
      model: 'm',
      messages: [{ role: 'user', content: 'go' }],
      stream: true,
      metadata: { 'x-sim-deltas': '200', 'x-sim-pace-ms': '20' },
    });
    let disconnectedAt = 0;
    await new Promise<void>((resolve, reject) => {
      const req = http.request(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${secret}`,
          'content-type': 'application/json',
        },
      });
      req.on('response', (res) => {
        let frames = 0;
        res.on('data', (d: Buffer) => {
          frames += d.toString().split('data:').length - 1;
          // the role frame, then a few content deltas
          if (frames >= 5 && disconnectedAt === 0) {
            disconnectedAt = Date.now();
            req.destroy();
            resolve();
          }
        });
      });
      req.on('error', () => undefined);
      req.end(body);
      setTimeout(() => reject(new Error('no data')), 5000);
    });
    const call = sim.calls[before]!;
    const deadline = Date.now() + 1000;
    while (call.closedAt === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(call.aborted).toBe(true);
    // measured 27-68 ms on a 2-core machine running two mutation jobs (load 7-14). A relay that
    // never aborts lets the upstream run its 200 x 20 ms deltas to the end (4 s): aborted stays
    // false past the 1 s wait above; 500 ms leaves room for load and still fails a late abort
    expect(call.closedAt! - disconnectedAt).toBeLessThan(500);
    // settlement may load the offline tokenizer (the upstream never reported usage): wait for the row
    let row = await lastLog();
    for (let i = 0; i < 100 && row?.status !== 499; i++) {
      await new Promise((r) => setTimeout(r, 50));
      row = await lastLog();
    }
    expect(row.status).toBe(499);
    expect(row.usage_estimated).toBe(true);
    expect(row.output_tokens).toBeGreaterThan(0);
  });
});
