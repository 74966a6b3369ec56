/**
 * One failure vocabulary (answer.ts, failureCategory): when every candidate fails before answering,
 * the log row and the client's status name the last failure as it was made, not a generic
 * `upstream`: a stalled upstream is `timeout` (504), a refused key is `upstream_auth`, an
 * upstream's own 400 is `upstream_rejected`, a 500 is `upstream`. Each case counts the calls each
 * simulator received, so a retry or a missed retry shows too.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import type { LogRow } from '../../src/shared/control-api.js';

const CHAT = '/v1/chat/completions';
let gw: TestGateway;
let sims: OpenAISim[];
let key: string;

beforeEach(async () => {
  gw = await startGateway();
  sims = await Promise.all([startOpenAISim(), startOpenAISim()]);
  for (const [i, s] of sims.entries()) {
    await gw.addChannel({
      name: `c${i}`,
      type: 'openai',
      keys: [`sk-c${i}-0000000000`],
      models: ['m'],
      base_url: s.url,
      timeout_ms: 300,
    });
  }
  key = await gw.createKey();
});

afterEach(async () => {
  await gw.close();
  await Promise.all(sims.map((s) => s.close()));
});

async function ask(): Promise<{ status: number; row: LogRow }> {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
  });
  await res.arrayBuffer();
  const row = (await gw.call<LogRow[]>('GET', '/v1/logs?limit=1'))[0]!;
  return { status: res.status, row };
}

describe('the row of a request every candidate failed', () => {
  it('is timeout (504) when every upstream stalled, after one call to each', async () => {
    for (const s of sims) s.fault({ kind: 'stall' });
    const { status, row } = await ask();
    expect(sims.map((s) => s.callCount(CHAT))).toEqual([1, 1]);
    expect(status).toBe(504);
    expect(row).toMatchObject({ status: 504, error: 'timeout', retries: 1 });
  });

  it('is upstream_auth when every upstream refused its key', async () => {
    for (const s of sims) s.fault({ kind: 'status', status: 401 });
    const { status, row } = await ask();
    expect(sims.map((s) => s.callCount(CHAT))).toEqual([1, 1]);
    expect(status).toBe(502);
    expect(row).toMatchObject({ status: 502, error: 'upstream_auth', retries: 1 });
  });

  it("is upstream_rejected for the upstream's own 400, which is not retried", async () => {
    for (const s of sims) s.fault({ kind: 'status', status: 400 });
    const { status, row } = await ask();
    expect(sims.map((s) => s.callCount(CHAT)).reduce((a, b) => a + b)).toBe(1);
    expect(status).toBe(400);
    expect(row).toMatchObject({ status: 400, error: 'upstream_rejected', retries: 0 });
  });

  it('is upstream for a 500 from every upstream', async () => {
    for (const s of sims) s.fault({ kind: 'status', status: 500 });
    const { status, row } = await ask();
    expect(sims.map((s) => s.callCount(CHAT))).toEqual([1, 1]);
    expect(status).toBe(500);
    expect(row).toMatchObject({ status: 500, error: 'upstream', retries: 1 });
  });
});
