/**
 * BC_TRUST_PROXY through the real gateway: a key allowed only from 203.0.113.7 is served when a
 * trusted proxy (here: loopback) says the client is 203.0.113.7, on the relay's fast lane and on a
 * Fastify route alike, and refused when it says otherwise; without BC_TRUST_PROXY the header is
 * ignored (the peer, 127.0.0.1, is the client).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';

let sim: OpenAISim;
const gateways: TestGateway[] = [];

beforeAll(async () => {
  sim = await startOpenAISim();
});
afterAll(async () => {
  for (const g of gateways) await g.close();
  await sim?.close();
});

async function gatewayWith(env: Record<string, string>): Promise<{ gw: TestGateway; key: string }> {
  const gw = await startGateway({ env });
  gateways.push(gw);
  await gw.addChannel({ name: 'sim', type: 'openai', keys: ['sk-up'], models: ['m'], base_url: sim.url });
  const key = await gw.createKey({ allow_ips: ['203.0.113.7/32'] });
  return { gw, key };
}

async function statuses(gw: TestGateway, key: string, forwardedFor: string): Promise<[number, number]> {
  const headers = {
    authorization: `Bearer ${key}`,
    'x-forwarded-for': forwardedFor,
    'content-type': 'application/json',
  };
  const chat = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
  });
  await chat.arrayBuffer();
  const models = await fetch(`${gw.url}/v1/models`, { headers });
  await models.arrayBuffer();
  return [chat.status, models.status];
}

describe('BC_TRUST_PROXY', () => {
  it('takes the client from X-Forwarded-For sent by a trusted proxy, on both paths', async () => {
    const { gw, key } = await gatewayWith({ BC_TRUST_PROXY: 'loopback' });
    expect(await statuses(gw, key, '203.0.113.7')).toEqual([200, 200]);
    expect(await statuses(gw, key, '203.0.113.7, 198.51.100.1')).toEqual([403, 403]);
  });

  it('ignores the header when no proxy is trusted', async () => {
    const { gw, key } = await gatewayWith({});
    expect(await statuses(gw, key, '203.0.113.7')).toEqual([403, 403]);
  });
});
