/**
 * Crash safety (SPEC section 7): SIGKILL the real daemon process while it serves a load of
 * stream and non-stream requests, start it again, and check that every response a client received
 * completely has its log row, and that the key's spend equals the sum of the rows' costs.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openaiChannelArgs } from '../support/cli.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import type { KeyCreated, KeyView, LogRow } from '../../src/shared/control-api.js';

let daemon: TestDaemon;
let sim: OpenAISim;

beforeAll(async () => {
  sim = await startOpenAISim();
  daemon = await startTestDaemon();
});

afterAll(async () => {
  await daemon?.cleanup();
  await sim?.close();
});

interface Received {
  requestId: string;
  complete: boolean;
}

/** One request; resolves with its x-request-id and whether the whole answer arrived. */
function fire(url: string, key: string, stream: boolean): Promise<Received> {
  const body = JSON.stringify({
    model: 'm',
    messages: [{ role: 'user', content: 'load' }],
    stream,
    metadata: { 'x-sim-deltas': '8', 'x-sim-pace-ms': stream ? '5' : '0' },
  });
  return new Promise((resolve) => {
    const req = http.request(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    });
    req.on('response', (res) => {
      const id = String(res.headers['x-request-id'] ?? '');
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        const complete =
          res.statusCode === 200 && (stream ? text.includes('data: [DONE]') : text.endsWith('}'));
        resolve({ requestId: id, complete });
      });
      res.on('error', () => resolve({ requestId: id, complete: false }));
    });
    req.on('error', () => resolve({ requestId: '', complete: false }));
    req.end(body);
  });
}

describe('SIGKILL under load', () => {
  it('loses no settled request and no spend', async () => {
    const add = await daemon.bc(openaiChannelArgs('sim', 'sk-up-0000000000', 'm', '--base-url', sim.url));
    expect(add.code, add.stderr).toBe(0);
    expect((await daemon.bc(['price', 'set', 'm', '--input', '3', '--output', '7'])).code).toBe(0);
    const created = JSON.parse(
      (await daemon.bc(['key', 'create', '--name', 'load', '--json'])).stdout,
    ) as KeyCreated;

    const received: Received[] = [];
    let stop = false;
    const workers = Array.from({ length: 16 }, async (_, w) => {
      for (let i = 0; !stop; i++)
        received.push(await fire(daemon.gatewayUrl, created.key, (w + i) % 2 === 0));
    });
    await new Promise((r) => setTimeout(r, 1500));
    daemon.kill('SIGKILL');
    stop = true;
    await Promise.all(workers);

    const done = received.filter((r) => r.complete);
    expect(done.length).toBeGreaterThan(20);

    const restarted = await daemon.bc(['start'], { timeoutMs: 60_000 });
    expect(restarted.code, restarted.stderr).toBe(0);
    const logs = JSON.parse((await daemon.bc(['logs', '--json', '--limit', '10000'])).stdout) as LogRow[];
    const ids = new Set(logs.map((l) => l.request_id));
    const missing = done.filter((r) => !ids.has(r.requestId));
    expect(missing).toEqual([]);
    const key = JSON.parse((await daemon.bc(['key', 'show', 'load', '--json'])).stdout) as KeyView;
    const sum = logs.filter((l) => l.key === 'load').reduce((n, l) => n + (l.cost ?? 0), 0);
    expect(key.spent).toBe(sum);
    expect(sum).toBeGreaterThan(0);
  }, 90_000);
});
