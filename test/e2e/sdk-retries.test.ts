/**
 * The official SDKs with their default retries (maxRetries 2, Retry-After honoured) against the
 * gateway's own 429 and 503 answers: a single channel whose upstream throttles once (429 with
 * Retry-After: 1) or fails once (503) makes the gateway answer in kind, the SDK waits and asks
 * again, and the second or third try is served once the channel's cooldown has passed. Each try
 * is one log row; the upstream is called once per try that reached it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import { startAnthropicSim, type AnthropicSim } from '../support/sim/anthropic-sim.js';
import type { LogRow } from '../../src/shared/control-api.js';

let gw: TestGateway;
let openaiSim: OpenAISim;
let anthropicSim: AnthropicSim;

beforeEach(async () => {
  openaiSim = await startOpenAISim();
  anthropicSim = await startAnthropicSim();
  gw = await startGateway();
  await gw.addChannel({
    name: 'oa',
    type: 'openai',
    keys: ['sk-oa-0000000000'],
    models: ['gpt-m'],
    base_url: openaiSim.url,
  });
  await gw.addChannel({
    name: 'an',
    type: 'anthropic',
    keys: ['sk-ant-0000000000'],
    models: ['claude-m'],
    base_url: anthropicSim.url,
  });
});

afterEach(async () => {
  await gw?.close();
  await openaiSim?.close();
  await anthropicSim?.close();
});

async function statuses(): Promise<number[]> {
  const rows = await gw.call<LogRow[]>('GET', '/v1/logs?limit=20');
  return rows.map((r) => r.status).reverse();
}

async function openai(): Promise<string | null | undefined> {
  const client = new OpenAI({ apiKey: await gw.createKey(), baseURL: `${gw.url}/v1` });
  const r = await client.chat.completions.create({
    model: 'gpt-m',
    messages: [{ role: 'user', content: 'hi' }],
  });
  return r.choices[0]?.message.content;
}

async function anthropic(): Promise<string | undefined> {
  const client = new Anthropic({ apiKey: await gw.createKey(), baseURL: gw.url });
  const r = await client.messages.create({
    model: 'claude-m',
    max_tokens: 64,
    messages: [{ role: 'user', content: 'hi' }],
  });
  const first = r.content[0];
  return first?.type === 'text' ? first.text : undefined;
}

describe.each([
  { sdk: 'openai', ask: openai, sim: () => openaiSim, path: '/v1/chat/completions' },
  { sdk: '@anthropic-ai/sdk', ask: anthropic, sim: () => anthropicSim, path: '/v1/messages' },
])('$sdk with its default retries', ({ ask, sim, path }) => {
  it('429 with Retry-After: 1 -> waits about a second, then is served', async () => {
    sim().fault({ kind: 'status', status: 429, headers: { 'retry-after': '1' } });
    const t0 = Date.now();
    expect(await ask()).toBeTruthy();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(sim().callCount(path)).toBe(2);
    expect(await statuses()).toEqual([429, 200]);
  }, 30_000);

  it('503 -> the channel cools down, the SDK follows the gateway Retry-After, then is served', async () => {
    sim().fault({ kind: 'status', status: 503 });
    expect(await ask()).toBeTruthy();
    // the upstream saw the failing call and the one that was served, nothing in between
    expect(sim().callCount(path)).toBe(2);
    const seen = await statuses();
    expect(seen[0]).toBe(503);
    expect(seen.at(-1)).toBe(200);
    expect(seen.length).toBeLessThanOrEqual(3);
  }, 30_000);
});
