/**
 * Live metrics by user through the real relay: requests by two keys of one user, one of another
 * user and one of an operator's key go through the in-process gateway (an OpenAI simulator behind
 * it); the control socket's snapshot must count each user's requests, errors, tokens and spend
 * exactly as their log rows say, leave the operator's key out of the users' table, and `GET
 * /metrics` must carry no user label.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import type { KeyCreated, LogRow } from '../../src/shared/control-api.js';
import { isMetricsSnapshot, type MetricsSnapshot } from '../../src/shared/metrics-types.js';

let gw: TestGateway;
let sim: OpenAISim;
const MODEL = 'm-metrics-user';

beforeAll(async () => {
  sim = await startOpenAISim();
  gw = await startGateway();
  await gw.addChannel({ name: 'sim', type: 'openai', keys: ['sk-up'], models: [MODEL], base_url: sim.url });
  await gw.call('PUT', `/v1/prices/${MODEL}`, { input: 1_000_000, output: 4_000_000 });
  await gw.call('POST', '/v1/users', { name: 'zelda', balance: 5_000_000 });
  await gw.call('POST', '/v1/users', { name: 'quill', unmetered: true });
}, 60_000);

afterAll(async () => {
  await gw?.close();
  await sim?.close();
});

async function chat(key: string, model = MODEL): Promise<number> {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, max_tokens: 50, messages: [{ role: 'user', content: 'hi there' }] }),
  });
  await res.text();
  return res.status;
}

const userKey = async (user: string, name: string) =>
  (await gw.call<KeyCreated>('POST', '/v1/keys', { name, user })).key;

describe('metrics by user through the gateway', () => {
  it('counts each user over all their keys, exactly as the log rows say', async () => {
    const zeldaA = await userKey('zelda', 'a');
    const zeldaB = await userKey('zelda', 'b');
    const quill = await userKey('quill', 'main');
    const ops = await gw.createKey({ name: 'ops' });
    expect(await chat(zeldaA)).toBe(200);
    expect(await chat(zeldaA)).toBe(200);
    expect(await chat(zeldaB)).toBe(200);
    expect(await chat(zeldaB, 'no-such-model')).toBe(404);
    expect(await chat(quill)).toBe(200);
    expect(await chat(ops)).toBe(200);
    expect(await chat(ops)).toBe(200);

    const snap: unknown = await gw.call('GET', '/v1/metrics/snapshot');
    expect(isMetricsSnapshot(snap)).toBe(true);
    const { users, totals } = snap as MetricsSnapshot;
    expect(totals.requests).toBe(7);
    const logs = await gw.call<LogRow[]>('GET', '/v1/logs?limit=100');
    const expected = (prefix: string) => {
      const rows = logs.filter((r) => r.key?.startsWith(prefix));
      return {
        requests: rows.length,
        errors: rows.filter((r) => r.status >= 400).length,
        input_tokens: rows.reduce((a, r) => a + r.input_tokens, 0),
        output_tokens: rows.reduce((a, r) => a + r.output_tokens, 0),
        cost: rows.reduce((a, r) => a + (r.cost ?? 0), 0),
      };
    };
    const byName = new Map(users.map((u) => [u.name, u]));
    expect([...byName.keys()].sort()).toEqual(['quill', 'zelda']);
    const zelda = expected('zelda/');
    expect(zelda).toMatchObject({ requests: 4, errors: 1 });
    expect(zelda.cost).toBeGreaterThan(0);
    expect(byName.get('zelda')?.window).toEqual(zelda);
    expect(byName.get('zelda')?.last_minute).toMatchObject(zelda);
    expect(byName.get('quill')?.window).toEqual(expected('quill/'));
    expect(byName.get('zelda')?.inflight).toBe(0);
    const zeldaView = await gw.call<{ id: number }>('GET', '/v1/users/zelda');
    expect(byName.get('zelda')?.id).toBe(String(zeldaView.id));
  });

  it('gives Prometheus no user label', async () => {
    const res = await fetch(`${gw.url}/metrics`);
    const text = await res.text();
    expect(text).toContain('bc_requests_total');
    expect(text).not.toMatch(/zelda|quill|user=/);
  });
});
