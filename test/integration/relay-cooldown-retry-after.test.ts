/**
 * When every channel serving a model is cooling down, the gateway's 503 tells the client how long
 * to wait: the time left until the soonest of them may be tried again, not a fixed guess. The
 * channels are cooled by the upstream's own 429 Retry-After (4 minutes on one, 30 s on the other).
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';

let gw: TestGateway;
let sim: OpenAISim;
let secret: string;

beforeAll(async () => {
  sim = await startOpenAISim();
  gw = await startGateway();
  for (const name of ['first', 'second']) {
    await gw.addChannel({
      name,
      type: 'openai',
      keys: [`sk-up-${name}-000000000000`],
      models: ['gpt-4o-mini'],
      base_url: sim.url,
    });
  }
  secret = await gw.createKey();
});

afterAll(async () => {
  await gw?.close();
  await sim?.close();
});

async function chat(): Promise<Response> {
  return fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
  });
}

describe('every channel cooling down', () => {
  it('answers 503 with Retry-After the time until the soonest channel is usable', async () => {
    const limited = { kind: 'status', status: 429 } as const;
    sim.fault({ ...limited, headers: { 'retry-after': '240' } });
    sim.fault({ ...limited, headers: { 'retry-after': '30' } });
    const first = await chat();
    expect(first.status).toBe(429);
    expect(sim.callCount('/chat/completions')).toBe(2);

    const cooling = await chat();
    expect(cooling.status).toBe(503);
    const wait = Number(cooling.headers.get('retry-after'));
    expect(wait).toBeGreaterThanOrEqual(28);
    expect(wait).toBeLessThanOrEqual(30);
    expect(sim.callCount('/chat/completions')).toBe(2);

    // the official client reads the same header
    const client = new OpenAI({ apiKey: secret, baseURL: `${gw.url}/v1`, maxRetries: 0 });
    const err = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(Number((err as InstanceType<typeof OpenAI.APIError>).headers?.get('retry-after'))).toBe(wait);
  });

  it('says 4 minutes when the only channel left has 4 minutes of cooldown left', async () => {
    // the 30 s channel is taken away: what remains cools for 240 s
    const channels = await gw.call<{ id: number; name: string; cooldown_until: string | null }[]>(
      'GET',
      '/v1/channels',
    );
    const soon = channels
      .filter((c) => c.cooldown_until !== null)
      .sort((a, b) => Date.parse(a.cooldown_until!) - Date.parse(b.cooldown_until!))[0]!;
    await gw.call('DELETE', `/v1/channels/${soon.id}`);
    const res = await chat();
    expect(res.status).toBe(503);
    const wait = Number(res.headers.get('retry-after'));
    expect(wait).toBeGreaterThanOrEqual(235);
    expect(wait).toBeLessThanOrEqual(240);
  });
});
