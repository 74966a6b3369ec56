/**
 * The background probe on its own timer (SPEC section 6): an upstream that refuses the channel's
 * key auto-disables it; once the upstream accepts again, the probe started by the daemon's
 * services (BC_PROBE_INTERVAL_MS, here 200 ms) re-enables it with no call from the test, and
 * traffic flows again. A probe that never fires leaves the channel disabled and fails this test.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import OpenAI from 'openai';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import type { ChannelView } from '../../src/shared/control-api.js';

let gw: TestGateway;
let sim: OpenAISim;
let client: OpenAI;

beforeAll(async () => {
  sim = await startOpenAISim();
  gw = await startGateway({ env: { BC_PROBE_INTERVAL_MS: '200' } });
  await gw.addChannel({
    name: 'only',
    type: 'openai',
    keys: ['sk-only-0000000000'],
    models: ['m'],
    base_url: sim.url,
  });
  client = new OpenAI({ apiKey: await gw.createKey(), baseURL: `${gw.url}/v1`, maxRetries: 0 });
});

afterAll(async () => {
  await gw?.close();
  await sim?.close();
});

async function status(): Promise<ChannelView> {
  return (await gw.call<ChannelView[]>('GET', '/v1/channels')).find((c) => c.name === 'only')!;
}

it('a channel auto-disabled by a 401 is re-enabled by the timer once the upstream accepts again', async () => {
  sim.fault({ kind: 'status', status: 401 }, Infinity);
  await expect(
    client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
  ).rejects.toThrow();
  expect((await status()).status).toBe('auto_disabled');
  // while the upstream still refuses, the probe runs and keeps it disabled
  const refusedBefore = sim.callCount('/v1/chat/completions');
  await new Promise((r) => setTimeout(r, 700));
  expect(sim.callCount('/v1/chat/completions')).toBeGreaterThan(refusedBefore);
  expect((await status()).status).toBe('auto_disabled');

  sim.clearFaults();
  const deadline = Date.now() + 10_000;
  while ((await status()).status !== 'enabled' && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 100));
  expect(await status()).toMatchObject({ status: 'enabled', status_reason: null });
  const answer = await client.chat.completions.create({
    model: 'm',
    messages: [{ role: 'user', content: 'hi' }],
  });
  expect(answer.choices[0]?.message.content).toBeTruthy();
});
