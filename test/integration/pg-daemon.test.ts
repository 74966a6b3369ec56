/**
 * A real daemon on PostgreSQL (BC_DB=postgres://, SPEC section 9) through the real `bc` binary:
 * the store it reports, a user whose $1 covers exactly 10 of 20 concurrent requests of worst case
 * $0.10 with the ledger invariant after it, SIGKILL under load losing no settled request or spend,
 * and a second daemon on the same database refused with the reason.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openaiChannelArgs } from '../support/cli.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { runBc } from '../support/cli.js';
import { startOpenAISim, type OpenAISim } from '../support/sim/openai-sim.js';
import { freshPgDatabase } from '../support/stores.js';
import type { KeyCreated, KeyView, LogRow, StatusView } from '../../src/shared/control-api.js';
import type { LedgerRowView, UserView } from '../../src/shared/tenant-api.js';

let daemon: TestDaemon;
let sim: OpenAISim;
let url: string;

const json = <T>(r: { code: number; stdout: string; stderr: string }): T => {
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
};

beforeAll(async () => {
  sim = await startOpenAISim();
  url = await freshPgDatabase();
  daemon = await startTestDaemon({ env: { BC_DB: url } });
  expect(
    (await daemon.bc(openaiChannelArgs('sim', 'sk-up-0000000000', 'm', '--base-url', sim.url))).code,
  ).toBe(0);
  // input free, output $100 per 1M tokens: max_tokens 1000 is a worst case of $0.10
  expect((await daemon.bc(['price', 'set', 'm', '--input', '0', '--output', '100'])).code).toBe(0);
}, 60_000);

afterAll(async () => {
  await daemon?.cleanup();
  await sim?.close();
});

function request(
  key: string,
  body: Record<string, unknown>,
): Promise<{ status: number; requestId: string; complete: boolean }> {
  return new Promise((resolve) => {
    const req = http.request(`${daemon.gatewayUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      const done = () =>
        resolve({
          status: res.statusCode ?? 0,
          requestId: String(res.headers['x-request-id'] ?? ''),
          complete:
            res.statusCode === 200 && (body.stream ? text.includes('data: [DONE]') : text.endsWith('}')),
        });
      res.on('end', done);
      res.on('error', done);
    });
    req.on('error', () => resolve({ status: 0, requestId: '', complete: false }));
    req.end(JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }], ...body }));
  });
}

describe('a daemon on PostgreSQL', () => {
  it('reports its store and refuses a second daemon on the same database', async () => {
    const status = json<StatusView>(await daemon.bc(['status', '--json']));
    expect(status.store).toBe(url);
    const second = await runBc(['start'], {
      env: { BC_DB: url, BC_LISTEN: '127.0.0.1:0' },
      timeoutMs: 60_000,
    });
    expect(second.code).not.toBe(0);
    expect(second.stderr).toMatch(/another BurnCloud daemon is using .*one daemon per database/);
  });

  it('admits exactly what a user balance covers under concurrency, ledger invariant kept', async () => {
    json(await daemon.bc(['user', 'create', '--name', 'ann', '--balance', '1', '--json']));
    const k = json<KeyCreated>(
      await daemon.bc(['key', 'create', '--name', 'k', '--user', 'ann', '--strict-budget', '--json']),
    );
    expect((await request(k.key, { max_tokens: 10 })).status).toBe(200);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        request(k.key, {
          stream: true,
          max_tokens: 1000,
          metadata: { 'x-sim-pace-ms': '150', 'x-sim-deltas': '7' },
        }),
      ),
    );
    // the warm-up spent a little of the $1, so exactly 9 of the $0.10 worst cases fit
    expect(answers.filter((a) => a.status === 200).length).toBe(9);
    expect(answers.filter((a) => a.status === 403).length).toBe(11);
    const u = json<UserView>(await daemon.bc(['user', 'show', 'ann', '--json']));
    const ledger = json<LedgerRowView[]>(await daemon.bc(['user', 'ledger', 'ann', '--json']));
    const rows = json<LogRow[]>(await daemon.bc(['logs', '--user', 'ann', '--json', '--limit', '1000']));
    const cost = rows.reduce((n, r) => n + (r.cost ?? 0), 0);
    expect(u.spent).toBe(cost);
    expect(u.balance).toBe(ledger.reduce((n, r) => n + r.amount, 0) - u.spent);
    expect(u.balance).toBeGreaterThanOrEqual(0);
  }, 60_000);

  it('loses no settled request and no spend to SIGKILL under load', async () => {
    const key = json<KeyCreated>(await daemon.bc(['key', 'create', '--name', 'load', '--json']));
    const received: { requestId: string; complete: boolean }[] = [];
    let stop = false;
    const workers = Array.from({ length: 12 }, async (_, w) => {
      for (let i = 0; !stop; i++)
        received.push(
          await request(key.key, {
            stream: (w + i) % 2 === 0,
            metadata: { 'x-sim-deltas': '6', 'x-sim-pace-ms': '5' },
          }),
        );
    });
    await new Promise((r) => setTimeout(r, 1500));
    daemon.kill('SIGKILL');
    stop = true;
    await Promise.all(workers);
    const done = received.filter((r) => r.complete);
    expect(done.length).toBeGreaterThan(20);
    const restarted = await daemon.bc(['start'], { timeoutMs: 60_000 });
    expect(restarted.code, restarted.stderr).toBe(0);
    const logs = json<LogRow[]>(await daemon.bc(['logs', '--key', 'load', '--json', '--limit', '10000']));
    const ids = new Set(logs.map((l) => l.request_id));
    expect(done.filter((r) => !ids.has(r.requestId))).toEqual([]);
    const k = json<KeyView>(await daemon.bc(['key', 'show', 'load', '--json']));
    expect(k.spent).toBe(logs.reduce((n, l) => n + (l.cost ?? 0), 0));
    expect(k.spent).toBeGreaterThan(0);
  }, 120_000);
});
